"""The request journal: a bounded record of what the shim was sent, for tests to assert on."""

from __future__ import annotations

import collections
import threading
import time
from typing import Any

_HIDDEN_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "proxy-authorization"})


class Journal:
    def __init__(self, limit: int = 2000) -> None:
        self._entries: collections.deque[dict[str, Any]] = collections.deque(maxlen=limit)
        self._lock = threading.Lock()
        self._seq = 0

    def record(self, method: str, path: str, headers: dict[str, str], body: Any) -> None:
        # Credentials are recorded as present, never by value.
        shown = {k: ("<redacted>" if k in _HIDDEN_HEADERS else v) for k, v in headers.items()}
        with self._lock:
            self._seq += 1
            self._entries.append(
                {"seq": self._seq, "time": time.time(), "method": method, "path": path,
                 "headers": shown, "body": body}
            )

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
