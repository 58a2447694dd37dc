"""The Mistral twin: ``/twins/mistral/v1/chat/completions`` (plain, streamed, tools),
``/v1/embeddings`` and ``GET /v1/models``, as ``api.mistral.ai`` answers them.

Mistral speaks OpenAI's chat protocol with its own validation, which is stricter:
- no argument it does not know, at the top and inside each message (a user message's ``name``,
  an assistant message's ``reasoning_content``...): 422 with pydantic's ``extra_forbidden``
  details; its own arguments include ``random_seed``, ``safe_prompt``, ``prompt_mode``, and
  ``tool_choice`` may be ``any``;
- a tool call id (an assistant's ``tool_calls[].id``, a tool message's ``tool_call_id``) is exactly
  nine letters and digits, and the twin's own calls have such ids;
- the last message is the user's or a tool's (an assistant's only with ``prefix: true``).
Errors: ``{"object": "error", "message", "type", "param", "code"}``; 401 is ``{"message":
"Unauthorized", ...}``; a 429 carries ``retry-after`` and the ``ratelimitbysize-*`` headers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .._core import ToolCall
from .._http import Headers, HttpError, Scope
from ..surfaces.chat import Chat
from ._base import EMBED, GENERATE, MODELS, Call, Twin, bearer, refuse, unknown

ARGUMENTS = frozenset({"model", "messages", "temperature", "top_p", "max_tokens", "stream", "stop", "random_seed",
                       "metadata", "response_format", "tools", "tool_choice", "presence_penalty", "frequency_penalty",
                       "n", "prediction", "parallel_tool_calls", "prompt_mode", "safe_prompt"})
MESSAGE_FIELDS = {"system": {"role", "content"}, "user": {"role", "content"},
                  "assistant": {"role", "content", "tool_calls", "prefix"},
                  "tool": {"role", "content", "tool_call_id", "name"}}
CALL_ID = re.compile(r"^[a-zA-Z0-9]{9}$")


class MistralChat(Chat):
    def call_id(self, call: ToolCall) -> str:
        return call.ident[:9]  # hex: nine letters and digits, as Mistral's own ids are


def _extra(loc: list[Any], value: Any) -> HttpError:
    detail = [{"type": "extra_forbidden", "loc": ["body", *loc], "msg": "Extra inputs are not permitted",
               "input": value}]
    message = f"{'.'.join(map(str, loc))}: Extra inputs are not permitted"
    return refuse(422, message, body={"object": "error", "message": {"detail": detail},
                                      "type": "invalid_request_message_error", "param": None, "code": None})


class Mistral(Twin):
    name = "mistral"

    def __init__(self) -> None:
        self.protocol = MistralChat()

    def route(self, method: str, path: str) -> Call | None:
        if method == "POST" and path == "/v1/chat/completions":
            return self.call(GENERATE)
        if method == "POST" and path == "/v1/embeddings":
            return self.call(EMBED)
        if method == "GET" and (path == "/v1/models" or path.startswith("/v1/models/")):
            return self.call(MODELS, model=path[len("/v1/models/"):] or None)
        return None

    def admit(self, scope: Scope, raw: bytes) -> None:
        if bearer(scope) is None:
            raise refuse(401, "Unauthorized", body={"message": "Unauthorized", "request_id": "bedtwin0000"})

    def check(self, body: Mapping[str, Any], call: Call) -> None:
        if call.kind == EMBED:
            return
        extra = unknown(body, ARGUMENTS)
        if extra:
            raise _extra([extra[0]], body[extra[0]])
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise refuse(400, "messages: at least one message is required")
        for i, message in enumerate(messages):
            role = message.get("role") if isinstance(message, dict) else None
            if role not in MESSAGE_FIELDS:
                raise refuse(400, f"messages.{i}.role: Input should be 'system', 'user', 'assistant' or 'tool'")
            extra = unknown(message, MESSAGE_FIELDS[role])
            if extra:
                raise _extra(["messages", i, role, extra[0]], message[extra[0]])
            ids = [c.get("id") for c in message.get("tool_calls") or () if isinstance(c, dict)]
            if role == "tool":
                ids.append(message.get("tool_call_id"))
            bad = [x for x in ids if not (isinstance(x, str) and CALL_ID.match(x))]
            if bad:
                raise refuse(400, f"Tool call id was {bad[0]} but must be a-z, A-Z, 0-9, with a length of 9.")
        last = messages[-1]
        if last.get("role") not in ("user", "tool") and not (last.get("role") == "assistant" and last.get("prefix")):
            raise refuse(400, f"Expected last role User or Tool (or Assistant with prefix True) for serving but got "
                              f"{last.get('role')}")

    def adapt(self, body: Mapping[str, Any], call: Call) -> Mapping[str, Any]:
        return {**body, "tool_choice": "required"} if body.get("tool_choice") == "any" else body

    def error(self, exc: HttpError) -> Any:
        kind, code, message = exc.kind, exc.code, exc.message
        if exc.status == 429:
            kind, code, message = "rate_limited", "1300", "Requests rate limit exceeded"
        elif exc.kind == "injected_fault":
            kind = "invalid_request_error" if exc.status < 500 else "internal_server_error"
        return {"object": "error", "message": message, "type": kind, "param": exc.param, "code": code}

    def error_headers(self, exc: HttpError) -> Headers:
        if exc.status != 429:
            return []
        delay = exc.retry_after if exc.retry_after is not None else 1.0
        return [(b"retry-after", f"{max(delay, 0):g}".encode()), (b"ratelimitbysize-limit", b"500000"),
                (b"ratelimitbysize-remaining", b"0"), (b"ratelimitbysize-reset", str(max(round(delay), 1)).encode())]
