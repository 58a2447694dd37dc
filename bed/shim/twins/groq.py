"""The Groq twin: ``/twins/groq/openai/v1/chat/completions`` (plain, streamed, tools) and
``GET /openai/v1/models``, as ``api.groq.com`` answers them.

Groq is OpenAI-compatible with the refusals its docs list: ``logprobs``, ``logit_bias``,
``top_logprobs`` and ``messages[].name`` are a 400, and ``n`` must be 1; an argument it does not
know is "property ... is unsupported"; the rest of OpenAI's chat checks apply. Answers carry
Groq's ``x_groq`` (the request id; in a stream, the last chunk has the usage there too) and
its timing fields in ``usage``. Errors are ``{"error": {"message", "type", "code"}}``; a 429
carries ``retry-after`` and the ``x-ratelimit-*`` headers, as OpenAI's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .._core import Answer
from .._http import Headers, HttpError, Scope, dumps
from ..surfaces._base import Frames, Request
from ..surfaces.chat import Chat
from ._base import GENERATE, MODELS, Call, Twin, bearer, refuse, unknown
from .openai import CHAT_ARGUMENTS, check_chat, ratelimit_headers

UNSUPPORTED = ("logprobs", "logit_bias", "top_logprobs")
ARGUMENTS = (CHAT_ARGUMENTS - set(UNSUPPORTED)) | {
    "reasoning_format", "include_reasoning", "search_settings", "documents", "citation_options", "compound_custom",
    "disable_tool_validation", "exclude_domains", "include_domains"}
TIMES = {"queue_time": 0.01, "prompt_time": 0.001, "completion_time": 0.002, "total_time": 0.003}


class Groq(Twin):
    name = "groq"

    def __init__(self) -> None:
        self.protocol = Chat()

    def route(self, method: str, path: str) -> Call | None:
        if method == "POST" and path == "/openai/v1/chat/completions":
            return self.call(GENERATE)
        if method == "GET" and (path == "/openai/v1/models" or path.startswith("/openai/v1/models/")):
            return self.call(MODELS, model=path[len("/openai/v1/models/"):] or None)
        return None

    def admit(self, scope: Scope, raw: bytes) -> None:
        if bearer(scope) is None:
            raise refuse(401, "Invalid API Key", code="invalid_api_key")

    def check(self, body: Mapping[str, Any], call: Call) -> None:
        for name in UNSUPPORTED:
            if body.get(name) not in (None, False):
                raise refuse(400, f"'{name}' : property '{name}' is unsupported")
        extra = unknown(body, [*ARGUMENTS, *UNSUPPORTED])
        if extra:
            raise refuse(400, f"property '{extra[0]}' is unsupported")
        n = body.get("n")
        if n is not None and n != 1:
            raise refuse(400, "'n' : number must be at most 1")
        for i, message in enumerate(body.get("messages") or ()):
            if isinstance(message, dict) and "name" in message:
                raise refuse(400, f"'messages.{i}' : for 'role:{message.get('role')}' the following must be satisfied"
                                  f"[('messages.{i}.name' : property 'name' is unsupported)]")
        check_chat(body, [*ARGUMENTS, *UNSUPPORTED])

    def render(self, call: Call, req: Request, answers: list[Answer]) -> Any:
        out = call.protocol.render(req, answers)
        out["usage"] = {**out["usage"], **TIMES}
        return {**out, "x_groq": {"id": "req_" + req.ident[:26]}}

    def frames(self, call: Call, req: Request, answers: list[Answer]) -> Frames:
        frames, terminal = call.protocol.frames(req, answers)
        if frames:  # the request id on the first chunk, the usage on the last, as Groq streams them
            frames[0] = _with(frames[0], {"id": "req_" + req.ident[:26]})
            usage = call.protocol.render(req, answers)["usage"]
            frames[-1] = _with(frames[-1], {"id": "req_" + req.ident[:26], "usage": {**usage, **TIMES}})
        return frames, terminal

    def error(self, exc: HttpError) -> Any:
        if exc.status == 429:
            delay = exc.retry_after if exc.retry_after is not None else 1.0
            return {"error": {"message": f"Rate limit reached on requests per minute (RPM). Please try again in "
                                         f"{delay:g}s.", "type": "requests", "code": "rate_limit_exceeded"}}
        kind = "invalid_request_error" if exc.status < 500 else "internal_server_error"
        error = {"message": exc.message, "type": kind}
        return {"error": {**error, "code": exc.code} if exc.code else error}

    def error_headers(self, exc: HttpError) -> Headers:
        return ratelimit_headers(exc)


def _with(frame: bytes, x_groq: dict[str, Any]) -> bytes:
    chunk = json.loads(frame[len(b"data: "):])
    return b"data: " + dumps({**chunk, "x_groq": x_groq}) + b"\n\n"
