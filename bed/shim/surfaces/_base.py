"""What a surface is: a parser into the neutral form and a renderer of answers and errors.

The agent-facing surfaces admit every request (they are lenient on purpose); a provider twin
(``bed/shim/twins/``) is a surface too, one that checks a request's credentials and version
headers (``admit``) and words its errors and retry headers as its provider does."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from .._core import Answer, Conversation
from .._faults import retry_after
from .._http import SSE, Headers, HttpError, Scope

Frames = tuple[list[bytes], list[bytes]]  # a stream's events, and its terminal event(s)


@dataclasses.dataclass(slots=True)
class Request:
    """One parsed request. ``ident`` (hex, from the raw body and the seed) names its answer."""

    conv: Conversation
    stream: bool
    body: Mapping[str, Any]
    fault_spec: str | None = None  # from the model name, "group~SPEC"
    ident: str = ""
    cacheable: bool = True  # False when the answer depends on more than the raw body
    history: str = ""  # more text for script and fault markers (a stored Responses chain)
    replay: Callable[[], None] | None = None  # a side effect to repeat when served from the cache
    items: list[Any] = dataclasses.field(default_factory=list)  # Responses: the full input, to store


class Surface:
    name = "surface"
    raw_items = False  # whether scripted raw output items apply here
    twin = ""  # the provider twin this surface answers for; "" for the agent-facing surfaces
    stream_type = SSE  # a stream's content type (AWS's event stream is not SSE)

    def admit(self, scope: Scope, raw: bytes) -> None:
        """Refuse (raise ``HttpError``) a request whose credentials or headers the API would refuse."""

    def error_headers(self, exc: HttpError) -> Headers:
        """The headers of an error answer (a 429's retry headers)."""
        return retry_after(exc)

    def parse(self, body: Mapping[str, Any], path_model: str | None, path_stream: bool) -> Request:
        raise NotImplementedError

    def render(self, req: Request, answers: list[Answer]) -> Any:
        raise NotImplementedError

    def frames(self, req: Request, answers: list[Answer]) -> Frames:
        raise NotImplementedError

    def error(self, exc: HttpError) -> Any:
        return openai_error(exc)


def openai_error(exc: HttpError) -> dict[str, Any]:
    return {"error": {"message": exc.message, "type": exc.kind, "param": exc.param, "code": exc.code}}


def need(condition: bool, message: str) -> None:
    if not condition:
        raise HttpError(400, message)


def limit(value: Any, name: str) -> int | None:
    """A token limit from the request: a non-negative integer or absent."""
    if value is None:
        return None
    need(isinstance(value, int) and not isinstance(value, bool) and value >= 0,
         f"{name} must be a non-negative integer")
    return int(value)
