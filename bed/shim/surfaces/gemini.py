"""Gemini (Google AI Studio): ``POST .../models/{model}:generateContent`` and
``:streamGenerateContent`` (``?alt=sse``), as LiteLLM's ``gemini/`` provider sends them to an
``api_base`` (``{api_base}/models/{model}:{method}``, key in the ``x-goog-api-key`` header);
also ``:countTokens``, ``:embedContent`` and ``:batchEmbedContents``.

Accepted, in both the camelCase of the REST API and the snake_case LiteLLM writes: ``contents``
(role ``user`` / ``model``; parts ``text``, ``functionCall``, ``functionResponse``),
``systemInstruction``, ``tools[].functionDeclarations``, ``toolConfig.functionCallingConfig``
(mode AUTO / ANY / NONE, ``allowedFunctionNames``) and ``generationConfig`` (``maxOutputTokens``,
``stopSequences``, ``candidateCount``).

Answers are ``candidates[].content.parts[]`` (``text`` or ``functionCall``) with ``finishReason``
and ``usageMetadata``. A stream is SSE ``data: {...}`` chunks of the same shape; the last one,
which carries ``finishReason`` and the full usage, is the one a cut stream never sends.
Errors are Google's ``{"error": {"code": 429, "message": ..., "status": "RESOURCE_EXHAUSTED"}}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .._core import Answer, Conversation, ToolCall, ToolSpec, Turn
from .._faults import split_model
from .._http import HttpError, dumps
from ._base import Frames, Request, Surface, limit, need

FINISH = {"stop": "STOP", "stop_sequence": "STOP", "length": "MAX_TOKENS", "tool": "STOP"}
STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
          409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 499: "CANCELLED", 500: "INTERNAL", 501: "NOT_IMPLEMENTED",
          503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
METHODS = ("generateContent", "streamGenerateContent", "countTokens", "embedContent", "batchEmbedContents")


def gemini_error(exc: HttpError) -> dict[str, Any]:
    status = STATUS.get(exc.status) or ("INTERNAL" if exc.status >= 500 else "FAILED_PRECONDITION")
    return {"error": {"code": exc.status, "message": exc.message, "status": status}}


def pick(mapping: Mapping[str, Any], camel: str, snake: str) -> Any:
    """A field under either spelling: the REST API's camelCase or the protobuf snake_case."""
    value = mapping.get(camel)
    return mapping.get(snake) if value is None else value


class Gemini(Surface):
    name = "gemini"

    def parse(self, body: Mapping[str, Any], path_model: str | None, path_stream: bool) -> Request:
        model, spec = split_model(path_model or "")
        contents = body.get("contents")
        if not model or not isinstance(contents, list) or not contents:
            raise HttpError(400, "contents must be a non-empty list")
        system = pick(body, "systemInstruction", "system_instruction")
        turns = [Turn("system", system if isinstance(system, str) else _text(system))] if system else []
        for content in contents:
            if isinstance(content, dict):
                turns += _turns(content)
        config = pick(body, "generationConfig", "generation_config") or {}
        stop = pick(config, "stopSequences", "stop_sequences")
        n = pick(config, "candidateCount", "candidate_count") or 1
        need(isinstance(n, int) and 1 <= n <= 8, "candidateCount must be an integer from 1 to 8")
        conv = Conversation(model, turns, _tools(body.get("tools")), _choice(body),
                            limit(pick(config, "maxOutputTokens", "max_output_tokens"), "maxOutputTokens"),
                            tuple(s for s in stop if isinstance(s, str)) if isinstance(stop, list) else (), n)
        return Request(conv, path_stream, body, spec)

    def render(self, req: Request, answers: list[Answer]) -> Any:
        return self._chunk(req, [(i, _parts(a, a.text), FINISH[a.finish]) for i, a in enumerate(answers)],
                           answers, done=True)

    def frames(self, req: Request, answers: list[Answer]) -> Frames:
        frames: list[bytes] = []
        for i, a in enumerate(answers):
            pieces = a.pieces()
            # The last chunk of a candidate carries its finish reason (and any function call).
            last = [] if a.calls or not pieces else pieces[-1:]
            body = pieces if a.calls else pieces[:-1]
            frames += [_sse(self._chunk(req, [(i, [{"text": p}], None)], answers, done=False)) for p in body]
            frames.append(_sse(self._chunk(req, [(i, _parts(a, "".join(last)), FINISH[a.finish])], answers,
                                           done=i == len(answers) - 1)))
        return frames[:-1], frames[-1:]

    def error(self, exc: HttpError) -> Any:
        return gemini_error(exc)

    def _chunk(self, req: Request, candidates: list[tuple[int, list[Any], str | None]], answers: list[Answer],
               done: bool) -> dict[str, Any]:
        prompt = answers[0].input_tokens
        usage: dict[str, Any] = {"promptTokenCount": prompt, "totalTokenCount": prompt}
        if done:
            output = sum(a.output_tokens for a in answers)
            usage = {"promptTokenCount": prompt, "candidatesTokenCount": output, "totalTokenCount": prompt + output,
                     "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}]}
        return {"candidates": [{"content": {"role": "model", "parts": parts}, "index": i,
                                **({"finishReason": finish} if finish else {})} for i, parts, finish in candidates],
                "usageMetadata": usage, "modelVersion": req.conv.model, "responseId": req.ident[:22]}


def _text(content: Any) -> str:
    parts = content.get("parts") if isinstance(content, dict) else content
    if not isinstance(parts, list):
        return ""
    return " ".join(str(p["text"]) for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))


def _turns(content: Mapping[str, Any]) -> list[Turn]:
    parts = [p for p in content.get("parts") or () if isinstance(p, dict)]
    turns: list[Turn] = []
    calls = []
    for part in parts:
        result = pick(part, "functionResponse", "function_response")
        call = pick(part, "functionCall", "function_call")
        if isinstance(result, dict):
            response = result.get("response")
            inner = response.get("content", response.get("output")) if isinstance(response, dict) else response
            turns.append(Turn("tool", inner if isinstance(inner, str) else json.dumps(response)))
        elif isinstance(call, dict):
            calls.append(ToolCall(str(call.get("id", "")), str(call.get("name", "")),
                                  json.dumps(call.get("args") or {}, sort_keys=True)))
    text = _text(parts)
    model = content.get("role") == "model"
    if text or calls or not turns:
        turns.append(Turn("assistant" if model else "user", text, tuple(calls)))
    return turns


def _tools(tools: Any) -> tuple[ToolSpec, ...]:
    out = []
    for tool in tools if isinstance(tools, list) else ():
        declarations = pick(tool, "functionDeclarations", "function_declarations") if isinstance(tool, dict) else None
        for d in declarations if isinstance(declarations, list) else ():
            if isinstance(d, dict) and d.get("name"):
                params = pick(d, "parameters", "parametersJsonSchema") or d.get("parameters_json_schema")
                out.append(ToolSpec(str(d["name"]), params if isinstance(params, dict) else {}))
    return tuple(out)


def _choice(body: Mapping[str, Any]) -> str:
    config = pick(body, "toolConfig", "tool_config") or {}
    calling = pick(config, "functionCallingConfig", "function_calling_config") if isinstance(config, dict) else None
    if not isinstance(calling, dict):
        return "auto"
    mode = str(calling.get("mode", "AUTO")).upper()
    allowed = pick(calling, "allowedFunctionNames", "allowed_function_names")
    if mode == "NONE":
        return "none"
    if mode == "ANY":
        return str(allowed[0]) if isinstance(allowed, list) and len(allowed) == 1 else "required"
    return "auto"


def _parts(a: Answer, text: str) -> list[Any]:
    parts: list[Any] = [{"text": text}] if text or not a.calls else []
    for call in a.calls:
        try:
            args = json.loads(call.arguments)
        except ValueError:
            args = {"input": call.arguments}
        parts.append({"functionCall": {"name": call.name, "args": args if isinstance(args, dict) else {"input": args}}})
    return parts


def _sse(chunk: dict[str, Any]) -> bytes:
    return b"data: " + dumps(chunk) + b"\r\n\r\n"


def parse_method(rest: str) -> tuple[str, str] | None:
    """``"codex-agent-1:generateContent"`` -> ``("codex-agent-1", "generateContent")``."""
    model, sep, method = rest.rpartition(":")
    return (model, method) if sep and model and method in METHODS else None
