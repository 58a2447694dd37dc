"""The Exec seam and its subprocess adapter (see the package's docstring)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from ..errors import BedError

TAIL_LINES = 20


class Failed(BedError):
    """A process that did not do its job, for a caller that can do without it."""

    kind = "EXEC_FAILED"


@dataclasses.dataclass(frozen=True)
class Done:
    argv: tuple[str, ...]
    returncode: int
    stdout: bytes = b""
    stderr: bytes = b""

    def tail(self, lines: int = TAIL_LINES) -> str:
        text = (self.stdout + b"\n" + self.stderr).decode("utf-8", "replace")
        return "\n".join([ln for ln in text.splitlines() if ln.strip()][-lines:])


class Exec(Protocol):
    def capture(self, argv: Sequence[str], *, stdin: bytes | None = None, cwd: Path | None = None,
                env: Mapping[str, str] | None = None, timeout: float | None = 120.0, ok: Sequence[int] | None = (0,),
                error: type[BedError] = Failed, hint: str = "") -> Done:
        """Run to the end with its output captured (for output bed reads)."""
        ...

    def stream(self, argv: Sequence[str], line: Callable[[str], None], *, cwd: Path | None = None,
               env: Mapping[str, str] | None = None, timeout: float | None = 600.0, ok: Sequence[int] | None = (0,),
               error: type[BedError] = Failed, hint: str = "") -> Done:
        """Run to the end, each output line handed to ``line`` as it comes (for long work a person watches)."""
        ...


class Local:
    """Processes on this machine."""

    def capture(self, argv: Sequence[str], *, stdin: bytes | None = None, cwd: Path | None = None,
                env: Mapping[str, str] | None = None, timeout: float | None = 120.0, ok: Sequence[int] | None = (0,),
                error: type[BedError] = Failed, hint: str = "") -> Done:
        argv = tuple(argv)
        try:
            done = subprocess.run(argv, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                                  capture_output=True, cwd=cwd, env=_env(env), timeout=timeout, check=False)
        except FileNotFoundError:
            raise error(f"{argv[0]} is not installed here.", hint=hint or f"install {argv[0]}.") from None
        except subprocess.TimeoutExpired:
            raise error(f"`{_shown(argv)}` did not finish within {timeout:g} s.", hint=hint) from None
        except OSError as exc:
            raise error(f"`{_shown(argv)}` could not start: {exc.strerror}.", hint=hint) from None
        result = Done(argv, done.returncode, done.stdout, done.stderr)
        return _checked(result, ok, error, hint)

    def stream(self, argv: Sequence[str], line: Callable[[str], None], *, cwd: Path | None = None,
               env: Mapping[str, str] | None = None, timeout: float | None = 600.0, ok: Sequence[int] | None = (0,),
               error: type[BedError] = Failed, hint: str = "") -> Done:
        argv = tuple(argv)
        try:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, cwd=cwd, env=_env(env))
        except FileNotFoundError:
            raise error(f"{argv[0]} is not installed here.", hint=hint or f"install {argv[0]}.") from None
        except OSError as exc:
            raise error(f"`{_shown(argv)}` could not start: {exc.strerror}.", hint=hint) from None
        seen: list[bytes] = []
        assert process.stdout is not None
        with process:
            for raw in process.stdout:
                seen = [*seen[-TAIL_LINES:], raw]
                line(raw.decode("utf-8", "replace").rstrip())
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                raise error(f"`{_shown(argv)}` did not finish within {timeout:g} s.", hint=hint) from None
        return _checked(Done(argv, code, b"".join(seen)), ok, error, hint)


def _checked(done: Done, ok: Sequence[int] | None, error: type[BedError], hint: str) -> Done:
    if ok is None or done.returncode in ok:
        return done
    last = done.tail(1) or "(no output)"
    raise error(f"`{_shown(done.argv)}` exited {done.returncode}: {last[:300]}", hint=hint, details=done.tail())


def _env(env: Mapping[str, str] | None) -> dict[str, str] | None:
    return None if env is None else {**os.environ, **env}


def _shown(argv: Sequence[str]) -> str:
    text = " ".join(argv)
    return text if len(text) <= 120 else text[:117] + "..."
