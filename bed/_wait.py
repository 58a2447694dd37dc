"""Bounded, state-aware health waits.

A wait polls two things each round: the container's state (through the engine) and its
health URL (over HTTP). It ends as soon as the URL answers 2xx, and also as soon as the
container has exited, died or been OOM-killed, so a crash is reported within about one
poll interval instead of after the whole budget. Only an explicit set of transient errors
is retried.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Protocol

import httpx
import tenacity

from ._errors import StackError

POLL_S = 0.1
LOG_TAIL_LINES = 15


class Watched(Protocol):
    """What a wait needs of a container: its state and its last log lines."""

    name: str

    def state(self) -> dict[str, object]: ...

    def log_tail(self, lines: int) -> str: ...


@dataclasses.dataclass
class _Seen:
    state: str = "created"
    error: str = "no answer yet"


class _NotReady(Exception):
    """Transient: the container runs but its health URL does not answer 2xx yet."""


TRANSIENT = (_NotReady,)


def wait_healthy(target: Watched, url: str, budget_s: float, *, poll_s: float = POLL_S,
                 client: httpx.Client | None = None, cancel: threading.Event | None = None) -> float:
    """Seconds until ``url`` answered 2xx; StackError when the container stops or time is up.

    ``cancel``: set by the owner when the run is being torn down; the wait ends at once.
    """
    cancel = cancel or threading.Event()
    started = time.monotonic()
    seen = _Seen()
    http = client or httpx.Client(timeout=httpx.Timeout(2.0, connect=0.5))

    def probe() -> None:
        if cancel.is_set():
            raise StackError(f"the wait for {target.name} was cancelled: the run is shutting down.")
        state = target.state()
        seen.state = describe(state)
        if state.get("Status") in ("exited", "dead") or state.get("OOMKilled"):
            raise _stopped(target, state, time.monotonic() - started)
        if state.get("Status") == "paused":
            seen.error = "the container is paused"
            raise _NotReady(seen.error)
        try:
            response = http.get(url)
        except httpx.TransportError as exc:
            seen.error = f"{type(exc).__name__}: {exc}"[:200]
            raise _NotReady(seen.error) from exc
        if not 200 <= response.status_code < 300:
            seen.error = f"HTTP {response.status_code}"
            raise _NotReady(seen.error)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(TRANSIENT),
        stop=tenacity.stop_after_delay(budget_s) | tenacity.stop_when_event_set(cancel),
        wait=tenacity.wait_fixed(poll_s),
        reraise=True,
    )
    try:
        retrying(probe)
    except _NotReady:
        if cancel.is_set():
            raise StackError(f"the wait for {target.name} was cancelled: the run is shutting down.") from None
        waited = time.monotonic() - started
        raise StackError(
            f"{target.name} was not healthy at {url} within {budget_s:.0f} s "
            f"(waited {waited:.1f} s; last state: {seen.state}; last answer: {seen.error}).",
            hint=_hint(seen.state),
            details=target.log_tail(LOG_TAIL_LINES),
        ) from None
    finally:
        if client is None:
            http.close()
    return time.monotonic() - started


def _stopped(target: Watched, state: dict[str, object], waited: float) -> StackError:
    code = state.get("ExitCode")
    oom = " (OOM-killed: raise its memory limit)" if state.get("OOMKilled") else ""
    return StackError(
        f"{target.name} stopped before it was healthy: {state.get('Status')}, exit code {code}{oom}, "
        f"after {waited:.1f} s.",
        hint="its last log lines are below; `bed doctor` checks the images and the engine.",
        details=target.log_tail(LOG_TAIL_LINES),
    )


def describe(state: dict[str, object]) -> str:
    """A container state as a user reads it: "exited (code 137, OOM-killed)", "paused"."""
    status = str(state.get("Status", "unknown"))
    if status in ("exited", "dead"):
        status += f" (code {state.get('ExitCode')}{', OOM-killed' if state.get('OOMKilled') else ''})"
    health = state.get("Health")
    if isinstance(health, dict) and health.get("Status"):
        status += f", health {health['Status']}"
    return status


def _hint(state: str) -> str:
    if "paused" in state:
        return "the container is paused (docker unpause it), or something froze it."
    return ("it runs but does not answer: read its log lines below; raise BED_WAIT_TIMEOUT "
            "if this machine is just slow.")
