"""What a provider twin is, and the checks several twins share.

A twin answers ``/twins/<name>/<the provider's own path>`` as that provider's API does, through the
shim's one pipeline (journal, answer cache, faults, scripts, the deterministic core). Its module
only says what is the provider's own:

    route(method, path)   which calls it answers: a ``Call`` (generate, count tokens, embeddings,
                          list models, or a kind of its own such as a token exchange), or None (404)
    admit(scope, raw)     credentials and version headers / query, refused as the provider refuses
    check(body, call)     the provider's request schema, tool-schema rules included
    adapt / render /      the protocol: an agent-facing surface (``bed/shim/surfaces``) is reused
    frames                wherever the provider speaks it (Chat for the OpenAI-compatible ones,
                          Messages for Anthropic, Gemini for Google's); a twin adjusts its output
    error(exc)            the provider's error body; ``error_headers`` its retry headers on a 429
    serve(call, ...)      a call kind of its own (Vertex's token exchange): status, body, headers

A ``Call`` is the surface the pipeline drives for one request: the twin speaking one protocol.
A refusal is an ``HttpError``: the pipeline notes it in the request's journal entry (``refused``)
with its status and why, and answers in the twin's error shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from .._core import Answer
from .._faults import retry_after
from .._http import SSE, Headers, HttpError, Scope, header
from ..surfaces._base import Frames, Request, Surface

GENERATE, COUNT, EMBED, MODELS = "generate", "count_tokens", "embeddings", "models"
Reply = tuple[int, Any, Headers]  # what ``serve`` answers: status, JSON body, headers


class Twin:
    """One provider's API. ``name`` is the path segment after ``/twins/`` and the journal's ``twin``;
    ``protocol`` the agent-facing surface it mostly speaks (its routing errors are worded by it)."""

    name = "twin"
    stream_type = SSE
    protocol: Surface

    def route(self, method: str, path: str) -> Call | None:
        raise NotImplementedError

    def call(self, kind: str, protocol: Surface | None = None, model: str | None = None, stream: bool = False,
             method: str = "") -> Call:
        return Call(self, kind, protocol or self.protocol, model, stream, method)

    def admit(self, scope: Scope, raw: bytes) -> None:
        """Refuse (raise ``HttpError``) missing or wrong credentials, version headers or query."""

    def check(self, body: Mapping[str, Any], call: Call) -> None:
        """Refuse a body the provider's schema refuses (raise ``HttpError``)."""

    def adapt(self, body: Mapping[str, Any], call: Call) -> Mapping[str, Any]:
        """The body as the reused protocol parses it (a deployment path's model put in, say)."""
        return body

    def render(self, call: Call, req: Request, answers: list[Answer]) -> Any:
        return call.protocol.render(req, answers)

    def frames(self, call: Call, req: Request, answers: list[Answer]) -> Frames:
        return call.protocol.frames(req, answers)

    def error(self, exc: HttpError) -> Any:
        return self.protocol.error(exc)

    def error_headers(self, exc: HttpError) -> Headers:
        return retry_after(exc)

    def count_tokens(self, call: Call, req: Request) -> Any:
        return {"input_tokens": req.conv.input_tokens()}

    def listing(self, call: Call, models: tuple[str, ...], wanted: str) -> Any:
        """``GET`` of the provider's model list (or of one model: a twin serves any model)."""
        data = [{"id": m, "object": "model", "created": 0, "owned_by": self.name} for m in models]
        return {"id": wanted, "object": "model", "created": 0, "owned_by": self.name} if wanted else \
            {"object": "list", "data": data}

    def serve(self, call: Call, scope: Scope, raw: bytes) -> Reply:
        raise HttpError(404, f"the {self.name} twin does not answer {call.kind}", "not_found_error")


class Call(Surface):
    """One request to a twin: what it asks for, and the surface the shim's pipeline drives for it."""

    def __init__(self, twin: Twin, kind: str, protocol: Surface, model: str | None = None, stream: bool = False,
                 method: str = "") -> None:
        self.owner, self.kind, self.protocol, self.model, self.stream = twin, kind, protocol, model, stream
        self.method = method  # Gemini's method after the colon (countTokens, embedContent, ...)
        self.name, self.twin, self.stream_type = protocol.name, twin.name, twin.stream_type

    def admit(self, scope: Scope, raw: bytes) -> None:
        self.owner.admit(scope, raw)

    def parse(self, body: Mapping[str, Any], path_model: str | None, path_stream: bool) -> Request:
        self.owner.check(body, self)
        return self.protocol.parse(self.owner.adapt(body, self), path_model, path_stream)

    def render(self, req: Request, answers: list[Answer]) -> Any:
        return self.owner.render(self, req, answers)

    def frames(self, req: Request, answers: list[Answer]) -> Frames:
        return self.owner.frames(self, req, answers)

    def error(self, exc: HttpError) -> Any:
        return self.owner.error(exc)

    def error_headers(self, exc: HttpError) -> Headers:
        return self.owner.error_headers(exc)


# --- checks several twins share ---------------------------------------------------------------------


def refuse(status: int, message: str, kind: str = "invalid_request_error", *, param: str | None = None,
           code: str | None = None, body: Any = None) -> HttpError:
    return HttpError(status, message, kind, param=param, code=code, body=body)


def bearer(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer`` header, when there is a non-empty one."""
    value = header(scope, b"authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def query(scope: Scope) -> dict[str, str]:
    """The query string's parameters (the last value of each)."""
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))


def unknown(body: Mapping[str, Any], known: Iterable[str]) -> list[str]:
    """The keys of ``body`` that are not in ``known``, in the body's order."""
    allowed = set(known)
    return [k for k in body if k not in allowed]


def number(body: Mapping[str, Any], name: str, low: float, high: float) -> str | None:
    """Why ``body[name]`` is not a number within [low, high], or None when it is (or is absent)."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{name} must be a number"
    if not low <= value <= high:
        return f"{name} must be from {low:g} to {high:g}, got {value:g}"
    return None


NAME_64 = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def ratelimit_reset(seconds: float) -> str:
    """OpenAI's way of writing a reset delay in ``x-ratelimit-reset-*``: "1s", "6m0s", "20ms"."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:g}s" if minutes else f"{rest:g}s"
