"""The two places a tier's pytest session runs, behind one small interface.

    Fresh   a runner container of its own, made for the session and removed with the run
    Warm    a session forked in a kept stack's warm runner (``bed_warm``), through ``docker exec``

Both stream the session's output, wait for it within a budget, stop it, and read back the files
it left (its records). The tier code (``bed.tiers.run``) does not know which it has.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Protocol

import tenacity

from ..engine.protocol import Engine, State
from ..model.containers import VENV_PYTHON
from ..stack import warm
from ..stack.owner import Service
from ..text import LineCutter, cut_lines

EXIT_SETTLE_S = 5.0  # after its output ended, how long the engine may take to report an exec's exit code


class Session(Protocol):
    def output(self) -> Iterator[bytes]: ...

    def wait(self, timeout: float | None) -> int | None:
        """Its exit code; None when ``timeout`` passed first."""
        ...

    def stop(self) -> None: ...

    def read(self, path: str) -> bytes | None: ...

    def state(self) -> State: ...

    def tail(self, lines: int) -> str: ...


class Fresh:
    """A runner container of its own: the container's life is the session's."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.engine = service.engine

    def output(self) -> Iterator[bytes]:
        return self.engine.follow(self.service.id)

    def wait(self, timeout: float | None) -> int | None:
        return self.engine.wait(self.service.id, timeout)

    def stop(self) -> None:
        self.engine.kill(self.service.id)

    def read(self, path: str) -> bytes | None:
        return self.engine.read_file(self.service.id, path)

    def state(self) -> State:
        return self.engine.state(self.service.id)

    def tail(self, lines: int) -> str:
        return cut_lines(self.engine.logs(self.service.id, lines))


class Warm:
    """A session forked in a warm runner; ``token`` names it there (its folder, its stop)."""

    def __init__(self, runner: Service, exec_id: str, token: str) -> None:
        self.runner, self.exec_id, self.token = runner, exec_id, token
        self.engine: Engine = runner.engine
        self._ended = threading.Event()
        self._lines: list[str] = []
        self._cutter = LineCutter()  # the tail's lines, each bounded: a 50 MB line is not kept whole

    @classmethod
    def start(cls, runner: Service, token: str, argv: list[str], env: dict[str, str], workdir: str | None) -> Warm:
        """``argv``: the pytest arguments (what follows ``python -m pytest``)."""
        command = [VENV_PYTHON, "-m", "bed_warm", "run", warm.SOCKET, token, "--", *argv]
        return cls(runner, runner.engine.exec_create(runner.id, command, env, workdir), token)

    def output(self) -> Iterator[bytes]:
        try:
            for chunk in self.engine.exec_follow(self.exec_id):
                self._keep(self._cutter.feed(chunk))
                yield chunk
        finally:
            self._keep(self._cutter.end())
            self._ended.set()

    def _keep(self, lines: list[bytes]) -> None:
        self._lines = (self._lines + [line.decode("utf-8", "replace") for line in lines])[-200:]

    def wait(self, timeout: float | None) -> int | None:
        if not self._ended.wait(timeout):
            return None
        # the exit code, asked again (tenacity, bounded) while the engine has none and the runner runs
        code = tenacity.Retrying(
            retry=tenacity.retry_if_result(lambda found: found is None and self.runner.state().status == "running"),
            stop=tenacity.stop_after_delay(EXIT_SETTLE_S), wait=tenacity.wait_fixed(0.02),
            retry_error_callback=lambda _: None)(self.engine.exec_exit, self.exec_id)
        if code is None:  # the warm runner itself went (OOM-killed, removed): the session with it
            state = self.runner.state()
            return state.exit_code if state.exit_code is not None else 137
        return code

    def stop(self) -> None:
        self.engine.exec(self.runner.id, [VENV_PYTHON, "-m", "bed_warm", "stop", self.token])

    def read(self, path: str) -> bytes | None:
        return self.engine.read_file(self.runner.id, path)

    def state(self) -> State:
        runner = self.runner.state()
        if runner.status != "running":
            return runner
        code = self.engine.exec_exit(self.exec_id)
        return State("exited", code) if code is not None else State("running")

    def tail(self, lines: int) -> str:
        return "\n".join(self._lines[-lines:])
