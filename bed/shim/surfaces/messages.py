"""Anthropic Messages: ``POST /v1/messages``, plain and streamed, and ``/v1/messages/count_tokens``.

Accepted: ``system`` as a string or a list of text blocks; ``messages`` whose content is a string
or blocks (``text``, ``tool_use``, ``tool_result`` with string or block content; others are
ignored); ``tools`` (client tools, with ``input_schema``), ``tool_choice`` (auto, any, tool,
none), ``max_tokens``, ``stop_sequences``. The ``x-api-key`` and ``anthropic-version`` headers
are journaled (a missing version is tolerated).

A stream is framed ``event: NAME\\ndata: {...}\\n\\n`` as the official SDK and Claude Code parse
it: message_start, then per block content_block_start, (ping after the first), deltas
(``text_delta`` or ``input_json_delta``), content_block_stop; message_delta (stop_reason and
usage.output_tokens), and the terminal message_stop. Errors are Anthropic's
``{"type": "error", "error": {"type": ..., "message": ...}}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .._core import Answer, Conversation, ToolCall, ToolSpec, Turn, pieces, text_of
from .._faults import split_model
from .._http import HttpError, dumps
from ._base import Frames, Request, Surface, limit

STOP_REASON = {"stop": "end_turn", "stop_sequence": "stop_sequence", "length": "max_tokens", "tool": "tool_use"}
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 529: "overloaded_error"}


def anthropic_error(exc: HttpError) -> dict[str, Any]:
    kind = ERROR_TYPES.get(exc.status) or ("api_error" if exc.status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": exc.message}}


class Messages(Surface):
    name = "messages"

    def parse(self, body: Mapping[str, Any], path_model: str | None, path_stream: bool) -> Request:
        model, spec = split_model(str(body.get("model") or ""))
        messages = body.get("messages")
        if not model or not isinstance(messages, list) or not messages:
            raise HttpError(400, "model and a non-empty messages list are required")
        turns = [Turn("system", text_of(body["system"]))] if body.get("system") else []
        for message in messages:
            if isinstance(message, dict):
                turns += _turns(message)
        stop = body.get("stop_sequences")
        conv = Conversation(model, turns, _tools(body.get("tools")), _choice(body.get("tool_choice")),
                            limit(body.get("max_tokens"), "max_tokens"),
                            tuple(s for s in stop if isinstance(s, str)) if isinstance(stop, list) else ())
        return Request(conv, bool(body.get("stream")), body, spec)

    def render(self, req: Request, answers: list[Answer]) -> Any:
        a = answers[0]
        return {"id": "msg_" + req.ident[:24], "type": "message", "role": "assistant", "model": req.conv.model,
                "content": _blocks(a), "stop_reason": STOP_REASON[a.finish], "stop_sequence": a.stop_sequence,
                "usage": _usage(a.input_tokens, a.output_tokens)}

    def frames(self, req: Request, answers: list[Answer]) -> Frames:
        a = answers[0]
        start: dict[str, Any] = {
            "id": "msg_" + req.ident[:24], "type": "message", "role": "assistant", "model": req.conv.model,
            "content": [], "stop_reason": None, "stop_sequence": None, "usage": _usage(a.input_tokens, 1)}
        out = [_sse("message_start", {"message": start})]
        for index, block in enumerate(_blocks(a)):
            if block["type"] == "text":
                opening = {**block, "text": ""}
                deltas = [{"type": "text_delta", "text": p} for p in pieces(block["text"])]
            else:
                opening = {**block, "input": {}}
                deltas = [{"type": "input_json_delta", "partial_json": json.dumps(block["input"])}]
            out.append(_sse("content_block_start", {"index": index, "content_block": opening}))
            if index == 0:
                out.append(_sse("ping", {}))
            out += [_sse("content_block_delta", {"index": index, "delta": d}) for d in deltas]
            out.append(_sse("content_block_stop", {"index": index}))
        out.append(_sse("message_delta", {"delta": {"stop_reason": STOP_REASON[a.finish],
                                                    "stop_sequence": a.stop_sequence},
                                          "usage": {"output_tokens": a.output_tokens}}))
        return out, [_sse("message_stop", {})]

    def error(self, exc: HttpError) -> Any:
        return anthropic_error(exc)


def _turns(message: Mapping[str, Any]) -> list[Turn]:
    content = message.get("content")
    assistant = message.get("role") == "assistant"
    if not isinstance(content, list):
        return [Turn("assistant" if assistant else "user", text_of(content))]
    turns: list[Turn] = []
    calls = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "tool_result":
            inner = block.get("content", "")
            turns.append(Turn("tool", text_of(inner) if isinstance(inner, (str, list)) else json.dumps(inner)))
        elif block.get("type") in ("tool_use", "server_tool_use"):
            calls.append(ToolCall(str(block.get("id", "")), str(block.get("name", "")),
                                  json.dumps(block.get("input", {}), sort_keys=True)))
    text = text_of([b for b in content if isinstance(b, dict) and b.get("type") == "text"])
    if text or calls or not turns:
        turns.append(Turn("assistant" if assistant else "user", text, tuple(calls)))
    return turns


def _tools(tools: Any) -> tuple[ToolSpec, ...]:
    out = []
    for tool in tools if isinstance(tools, list) else ():
        # Client tools carry an input_schema; server tools (web search, bash...) are typed instead.
        if isinstance(tool, dict) and tool.get("name") and isinstance(tool.get("input_schema"), dict):
            out.append(ToolSpec(str(tool["name"]), tool["input_schema"]))
    return tuple(out)


def _choice(choice: Any) -> str:
    if not isinstance(choice, dict):
        return "auto"
    kind = choice.get("type")
    if kind == "tool":
        return str(choice.get("name", "none"))
    return {"any": "required", "none": "none"}.get(str(kind), "auto")


def _blocks(a: Answer) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "text", "text": a.text}] if a.text or not a.calls else []
    for call in a.calls:
        try:
            arguments = json.loads(call.arguments)
        except ValueError:
            arguments = {"input": call.arguments}
        blocks.append({"type": "tool_use", "id": "toolu_" + call.ident, "name": call.name,
                       "input": arguments if isinstance(arguments, dict) else {"input": arguments}})
    return blocks


def _usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {"input_tokens": input_tokens, "output_tokens": output_tokens, "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0, "service_tier": "standard"}


def _sse(kind: str, data: dict[str, Any]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + dumps({"type": kind, **data}) + b"\n\n"
