"""The OpenAI twin: ``/twins/openai/v1/chat/completions`` (plain, streamed, tools),
``/v1/responses``, ``/v1/embeddings`` and ``GET /v1/models``, as ``api.openai.com`` answers them.

Strict as the API: ``Authorization: Bearer <key>`` (any non-empty key: the twin knows no real
ones), an argument the API does not know is "Unrecognized request argument supplied", message
roles, tool names (``^[a-zA-Z0-9_-]+$``, at most 64), a function's parameters must be a
``type: "object"`` schema, ``tool`` messages must answer the ``tool_calls`` of the assistant
message before them (and every call must be answered), ``tool_choice`` needs ``tools``, and the
ranges of ``n``, ``temperature``, ``top_p`` and the penalties. Errors are OpenAI's
``{"error": {"message", "type", "param", "code"}}``; a 429 carries ``retry-after`` and the
``x-ratelimit-*`` headers. The checks of a chat body are shared with the OpenAI-compatible twins
(Azure, Groq, Mistral), each with its own list of arguments.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .._http import Headers, HttpError, Scope
from ..surfaces._base import openai_error
from ..surfaces.chat import Chat
from ..surfaces.responses import Responses, Store
from ._base import EMBED, GENERATE, MODELS, NAME_64, Call, Twin, bearer, number, ratelimit_reset, refuse, unknown

CHAT_ARGUMENTS = frozenset({
    "model", "messages", "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "max_tokens", "metadata", "modalities", "n", "parallel_tool_calls", "prediction",
    "presence_penalty", "prompt_cache_key", "prompt_cache_retention", "reasoning_effort", "response_format",
    "safety_identifier", "seed", "service_tier", "stop", "store", "stream", "stream_options", "temperature",
    "tool_choice", "tools", "top_logprobs", "top_p", "user", "verbosity", "web_search_options",
})
ROLES = ("system", "assistant", "user", "function", "tool", "developer")
NO_KEY = ("You didn't provide an API key. You need to provide your API key in an Authorization header using "
          "Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")


def check_chat(body: Mapping[str, Any], arguments: Collection[str] = CHAT_ARGUMENTS, *, model: bool = True,
               n_max: int = 128) -> None:
    """The checks an OpenAI-compatible chat body must pass (the message of the first that fails)."""
    extra = unknown(body, arguments)
    if extra:
        raise refuse(400, f"Unrecognized request argument supplied: {extra[0]}")
    if model and not isinstance(body.get("model"), str):
        raise refuse(400, "you must provide a model parameter", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise refuse(400, "[] is too short - 'messages'" if messages == [] else "'messages' is a required property",
                     param="messages")
    _check_messages(messages)
    _check_tools(body)
    n = body.get("n")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= n_max):
        raise refuse(400, f"{n!r} is {'greater than the maximum' if isinstance(n, int) and n > n_max else 'not valid'}"
                          f" of {n_max} - 'n'", param="n")
    for name, low, high in (("temperature", 0, 2), ("top_p", 0, 1), ("presence_penalty", -2, 2),
                            ("frequency_penalty", -2, 2)):
        why = number(body, name, low, high)
        if why is not None:
            raise refuse(400, f"Invalid '{name}': {why}.", param=name, code="invalid_value")


def _check_messages(messages: list[Any]) -> None:
    pending: list[str] = []  # the tool_call ids of the last assistant message, not yet answered
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise refuse(400, f"Invalid type for 'messages[{i}]': expected an object.", param=f"messages[{i}]")
        role = message.get("role")
        if role not in ROLES:
            supported = ", ".join(f"'{r}'" for r in ROLES)
            raise refuse(400, f"Invalid value: '{role}'. Supported values are: {supported}.",
                         param=f"messages[{i}].role", code="invalid_value")
        if role == "tool":
            if message.get("tool_call_id") not in pending:
                raise refuse(400, "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                                  "message with 'tool_calls'.", param=f"messages.[{i}].role")
            pending.remove(message["tool_call_id"])
            continue
        if pending:
            raise refuse(400, "An assistant message with 'tool_calls' must be followed by tool messages responding "
                              "to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
                              + ", ".join(pending), param=f"messages.[{i}].role")
        calls = message.get("tool_calls") if role == "assistant" else None
        pending = [str(c.get("id")) for c in calls or () if isinstance(c, dict)]


def _check_tools(body: Mapping[str, Any]) -> None:
    tools = body.get("tools")
    if body.get("tool_choice") not in (None, "none", "auto") and not tools:
        raise refuse(400, "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                     param="tool_choice")
    if tools is None:
        return
    if not isinstance(tools, list):
        raise refuse(400, "Invalid type for 'tools': expected an array.", param="tools")
    for i, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") not in ("function", "custom"):
            raise refuse(400, f"Invalid value for 'tools[{i}].type': expected 'function' or 'custom'.",
                         param=f"tools[{i}].type", code="invalid_value")
        if tool.get("type") == "custom":
            continue
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str):
            raise refuse(400, f"Missing required parameter: 'tools[{i}].function.name'.",
                         param=f"tools[{i}].function.name", code="missing_required_parameter")
        if len(name) > 64:
            raise refuse(400, f"Invalid 'tools[{i}].function.name': string too long. Expected a string with maximum "
                              f"length 64, but got a string with length {len(name)} instead.",
                         param=f"tools[{i}].function.name", code="string_above_max_length")
        if not NAME_64.match(name):
            raise refuse(400, f"Invalid 'tools[{i}].function.name': string does not match pattern. Expected a string "
                              "that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                         param=f"tools[{i}].function.name", code="invalid_value")
        schema = function.get("parameters") if isinstance(function, dict) else None
        if schema is not None and (not isinstance(schema, dict) or schema.get("type", "object") != "object"):
            got = schema.get("type") if isinstance(schema, dict) else type(schema).__name__
            raise refuse(400, f"Invalid schema for function '{name}': schema must be a JSON Schema of 'type: "
                              f"\"object\"', got 'type: \"{got}\"'.", param=f"tools[{i}].function.parameters",
                         code="invalid_function_parameters")


def openai_shaped(exc: HttpError) -> dict[str, Any]:
    """OpenAI's error body, with the type and code the API uses for the status."""
    if exc.kind != "injected_fault" and exc.status not in (401, 429):
        return openai_error(exc)
    kind, code = {401: ("invalid_request_error", "invalid_api_key"),
                  429: ("requests", "rate_limit_exceeded")}.get(exc.status, ("server_error", None))
    if exc.status < 500 and exc.status not in (401, 429):
        kind = "invalid_request_error"
    message = "Rate limit reached for requests" if exc.status == 429 else exc.message
    return {"error": {"message": message, "type": kind, "param": exc.param, "code": code}}


def ratelimit_headers(exc: HttpError) -> Headers:
    """OpenAI's (and Groq's) headers of a 429: retry-after and the x-ratelimit-* family."""
    if exc.status != 429:
        return []
    delay = exc.retry_after if exc.retry_after is not None else 1.0
    reset = ratelimit_reset(delay).encode()
    return [(b"retry-after", f"{max(delay, 0):g}".encode()), (b"x-ratelimit-limit-requests", b"500"),
            (b"x-ratelimit-remaining-requests", b"0"), (b"x-ratelimit-reset-requests", reset),
            (b"x-ratelimit-limit-tokens", b"200000"), (b"x-ratelimit-remaining-tokens", b"0"),
            (b"x-ratelimit-reset-tokens", reset)]


class OpenAI(Twin):
    name = "openai"

    def __init__(self, store: Store) -> None:
        self.protocol = Chat()
        self.responses = Responses(store)

    def route(self, method: str, path: str) -> Call | None:
        if method == "POST" and path == "/v1/chat/completions":
            return self.call(GENERATE)
        if method == "POST" and path == "/v1/responses":
            return self.call(GENERATE, self.responses)
        if method == "POST" and path == "/v1/embeddings":
            return self.call(EMBED)
        if method == "GET" and (path == "/v1/models" or path.startswith("/v1/models/")):
            return self.call(MODELS, model=path[len("/v1/models/"):] or None)
        return None

    def admit(self, scope: Scope, raw: bytes) -> None:
        if bearer(scope) is None:
            raise refuse(401, NO_KEY)

    def check(self, body: Mapping[str, Any], call: Call) -> None:
        if call.kind == GENERATE and call.protocol is self.protocol:
            check_chat(body)
        elif call.kind == EMBED and "input" not in body:
            raise refuse(400, "'input' is a required property", param="input")

    def error(self, exc: HttpError) -> Any:
        return openai_shaped(exc)

    def error_headers(self, exc: HttpError) -> Headers:
        return ratelimit_headers(exc)
