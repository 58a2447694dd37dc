"""Health waits against small fakes on the Watched and Prober seams, and the real probe script."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from bed.engine.protocol import GONE, ExecResult, State
from bed.errors import StackError
from bed.stack.wait import probe_argv, wait_healthy

RUNNING = State("running")


class Target:
    def __init__(self, states: list[State]) -> None:
        self.name = "bed-test-shim"
        self._states = states

    def state(self) -> State:
        return self._states.pop(0) if len(self._states) > 1 else self._states[0]

    def log_tail(self, lines: int) -> str:
        return "Traceback: boom\nSystemExit: 3"


def prober(answers: list[ExecResult], pause: float = 0.01):  # type: ignore[no-untyped-def]
    def probe(url: str, seconds: float) -> ExecResult:
        time.sleep(pause)
        return answers.pop(0) if len(answers) > 1 else answers[0]

    return probe


NO, OK = ExecResult(1, "ConnectionRefusedError: [Errno 111]"), ExecResult(0, "ok HTTP/1.1 200 OK")


def test_ready_after_refusals() -> None:
    assert wait_healthy(Target([RUNNING]), prober([NO, NO, ExecResult(1, "HTTP/1.1 503"), OK]), "http://x/h", 5) < 4


def test_an_exit_ends_the_wait_at_once_with_code_and_logs() -> None:
    started = time.monotonic()
    with pytest.raises(StackError) as caught:
        wait_healthy(Target([RUNNING, State("exited", 3)]), prober([NO]), "http://x/h", 120)
    assert time.monotonic() - started < 20  # not the 120 s budget (a loaded CI machine is slow)
    line = caught.value.line()
    assert "bed-test-shim stopped before it was healthy: exited, exit code 3" in line
    assert "Hint:" in line
    assert "SystemExit: 3" in caught.value.details


def test_a_removed_container_ends_the_wait_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(StackError, match="was removed while bed waited for it"):
        wait_healthy(Target([RUNNING, GONE]), prober([NO]), "http://x/h", 120)
    assert time.monotonic() - started < 20  # not the 60 or 120 s budget


def test_an_oom_kill_is_named() -> None:
    with pytest.raises(StackError, match="OOM-killed"):
        wait_healthy(Target([State("exited", 137, oom_killed=True)]), prober([NO]), "http://x", 5)


def test_the_budget_runs_out_with_last_state_answer_and_the_right_hint() -> None:
    started = time.monotonic()
    with pytest.raises(StackError) as caught:
        wait_healthy(Target([RUNNING]), prober([ExecResult(1, "HTTP/1.1 500 Internal")]), "http://x/h", 0.3)
    assert 0.3 <= time.monotonic() - started < 20  # bounded, not hung
    line = caught.value.line()
    assert "not healthy at http://x/h within 0.3 s" in line
    assert "last state: running" in line
    assert "HTTP/1.1 500" in line
    assert "raise BED_WAIT_TIMEOUT (now 0.3 s; the default is 120)" in line


def test_healthy_inside_but_not_from_the_network_says_so() -> None:
    with pytest.raises(StackError) as caught:
        wait_healthy(Target([RUNNING]), prober([NO]), "http://x/h", 0.2, inside=lambda: True)
    assert "answers inside its container, but not at http://x/h from the bed network" in caught.value.line()


def test_a_paused_container_is_reported_as_paused() -> None:
    with pytest.raises(StackError) as caught:
        wait_healthy(Target([State("paused")]), prober([OK]), "http://x", 0.2, pause_s=0.05)
    assert "paused" in caught.value.line()
    assert "unpause" in (caught.value.hint or "")


def test_cancel_ends_a_wait_within_a_slice() -> None:
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(StackError, match="cancelled"):
        wait_healthy(Target([RUNNING]), prober([NO], pause=0.05), "http://x", 60, cancel=cancel)
    assert time.monotonic() - started < 20  # not the 60 or 120 s budget


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 500)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()


@pytest.mark.parametrize(("path", "code", "says"), [("health", 0, "ok HTTP/1.0 200"), ("nope", 1, "500")])
def test_the_probe_script_really_probes(server: int, path: str, code: int, says: str) -> None:
    done = subprocess.run(probe_argv(sys.executable, f"http://127.0.0.1:{server}/{path}", 0.3), capture_output=True,
                          text=True, timeout=10, check=False)
    assert done.returncode == code
    assert says in done.stdout


def test_the_probe_script_reports_a_refusal() -> None:
    done = subprocess.run(probe_argv(sys.executable, "http://127.0.0.1:1/health", 0.2), capture_output=True, text=True,
                          timeout=10, check=False)
    assert done.returncode == 1
    assert "ConnectionRefusedError" in done.stdout


def test_only_not_answering_yet_is_retried() -> None:
    # tenacity retries only the wait's own "not yet": an engine error from the probe ends it at once
    from bed.errors import EngineError

    calls: list[str] = []

    def broken(url: str, seconds: float) -> ExecResult:
        calls.append(url)
        raise EngineError("lost the engine while trying to run a command in the probe.", hint="check it.")

    started = time.monotonic()
    with pytest.raises(EngineError):
        wait_healthy(Target([RUNNING]), broken, "http://x/h", 60)
    assert calls == ["http://x/h"]
    assert time.monotonic() - started < 20  # not the 60 or 120 s budget


def test_the_budget_is_read_on_the_wait_s_own_clock() -> None:
    now = [0.0]

    def probe(url: str, seconds: float) -> ExecResult:
        now[0] += 10.0  # each slice takes 10 s of this clock (and no real time)
        return NO

    with pytest.raises(StackError) as caught:
        wait_healthy(Target([RUNNING]), probe, "http://x/h", 35, clock=lambda: now[0])
    assert now[0] == 40.0  # four slices: 10, 20, 30 (< 35: again), 40 (>= 35: out)
    assert "within 35 s (waited 40.0 s;" in caught.value.line()
