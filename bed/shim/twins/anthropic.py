"""The Anthropic twin: ``/twins/anthropic/v1/messages`` (plain, streamed, tools),
``/v1/messages/count_tokens`` and ``GET /v1/models``, as ``api.anthropic.com`` answers them.

Strict as the API: an ``x-api-key`` header (or an OAuth ``Authorization: Bearer`` token), else 401
"x-api-key header is required"; an ``anthropic-version`` header, one of the versions Anthropic
publishes (``VERSIONS``), else 400; ``model`` and ``max_tokens`` (>= 1) required; no
argument the API does not know ("Extra inputs are not permitted"); roles ``user`` and
``assistant`` only (a "system" message is refused, pointing at the top-level ``system``);
no empty text block, and no empty message but a final assistant one; every ``tool_result`` must
answer a ``tool_use`` of the message before it, and every ``tool_use`` be answered in the next;
client tools need a name matching ``^[a-zA-Z0-9_-]{1,128}$``, unique, and an ``input_schema``
of type ``object``; ``tool_choice`` needs tools; ``temperature`` within 0..1.
Errors are ``{"type": "error", "error": {"type", "message"}, "request_id"}``; a 429 carries
``retry-after`` and the ``anthropic-ratelimit-*`` headers.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

from .._http import Headers, HttpError, Scope, header
from ..surfaces.messages import Messages, anthropic_error
from ._base import COUNT, GENERATE, MODELS, Call, Twin, bearer, number, refuse, unknown

# The versions Anthropic publishes: 2023-06-01 (what LiteLLM sends), 2023-01-01, and 2026-10-21 (what the
# anthropic SDK pinned in constraints.txt sends). Any other value is refused, as the API refuses it.
VERSIONS = ("2023-06-01", "2023-01-01", "2026-10-21")
COUNT_ARGUMENTS = frozenset({"model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers",
                             "context_management", "output_config", "output_format"})
ARGUMENTS = COUNT_ARGUMENTS | {"max_tokens", "metadata", "stop_sequences", "stream", "temperature", "top_k", "top_p",
                               "service_tier", "container", "inference_geo"}
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
_CREATED_AT = "2025-01-01T00:00:00Z"


class Anthropic(Twin):
    name = "anthropic"

    def __init__(self) -> None:
        self.protocol = Messages()

    def route(self, method: str, path: str) -> Call | None:
        if method == "POST" and path == "/v1/messages":
            return self.call(GENERATE)
        if method == "POST" and path == "/v1/messages/count_tokens":
            return self.call(COUNT)
        if method == "GET" and (path == "/v1/models" or path.startswith("/v1/models/")):
            return self.call(MODELS, model=path[len("/v1/models/"):] or None)
        return None

    def admit(self, scope: Scope, raw: bytes) -> None:
        if not (header(scope, b"x-api-key") or "").strip() and bearer(scope) is None:
            raise refuse(401, "x-api-key header is required")
        version = header(scope, b"anthropic-version")
        if version is None:
            raise refuse(400, "anthropic-version: header is required")
        if version not in VERSIONS:
            raise refuse(400, f'anthropic-version: "{version}" is not a valid version')

    def check(self, body: Mapping[str, Any], call: Call) -> None:
        extra = unknown(body, ARGUMENTS if call.kind == GENERATE else COUNT_ARGUMENTS)
        if extra:
            raise refuse(400, f"{extra[0]}: Extra inputs are not permitted")
        for field in ("model", "messages", "max_tokens") if call.kind == GENERATE else ("model", "messages"):
            if field not in body:
                raise refuse(400, f"{field}: Field required")
        max_tokens = body.get("max_tokens", 1)
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise refuse(400, "max_tokens: Input should be greater than or equal to 1")
        why = number(body, "temperature", 0, 1)
        if why is not None:
            raise refuse(400, "temperature: Input should be less than or equal to 1")
        _check_messages(body.get("messages"))
        _check_tools(body)

    def count_tokens(self, call: Call, req: Any) -> Any:
        return {"input_tokens": req.conv.input_tokens()}

    def listing(self, call: Call, models: tuple[str, ...], wanted: str) -> Any:
        data = [{"type": "model", "id": m, "display_name": m, "created_at": _CREATED_AT} for m in models]
        if wanted:
            return {"type": "model", "id": wanted, "display_name": wanted, "created_at": _CREATED_AT}
        return {"data": data, "has_more": False, "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None}

    def error(self, exc: HttpError) -> Any:
        if exc.status == 429:
            exc = HttpError(429, "This request would exceed the rate limit for your organization of 50 requests per "
                                 "minute. Please reduce the prompt length or the maximum tokens requested, or try "
                                 "again later.", retry_after=exc.retry_after)
        return {**anthropic_error(exc), "request_id": "req_bedtwin000000000000000"}

    def error_headers(self, exc: HttpError) -> Headers:
        headers = [(b"request-id", b"req_bedtwin000000000000000")]
        if exc.status != 429:
            return headers
        delay = exc.retry_after if exc.retry_after is not None else 1.0
        reset = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=delay)).strftime(
            "%Y-%m-%dT%H:%M:%SZ").encode()
        headers.append((b"retry-after", str(max(round(delay), 0)).encode()))
        for kind, limit in ((b"requests", b"50"), (b"tokens", b"40000"), (b"input-tokens", b"30000"),
                            (b"output-tokens", b"8000")):
            headers += [(b"anthropic-ratelimit-" + kind + b"-limit", limit),
                        (b"anthropic-ratelimit-" + kind + b"-remaining", b"0"),
                        (b"anthropic-ratelimit-" + kind + b"-reset", reset)]
        return headers


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list):
        raise refuse(400, "messages: Input should be a valid list")
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role == "system":
            raise refuse(400, 'messages: Unexpected role "system". The Messages API accepts a top-level `system` '
                              'parameter, not "system" as an input message role.')
        if role not in ("user", "assistant"):
            raise refuse(400, f"messages.{i}.role: Input should be 'user' or 'assistant'")
        content = message.get("content")
        blocks = content if isinstance(content, list) else []
        if content in ("", []) and not (role == "assistant" and i == len(messages) - 1):
            raise refuse(400, f"messages.{i}: all messages must have non-empty content except for the optional "
                              "final assistant message")
        if any(isinstance(b, dict) and b.get("type") == "text" and not str(b.get("text", "")).strip()
               for b in blocks):
            raise refuse(400, "messages: text content blocks must contain non-whitespace text")
        _check_pairs(messages, i, blocks)


def _ids(message: Any, kind: str, key: str) -> list[str]:
    content = message.get("content") if isinstance(message, dict) else None
    return [str(b.get(key)) for b in content if isinstance(b, dict) and b.get("type") == kind] \
        if isinstance(content, list) else []


def _check_pairs(messages: list[Any], i: int, blocks: list[Any]) -> None:
    """tool_result blocks answer the previous message's tool_use blocks, every one of them."""
    asked = _ids(messages[i - 1], "tool_use", "id") if i else []
    for j, block in enumerate(blocks):
        if isinstance(block, dict) and block.get("type") == "tool_result" and block.get("tool_use_id") not in asked:
            raise refuse(400, f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                              f"{block.get('tool_use_id')}. Each `tool_result` block must have a corresponding "
                              "`tool_use` block in the previous message.")
    calls = _ids(messages[i], "tool_use", "id")
    answered = _ids(messages[i + 1], "tool_result", "tool_use_id") if i + 1 < len(messages) else None
    missing = [c for c in calls if answered is not None and c not in answered]
    if missing:
        raise refuse(400, f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                          f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` block "
                          "in the next message.")


def _check_tools(body: Mapping[str, Any]) -> None:
    tools = body.get("tools")
    if body.get("tool_choice") is not None and not tools:
        raise refuse(400, "tool_choice: tool_choice may only be specified while providing tools.")
    if not isinstance(tools, list):
        return
    names = set()
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type", "custom") != "custom":
            continue  # a server tool (bash, web search...) is typed, with no schema of its own
        name = tool.get("name")
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            raise refuse(400, f"tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'")
        if name in names:
            raise refuse(400, "tools: Tool names must be unique.")
        names.add(name)
        schema = tool.get("input_schema")
        if not isinstance(schema, dict):
            raise refuse(400, f"tools.{i}.custom.input_schema: Field required")
        if schema.get("type") != "object":
            raise refuse(400, f"tools.{i}.custom.input_schema.type: Input should be 'object'")
