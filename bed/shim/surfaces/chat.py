"""OpenAI chat completions: ``POST /v1/chat/completions``, plain and ``stream: true``.

``n``, ``max_tokens`` / ``max_completion_tokens``, ``stop``, ``tools`` / ``tool_choice``, and
the usage chunk of a stream when ``stream_options.include_usage``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .._core import Answer, Conversation, ToolCall, ToolSpec, Turn, text_of
from .._faults import split_model
from .._http import HttpError, dumps
from ._base import Frames, Request, Surface, limit, need

FINISH = {"stop": "stop", "stop_sequence": "stop", "length": "length", "tool": "tool_calls"}


class Chat(Surface):
    name = "chat"

    def parse(self, body: Mapping[str, Any], path_model: str | None, path_stream: bool) -> Request:
        model, spec = split_model(str(body.get("model") or ""))
        messages = body.get("messages")
        if not model or not isinstance(messages, list) or not messages:
            raise HttpError(400, "model and a non-empty messages list are required")
        n = body.get("n") or 1
        need(isinstance(n, int) and 1 <= n <= 16, "n must be an integer from 1 to 16")
        max_tokens = limit(body.get("max_completion_tokens", body.get("max_tokens")), "max_tokens")
        stop = body.get("stop")
        conv = Conversation(model, [_turn(m) for m in messages if isinstance(m, dict)], _tools(body.get("tools")),
                            _choice(body.get("tool_choice")), max_tokens,
                            (stop,) if isinstance(stop, str) else tuple(s for s in stop or () if isinstance(s, str)),
                            n)
        return Request(conv, bool(body.get("stream")), body, spec)

    def render(self, req: Request, answers: list[Answer]) -> Any:
        return {
            "id": "chatcmpl-" + req.ident[:24], "object": "chat.completion", "created": 0, "model": req.conv.model,
            "choices": [{"index": i, "message": self.message(a), "finish_reason": FINISH[a.finish], "logprobs": None}
                        for i, a in enumerate(answers)],
            "usage": _usage(req, answers), "system_fingerprint": "mini-agent", "service_tier": "default",
        }

    def frames(self, req: Request, answers: list[Answer]) -> Frames:
        head = b'{"id":"chatcmpl-' + req.ident[:24].encode() + b'","object":"chat.completion.chunk","created":0,' \
               b'"model":' + dumps(req.conv.model) + b","

        def chunk(choices: list[Any], **extra: Any) -> bytes:
            return b"data: " + head + dumps({"choices": choices, **extra})[1:] + b"\n\n"

        out = []
        for i, a in enumerate(answers):
            out.append(chunk([{"index": i, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]))
            out += [chunk([{"index": i, "delta": {"content": p}, "finish_reason": None}]) for p in a.pieces()]
            out += [chunk([{"index": i, "delta": {"tool_calls": [{"index": k, **self.call(c)}]},
                            "finish_reason": None}]) for k, c in enumerate(a.calls)]
            out.append(chunk([{"index": i, "delta": {}, "finish_reason": FINISH[a.finish]}]))
        if (req.body.get("stream_options") or {}).get("include_usage"):
            out.append(chunk([], usage=_usage(req, answers)))
        return out, [b"data: [DONE]\n\n"]

    def call_id(self, call: ToolCall) -> str:
        """A tool call's id as this API words it (Mistral's are 9 letters and digits)."""
        return "call_" + call.ident

    def call(self, call: ToolCall) -> dict[str, Any]:
        return {"id": self.call_id(call), "type": "function",
                "function": {"name": call.name, "arguments": call.arguments}}

    def message(self, a: Answer) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": a.text if a.text or not a.calls else None}
        if a.calls:
            message["tool_calls"] = [self.call(c) for c in a.calls]
        return message


def _turn(message: Mapping[str, Any]) -> Turn:
    role, content = message.get("role"), message.get("content")
    if role in ("system", "developer"):
        return Turn("system", text_of(content))
    if role in ("tool", "function"):
        return Turn("tool", text_of(content) if isinstance(content, (str, list)) else json.dumps(content))
    if role == "assistant":
        calls = tuple(ToolCall(str(c.get("id", "")), str((c.get("function") or {}).get("name", "")),
                               str((c.get("function") or {}).get("arguments", "")))
                      for c in message.get("tool_calls") or () if isinstance(c, dict))
        return Turn("assistant", text_of(content), calls)
    return Turn("user", text_of(content))


def _tools(tools: Any) -> tuple[ToolSpec, ...]:
    out = []
    for tool in tools if isinstance(tools, list) else ():
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and function.get("name"):
            params = function.get("parameters")
            out.append(ToolSpec(str(function["name"]), params if isinstance(params, dict) else {}))
    return tuple(out)


def _choice(choice: Any) -> str:
    if isinstance(choice, dict):
        return str((choice.get("function") or {}).get("name", "none"))
    return choice if choice in ("none", "required") else "auto"


def _usage(req: Request, answers: list[Answer]) -> dict[str, int]:
    prompt = answers[0].input_tokens if answers else 0
    completion = sum(a.output_tokens for a in answers)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
