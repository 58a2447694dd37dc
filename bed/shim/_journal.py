"""The request journal: a bounded record of what the shim was sent, for tests to assert on.

Recording is cheap on the hot path (raw bytes and raw headers are kept); parsing and
credential masking happen when the journal is read. Credentials are shown as present, never
by value: the usual auth headers (OpenAI, Azure, Anthropic, Gemini), a ``key=`` query
parameter (Gemini's other way to pass a key) and the signed ``assertion`` (or a secret) of a
form-encoded token request (the Vertex twin's token exchange).

An entry may carry a note the pipeline fills in after recording it: ``twin`` (the provider twin
the request was for) and ``refused`` (``{"status": ..., "why": ...}``: the request was answered
with an error, and why), so a failing test can show the request a twin refused and the reason.
"""

from __future__ import annotations

import collections
import json
import re
import threading
import time
from typing import Any

REDACTED = "<redacted>"
_HIDDEN_HEADERS = frozenset({"authorization", "api-key", "x-api-key", "x-goog-api-key", "proxy-authorization",
                             "cookie"})
_KEY_PARAM = re.compile(r"(^|&)(key|api_key|api-key)=[^&]*")
_FORM_SECRET = re.compile(r"(^|&)(assertion|client_secret|refresh_token|subject_token)=[^&]*")
Note = dict[str, Any]  # what the pipeline adds to an entry after recording it (twin, refused)


class Journal:
    def __init__(self, limit: int = 2000) -> None:
        # Tuples of (seq, time, method, path, query, headers, body, note): the cheapest thing to keep.
        self._entries: collections.deque[tuple[Any, ...]] = collections.deque(maxlen=limit)
        self._lock = threading.Lock()
        self._seq = 0

    def record(self, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes,
               query: bytes = b"", **note: Any) -> Note:
        """Keep one request; returns its note, which the caller may still fill in."""
        with self._lock:
            self._seq += 1
            self._entries.append((self._seq, time.time(), method, path, query, headers, body, note))
        return note

    def entries(self, contains: bytes | None = None) -> list[dict[str, Any]]:
        """Every entry, oldest first; ``contains``: only those whose raw body holds it (a test's
        marker: parsing every body of a long journal to find its own two was most of the cost)."""
        with self._lock:
            raw = [e for e in self._entries if contains is None or contains in e[6]]
        return [{"seq": seq, "time": when, "method": method, "path": path, "query": _query(query),
                 "headers": _shown(headers), "body": _parsed(body), **note}
                for seq, when, method, path, query, headers, body, note in raw]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _shown(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    out = {}
    for key, value in headers:
        name = key.decode("latin-1").lower()
        out[name] = REDACTED if name in _HIDDEN_HEADERS else value.decode("latin-1")
    return out


def _query(query: bytes) -> str:
    return _KEY_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}={REDACTED}", query.decode("latin-1"))


def _parsed(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        text = body.decode("utf-8", "replace")
        return _FORM_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}={REDACTED}", text)
