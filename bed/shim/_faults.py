"""Fault specs: what can go wrong on purpose, and how it is played on every surface alike.

A spec is ``;``-separated ``key=value`` items (a bare ``hang`` or ``malformed`` is a flag):

    status=429;retry_after=2     answer with that status (and a Retry-After header), in the
                                 error shape of the surface (OpenAI, Anthropic or Gemini)
    latency_ms=250               wait before answering
    ttft_ms=100;token_ms=20      time to first event and delay between events of a stream
    cut_after=3                  end a stream after N events, without its terminal event
                                 ([DONE], response.completed, message_stop, Gemini's last chunk)
    hang                         never answer (until the client gives up)
    malformed                    answer 200 with a body that is not JSON (a stream: one SSE
                                 event whose data is not JSON)

Faults come from the ``x-bed-fault`` header, a model name ``group~SPEC``, or the queue
(``POST /_bed/faults``), in that order.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import threading
from collections.abc import Callable, Sequence
from typing import Any

from ._http import SSE, Headers, HttpError, Send, dumps, send_raw, start_stream, stream_chunk

FAULT_HEADER = b"x-bed-fault"
MODEL_MARKER = "~"  # "codex-agent-1~status=503" carries a fault in the model name


class FaultSpecError(ValueError):
    """A fault spec that does not parse; the shim answers 400 with this message."""


@dataclasses.dataclass(frozen=True)
class Fault:
    status: int | None = None
    retry_after: float | None = None
    latency_ms: int = 0
    ttft_ms: int = 0
    token_ms: int = 0
    cut_after: int | None = None
    hang: bool = False
    malformed: bool = False

    @classmethod
    def parse(cls, spec: str) -> Fault:
        values: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in spec.split(";"))):
            key, sep, value = item.partition("=")
            key = key.strip()
            if key in ("hang", "malformed") and not sep:
                values[key] = True
                continue
            try:
                if key == "status":
                    values[key] = int(value)
                elif key == "retry_after":
                    values[key] = float(value)
                elif key in ("latency_ms", "ttft_ms", "token_ms", "cut_after"):
                    values[key] = int(value)
                else:
                    raise FaultSpecError(f"unknown fault {key!r} in {spec!r}")
            except ValueError as exc:
                if isinstance(exc, FaultSpecError):
                    raise
                raise FaultSpecError(f"fault {key!r} needs a number, got {value!r}") from None
        status = values.get("status")
        if status is not None and not 100 <= status <= 599:
            raise FaultSpecError(f"status must be an HTTP status code, got {status}")
        return cls(**values)


NO_FAULT = Fault()


@dataclasses.dataclass
class _Queued:
    fault: Fault
    left: int
    model: str | None  # only requests for this model
    contains: str | None  # only requests whose body contains this text (a test's own marker)

    def matches(self, model: str | None, body_text: str) -> bool:
        return (self.model is None or self.model == model) and (self.contains is None or self.contains in body_text)


class FaultQueue:
    """Faults queued through the admin API, consumed by the next matching requests.

    Bounded: at most ``limit`` entries, the oldest dropped first.
    """

    def __init__(self, limit: int = 1000) -> None:
        # Truthy while faults wait: the one cheap check on the hot path.
        self.pending: collections.deque[_Queued] = collections.deque(maxlen=limit)
        self._lock = threading.Lock()

    def push(self, fault: Fault, times: int, model: str | None = None, contains: str | None = None) -> None:
        with self._lock:
            self.pending.append(_Queued(fault, times, model, contains))

    def take(self, model: str | None, body_text: str = "") -> Fault | None:
        with self._lock:
            for item in self.pending:
                if item.matches(model, body_text):
                    item.left -= 1
                    if item.left <= 0:
                        self.pending.remove(item)
                    return item.fault
        return None

    def clear(self) -> None:
        with self._lock:
            self.pending.clear()

    def __len__(self) -> int:
        return len(self.pending)


def split_model(model: str) -> tuple[str, str | None]:
    """``"group~status=429"`` -> ``("group", "status=429")``."""
    name, sep, spec = model.partition(MODEL_MARKER)
    return name, (spec if sep else None)


def retry_after(exc: HttpError) -> Headers:
    """The plain ``Retry-After`` header of an error that names a delay: the agent surfaces' way."""
    return [(b"retry-after", f"{exc.retry_after:g}".encode())] if exc.retry_after is not None else []


async def play_before(fault: Fault, send: Send, error: Callable[[HttpError], Any], stream: bool,
                      headers: Callable[[HttpError], Headers] = retry_after) -> bool:
    """Play the parts of a fault that happen before an answer; True when the response is done.

    ``error`` words the error body and ``headers`` its headers, each in the shape of the surface
    or provider twin the request was for (a twin's 429 carries that provider's retry headers)."""
    if fault.hang:
        await asyncio.Event().wait()  # until the client disconnects and the server cancels us
    if fault.latency_ms:
        await asyncio.sleep(fault.latency_ms / 1000)
    if fault.status is not None and fault.status >= 400:
        exc = HttpError(fault.status, f"injected fault: status {fault.status}", "injected_fault",
                        retry_after=fault.retry_after)
        await send_raw(send, fault.status, dumps(error(exc)), headers=headers(exc))
        return True
    if fault.malformed:
        if stream:
            await start_stream(send)
            await stream_chunk(send, b"data: {not json\n\n", more=False)
        else:
            await send_raw(send, 200, b"{not json")
        return True
    return False


async def play_stream(send: Send, frames: Sequence[bytes], terminal: Sequence[bytes], fault: Fault,
                      content_type: bytes = SSE) -> None:
    """Send a stream's events with the fault's timing; a cut stream never sends ``terminal``."""
    await start_stream(send, content_type)
    if fault.ttft_ms:
        await asyncio.sleep(fault.ttft_ms / 1000)
    cut = fault.cut_after is not None
    shown = frames[: fault.cut_after] if cut else [*frames, *terminal]
    if not fault.token_ms:
        # One write: the events are ready, and a client reads them as separate lines anyway.
        await stream_chunk(send, b"".join(shown), more=False)
        return
    for i, frame in enumerate(shown):
        if i:
            await asyncio.sleep(fault.token_ms / 1000)
        await stream_chunk(send, frame)
    await stream_chunk(send, b"", more=False)
