"""Health waits against small fakes on the Watched seam and an httpx mock transport."""

from __future__ import annotations

import time

import httpx
import pytest

from bed._errors import StackError
from bed._wait import wait_healthy


class FakeContainer:
    def __init__(self, states: list[dict[str, object]]) -> None:
        self.name = "bed-test-shim"
        self._states = states

    def state(self) -> dict[str, object]:
        return self._states.pop(0) if len(self._states) > 1 else self._states[0]

    def log_tail(self, lines: int) -> str:
        return "Traceback: boom\nSystemExit: 3"


def _http(statuses: list[int | None]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        if status is None:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(status)

    return httpx.Client(transport=httpx.MockTransport(handler))


RUNNING = {"Status": "running"}


def test_ready_after_transient_refusals() -> None:
    waited = wait_healthy(FakeContainer([RUNNING]), "http://x/health", 5, poll_s=0.01,
                          client=_http([None, None, 503, 200]))
    assert waited < 2


def test_exit_ends_the_wait_at_once_with_code_and_logs() -> None:
    started = time.monotonic()
    target = FakeContainer([RUNNING, {"Status": "exited", "ExitCode": 3}])
    with pytest.raises(StackError) as caught:
        wait_healthy(target, "http://x/health", 120, poll_s=0.05, client=_http([None]))
    assert time.monotonic() - started < 2  # not the 120 s budget
    line = caught.value.line()
    assert "bed-test-shim stopped before it was healthy" in line
    assert "exit code 3" in line
    assert "Hint:" in line
    assert "SystemExit: 3" in caught.value.details


def test_oom_kill_is_named() -> None:
    with pytest.raises(StackError, match="OOM-killed"):
        wait_healthy(FakeContainer([{"Status": "exited", "ExitCode": 137, "OOMKilled": True}]), "http://x", 5,
                     client=_http([None]))


def test_budget_runs_out_with_last_state_and_answer() -> None:
    started = time.monotonic()
    with pytest.raises(StackError) as caught:
        wait_healthy(FakeContainer([RUNNING]), "http://x/health", 0.3, poll_s=0.05, client=_http([500]))
    assert 0.3 <= time.monotonic() - started < 2
    line = caught.value.line()
    assert "not healthy at http://x/health within 0 s" in line
    assert "last state: running" in line
    assert "HTTP 500" in line


def test_paused_container_is_reported_as_paused() -> None:
    with pytest.raises(StackError) as caught:
        wait_healthy(FakeContainer([{"Status": "paused"}]), "http://x", 0.2, poll_s=0.05, client=_http([200]))
    assert "paused" in caught.value.line()
    assert "unpause" in (caught.value.hint or "")


def test_unexpected_errors_are_not_retried() -> None:
    class Broken(FakeContainer):
        def state(self) -> dict[str, object]:
            raise RuntimeError("engine exploded")

    with pytest.raises(RuntimeError):
        wait_healthy(Broken([RUNNING]), "http://x", 5, client=_http([200]))


def test_cancel_ends_a_wait_within_a_poll() -> None:
    import threading

    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(StackError, match="cancelled"):
        wait_healthy(FakeContainer([RUNNING]), "http://x", 60, poll_s=0.05, client=_http([None]), cancel=cancel)
    assert time.monotonic() - started < 1
