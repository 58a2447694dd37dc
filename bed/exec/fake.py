"""An in-memory Exec for unit tests: canned answers by argv prefix, and a record of every call."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ..errors import BedError
from ._adapter import Done, Failed


class FakeExec:
    def __init__(self, answers: Mapping[tuple[str, ...], Done | Callable[[Sequence[str]], Done]] | None = None) -> None:
        self.answers = dict(answers or {})
        self.calls: list[tuple[str, ...]] = []
        self.stdin: list[bytes | None] = []

    def _answer(self, argv: Sequence[str]) -> Done:
        argv = tuple(argv)
        self.calls.append(argv)
        for prefix in sorted(self.answers, key=len, reverse=True):
            if argv[: len(prefix)] == prefix:
                answer = self.answers[prefix]
                return answer(argv) if callable(answer) else answer
        return Done(argv, 127, b"", f"{argv[0]}: not faked".encode())

    def capture(self, argv: Sequence[str], *, stdin: bytes | None = None, cwd: Path | None = None,
                env: Mapping[str, str] | None = None, timeout: float | None = 120.0, ok: Sequence[int] | None = (0,),
                error: type[BedError] = Failed, hint: str = "") -> Done:
        self.stdin.append(stdin)
        done = self._answer(argv)
        if ok is not None and done.returncode not in ok:
            raise error(f"`{' '.join(argv)}` exited {done.returncode}: {done.tail(1)}", hint=hint, details=done.tail())
        return done

    def stream(self, argv: Sequence[str], line: Callable[[str], None], *, cwd: Path | None = None,
               env: Mapping[str, str] | None = None, timeout: float | None = 600.0, ok: Sequence[int] | None = (0,),
               error: type[BedError] = Failed, hint: str = "") -> Done:
        done = self._answer(argv)
        for text in (done.stdout + done.stderr).decode().splitlines():
            line(text)
        if ok is not None and done.returncode not in ok:
            raise error(f"`{' '.join(argv)}` exited {done.returncode}: {done.tail(1)}", hint=hint, details=done.tail())
        return done
