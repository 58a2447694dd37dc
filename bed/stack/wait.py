"""Bounded, state-aware health waits, looking from inside the bed network.

A wait alternates two looks: the container's state (through the engine) and its health URL,
probed from the run's probe container on the bed network (an exec, so it works the same on a
remote engine, where published ports are not on this machine). It ends as soon as the URL
answers 2xx, and also as soon as the container has exited, been OOM-killed or removed, so a
crash is reported within a probe slice instead of after the whole budget.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Protocol

import tenacity

from ..engine.protocol import ExecResult, State
from ..errors import StackError

SLICE_S = 0.5  # one probe exec looks for this long; between slices the state is read again
LOG_TAIL_LINES = 15

# Runs with `python -S` in the probe container: a raw HTTP/1.0 GET, no imports beyond socket,
# so each slice costs milliseconds. Prints "ok <status line>", or the last problem seen.
PROBE_SCRIPT = r"""
import socket, sys, time
url, budget = sys.argv[1], float(sys.argv[2])
hostport, _, path = url.split("://", 1)[1].partition("/")
host, _, port = hostport.partition(":")
deadline = time.monotonic() + budget
last = "no answer yet"
while True:
    try:
        with socket.create_connection((host, int(port or 80)), timeout=1) as conn:
            conn.sendall(("GET /" + path + " HTTP/1.0\r\nHost: " + hostport + "\r\n\r\n").encode())
            conn.settimeout(2)
            head = conn.recv(256).split(b"\r\n", 1)[0].decode("latin-1")
        parts = head.split()
        if head.startswith("HTTP/") and len(parts) > 1 and parts[1].startswith("2"):
            print("ok " + head)
            sys.exit(0)
        last = head or "an empty answer"
    except (OSError, ValueError) as exc:
        last = type(exc).__name__ + ": " + str(exc)
    if time.monotonic() >= deadline:
        print(last)
        sys.exit(1)
    time.sleep(0.05)
"""

Prober = Callable[[str, float], ExecResult]  # (url, seconds) -> the probe's result


class Watched(Protocol):
    """What a wait needs of a container: its name, state and last log lines."""

    name: str

    def state(self) -> State: ...

    def log_tail(self, lines: int) -> str: ...


@dataclasses.dataclass
class _Seen:
    state: str = "created"
    answer: str = "no answer yet"
    paused: bool = False


class _NotYet(Exception):
    """Running, not answering yet: the one outcome a wait looks again after."""


def probe_argv(python: str, url: str, seconds: float) -> list[str]:
    return [python, "-S", "-c", PROBE_SCRIPT, url, f"{seconds:.2f}"]


def wait_healthy(target: Watched, probe: Prober, url: str, budget_s: float, *,
                 cancel: threading.Event | None = None, inside: Callable[[], bool] | None = None,
                 clock: Callable[[], float] = time.monotonic, pause_s: float = 0.1) -> float:
    """Seconds until ``url`` answered 2xx from the bed network; StackError when the container
    stops, is removed, or the budget ends first.

    ``cancel``: set by the owner when the run is being torn down; the wait ends at once.
    ``inside``: does it answer on its own loopback? Tells "not serving" from "not reachable".

    tenacity drives it: each attempt reads the state, then probes for one slice; only "not
    answering yet" is retried, until the budget (or ``cancel``) stops it; a stopped or removed
    container ends it at once with its own error.
    """
    cancel = cancel or threading.Event()
    started = clock()
    seen = _Seen()

    def look() -> float:
        if cancel.is_set():
            raise _cancelled(target)
        state = target.state()
        seen.state, seen.paused = state.describe(), state.status == "paused"
        if state.status == "removed":
            raise StackError(f"{target.name} was removed while bed waited for it.",
                             hint="something else removed it (a `bed gc` from another shell?); run again.")
        if state.ended:
            raise _stopped(target, state, clock() - started)
        if seen.paused:
            seen.answer = "the container is paused"
            raise _NotYet
        result = probe(url, max(0.0, min(SLICE_S, budget_s - (clock() - started))))
        if result.exit_code == 0:
            return clock() - started
        seen.answer = _last(result.output)
        raise _NotYet

    def gave_up(_: tenacity.RetryCallState) -> float:
        if cancel.is_set():
            raise _cancelled(target)
        raise _timed_out(target, url, budget_s, clock() - started, seen, inside)

    def pause(_: tenacity.RetryCallState) -> float:  # a probe slice is its own pause; a paused container is not
        return max(0.0, min(pause_s, budget_s - (clock() - started))) if seen.paused else 0.0

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(_NotYet),
        stop=tenacity.stop_any(tenacity.stop_when_event_set(cancel), _Budget(clock, started + budget_s)),
        wait=pause, retry_error_callback=gave_up)
    return float(retrying(look))


class _Budget(tenacity.stop.stop_base):
    """Stop at ``until`` on the wait's own clock (tenacity's stop_after_delay reads another)."""

    def __init__(self, clock: Callable[[], float], until: float) -> None:
        self.clock, self.until = clock, until

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return self.clock() >= self.until


def _cancelled(target: Watched) -> StackError:
    return StackError(f"the wait for {target.name} was cancelled: the run is shutting down.")


def _stopped(target: Watched, state: State, waited: float) -> StackError:
    oom = " (OOM-killed: raise its memory limit)" if state.oom_killed else ""
    return StackError(
        f"{target.name} stopped before it was healthy: {state.status}, exit code {state.exit_code}{oom}, "
        f"after {waited:.1f} s.",
        hint="its last log lines are below; `bed doctor` checks the images and the engine.",
        details=target.log_tail(LOG_TAIL_LINES),
    )


def _timed_out(target: Watched, url: str, budget_s: float, waited: float, seen: _Seen,
               inside: Callable[[], bool] | None) -> StackError:
    if "paused" in seen.state:
        hint = "the container is paused (docker unpause it), or something froze it."
    elif inside is not None and inside():
        return StackError(
            f"{target.name} is running and answers inside its container, but not at {url} from the bed network "
            f"(checked for {waited:.1f} s; last answer: {seen.answer}).",
            hint="the bed network cannot reach it: check the engine's networking (iptables, the bridge driver).",
            details=target.log_tail(LOG_TAIL_LINES))
    else:
        hint = (f"it runs but does not answer; read its log lines below. If this machine is just slow, raise "
                f"BED_WAIT_TIMEOUT (now {budget_s:g} s; the default is 120).")
    return StackError(
        f"{target.name} was not healthy at {url} within {budget_s:g} s "
        f"(waited {waited:.1f} s; last state: {seen.state}; last answer: {seen.answer}).",
        hint=hint, details=target.log_tail(LOG_TAIL_LINES))


def _last(output: str) -> str:
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "no answer"
