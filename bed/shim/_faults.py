"""Fault specs: what can go wrong on purpose, parsed from a header, a model name or the queue.

A spec is ``;``-separated ``key=value`` items (a bare ``hang`` or ``malformed`` is a flag):

    status=429;retry_after=2     answer with that status (and a Retry-After header)
    latency_ms=250               wait before answering
    ttft_ms=100;token_ms=20      time to first token and per-token delay of a stream
    cut_after=3                  end a stream after N chunks, without [DONE]
    hang                         never answer (until the client gives up)
    malformed                    answer 200 with a body that is not JSON
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from typing import Any

FAULT_HEADER = "x-bed-fault"
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
        self._items: collections.deque[_Queued] = collections.deque(maxlen=limit)
        self._lock = threading.Lock()

    def push(self, fault: Fault, times: int, model: str | None = None, contains: str | None = None) -> None:
        with self._lock:
            self._items.append(_Queued(fault, times, model, contains))

    def take(self, model: str | None, body_text: str = "") -> Fault | None:
        with self._lock:
            for item in self._items:
                if item.matches(model, body_text):
                    item.left -= 1
                    if item.left <= 0:
                        self._items.remove(item)
                    return item.fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def split_model(model: str) -> tuple[str, str | None]:
    """``"group~status=429"`` -> ``("group", "status=429")``."""
    name, sep, spec = model.partition(MODEL_MARKER)
    return name, (spec if sep else None)
