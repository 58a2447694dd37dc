"""ASGI plumbing shared by every surface: reading bounded bodies, JSON, headers, sending answers.

``HttpError`` is the one way a handler refuses a request; the router renders it in the error
shape of the surface the request was for (OpenAI, Anthropic or Gemini).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

JSON = b"application/json"
SSE = b"text/event-stream"
MAX_BODY = 4 * 1024 * 1024  # bounded: a runaway client cannot make the shim hold more


class HttpError(Exception):
    """A refusal: ``kind`` is in OpenAI's vocabulary; each surface maps it to its own."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", *,
                 param: str | None = None, code: str | None = None, retry_after: float | None = None,
                 body: Any = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.param, self.code = status, message, kind, param, code
        self.retry_after = retry_after  # seconds, for a 429's retry headers and Google's RetryInfo
        self.body = body  # the whole error body, when a twin words it itself (a 422's details)


async def read_body(receive: Receive) -> bytes:
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body"):  # the usual case: the whole body in one message
        if len(body) > MAX_BODY:
            raise HttpError(413, f"request body over {MAX_BODY} bytes")
        return body
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise HttpError(413, f"request body over {MAX_BODY} bytes")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def parse_json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise HttpError(400, "request body is not JSON") from None
    if not isinstance(body, dict):
        raise HttpError(400, "request body must be a JSON object")
    return body


def header(scope: Scope, name: bytes) -> str | None:
    """The value of a request header; ``name`` in lower case, as ASGI servers deliver them."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def response_headers(body: bytes, content_type: bytes = JSON, extra: Headers | None = None) -> Headers:
    return [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *(extra or ())]


async def send_raw(send: Send, status: int, body: bytes, content_type: bytes = JSON,
                   headers: Headers | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": response_headers(body, content_type, headers)})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, payload: Any, headers: Headers | None = None) -> None:
    await send_raw(send, status, dumps(payload), JSON, headers)


async def start_stream(send: Send, content_type: bytes = SSE) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", content_type), (b"cache-control", b"no-cache")]})


async def stream_chunk(send: Send, body: bytes, more: bool = True) -> None:
    await send({"type": "http.response.body", "body": body, "more_body": more})
