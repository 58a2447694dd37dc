"""The OpenAI Responses API: ``POST /v1/responses`` (also ``/responses``), plain and streamed.

Accepted: ``input`` as a string or a list of items (``message`` items with ``input_text`` /
``output_text`` parts or a string, ``function_call`` / ``custom_tool_call`` items, and any
``*_call_output`` item as a tool result), ``instructions``, ``tools`` of type ``function``
(JSON arguments) and ``custom`` (free text), ``tool_choice``, ``max_output_tokens``,
``reasoning``, ``text``, ``metadata``, ``store`` and ``previous_response_id``.

A stream is the event sequence the official SDK accumulates: ``response.created``,
``response.in_progress``, then per output item ``output_item.added``, its content events
(``content_part.added``, ``output_text.delta``..., ``output_text.done``, ``content_part.done``;
or ``function_call_arguments.delta`` / ``.done``; or ``custom_tool_call_input.delta`` /
``.done``), ``output_item.done``, and last ``response.completed`` (``response.incomplete``
when ``max_output_tokens`` cut the text). Every event has a ``sequence_number``.

Stored responses (``store`` is true unless the request says false) live in a bounded LRU:
``previous_response_id`` puts that response's input and output before the new input (its
``instructions`` are not carried over, as the API documents), an unknown id is a 404, and
``GET`` / ``DELETE /v1/responses/{id}`` and ``GET /v1/responses/{id}/input_items`` read them.
"""

from __future__ import annotations

import collections
import json
import threading
from collections.abc import Mapping
from typing import Any

from .._core import Answer, Conversation, ToolCall, ToolSpec, Turn, pieces, text_of
from .._faults import split_model
from .._http import HttpError, dumps
from ._base import Frames, Request, Surface, limit, need

STORE_LIMIT = 512
_TEXT_PARTS = ("input_text", "output_text", "text", "refusal", "summary_text")


class Store:
    """Stored responses, least recently used dropped first. An entry: the response and its items."""

    def __init__(self, limit: int = STORE_LIMIT) -> None:
        self._items: collections.OrderedDict[str, tuple[dict[str, Any], list[Any], list[Any]]] = \
            collections.OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def put(self, response: dict[str, Any], inputs: list[Any]) -> None:
        with self._lock:
            self._items[response["id"]] = (response, inputs, response["output"])
            self._items.move_to_end(response["id"])
            while len(self._items) > self._limit:
                self._items.popitem(last=False)

    def get(self, ident: str) -> tuple[dict[str, Any], list[Any], list[Any]] | None:
        with self._lock:
            entry = self._items.get(ident)
            if entry is not None:
                self._items.move_to_end(ident)
            return entry

    def delete(self, ident: str) -> bool:
        with self._lock:
            return self._items.pop(ident, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def not_found(ident: str, param: str | None = None) -> HttpError:
    return HttpError(404, f"Response with id '{ident}' not found.", "invalid_request_error", param=param,
                     code="previous_response_not_found" if param else None)


class Responses(Surface):
    name = "responses"
    raw_items = True

    def __init__(self, store: Store) -> None:
        self.store = store

    def parse(self, body: Mapping[str, Any], path_model: str | None, path_stream: bool) -> Request:
        model, spec = split_model(str(body.get("model") or ""))
        need(bool(model), "model is required")
        history: list[Any] = []
        previous = body.get("previous_response_id")
        if previous is not None:
            entry = self.store.get(str(previous))
            if entry is None:
                raise not_found(str(previous), "previous_response_id")
            history = [*entry[1], *entry[2]]
        given = body.get("input")
        if isinstance(given, str):
            items: list[Any] = [{"type": "message", "role": "user", "content": given}]
        elif isinstance(given, list):
            items = given
        else:
            need(given is None and bool(history), "input must be a string or a list of items")
            items = []
        turns = [Turn("system", str(body["instructions"]))] if isinstance(body.get("instructions"), str) else []
        turns += [t for t in map(_turn, [*history, *items]) if t is not None]
        conv = Conversation(model, turns, _tools(body.get("tools")), _choice(body.get("tool_choice")),
                            limit(body.get("max_output_tokens"), "max_output_tokens"))
        return Request(conv, bool(body.get("stream")), body, spec, cacheable=previous is None,
                       history=json.dumps(history) if history else "", items=[*history, *items])

    def render(self, req: Request, answers: list[Answer]) -> Any:
        response = self._response(req, answers[0], "done")
        self._keep(req, response)
        return response

    def frames(self, req: Request, answers: list[Answer]) -> Frames:
        a = answers[0]
        final = self._response(req, a, "done")
        self._keep(req, final)
        pending = self._response(req, a, "pending")
        events: list[tuple[str, dict[str, Any]]] = [("response.created", {"response": pending}),
                                                    ("response.in_progress", {"response": pending})]
        for index, item in enumerate(final["output"]):
            events += _item_events(index, item)
        terminal = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
        out = [_sse(kind, seq, data) for seq, (kind, data) in enumerate(events)]
        return out, [_sse(terminal, len(events), {"response": final})]

    def _keep(self, req: Request, response: dict[str, Any]) -> None:
        if req.body.get("store") is False:
            return
        inputs = req.items
        self.store.put(response, inputs)
        req.replay = lambda: self.store.put(response, inputs)

    def _response(self, req: Request, a: Answer, phase: str) -> dict[str, Any]:
        body = req.body
        incomplete = a.finish == "length"
        output: list[Any] = []
        if phase == "done":
            if a.text or not (a.calls or a.raw_items):
                output.append(_message(req.ident, a.text, "incomplete" if incomplete else "completed"))
            output += [_call_item(c) for c in a.calls]
            output += [dict(item) for item in a.raw_items]
        given = body.get("reasoning")
        reasoning: Mapping[str, Any] = given if isinstance(given, dict) else {}
        usage = {"input_tokens": a.input_tokens, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                 "output_tokens": a.output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
                 "total_tokens": a.input_tokens + a.output_tokens}
        return {
            "id": "resp_" + req.ident[:48], "object": "response", "created_at": 0,
            "status": ("incomplete" if incomplete else "completed") if phase == "done" else "in_progress",
            "background": False, "error": None,
            "incomplete_details": {"reason": "max_output_tokens"} if incomplete and phase == "done" else None,
            "instructions": body.get("instructions"), "max_output_tokens": body.get("max_output_tokens"),
            "max_tool_calls": body.get("max_tool_calls"), "model": req.conv.model, "output": output,
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "previous_response_id": body.get("previous_response_id"),
            "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
            "service_tier": "default", "store": body.get("store") is not False,
            "temperature": body.get("temperature", 1.0), "text": body.get("text") or {"format": {"type": "text"}},
            "tool_choice": body.get("tool_choice", "auto"), "tools": body.get("tools") or [],
            "top_p": body.get("top_p", 1.0), "truncation": body.get("truncation", "disabled"),
            "usage": usage if phase == "done" else None, "user": body.get("user"),
            "metadata": body.get("metadata") or {},
        }


def _turn(item: Any) -> Turn | None:
    if not isinstance(item, dict):
        return None
    kind = item.get("type", "message")
    if kind == "message":
        role = item.get("role")
        text = text_of(item.get("content"), _TEXT_PARTS)
        return Turn({"system": "system", "developer": "system", "assistant": "assistant"}.get(str(role), "user"), text)
    if kind in ("function_call", "custom_tool_call"):
        arguments = item.get("arguments", item.get("input", ""))
        call = ToolCall(str(item.get("call_id", "")), str(item.get("name", "")), str(arguments),
                        "custom" if kind == "custom_tool_call" else "function")
        return Turn("assistant", calls=(call,))
    if isinstance(kind, str) and kind.endswith("_call_output"):
        output = item.get("output", "")
        text = output if isinstance(output, str) else text_of(output, _TEXT_PARTS) if isinstance(output, list) \
            else json.dumps(output)
        return Turn("tool", text)
    return None  # reasoning, item references, built-in tool calls: not part of what is said


def _tools(tools: Any) -> tuple[ToolSpec, ...]:
    out = []
    for tool in tools if isinstance(tools, list) else ():
        if isinstance(tool, dict) and tool.get("type") in ("function", "custom") and tool.get("name"):
            params = tool.get("parameters")
            out.append(ToolSpec(str(tool["name"]), params if isinstance(params, dict) else {}, str(tool["type"])))
    return tuple(out)


def _choice(choice: Any) -> str:
    if isinstance(choice, dict):
        if choice.get("type") == "allowed_tools":
            return "required" if choice.get("mode") == "required" else "auto"
        return str(choice.get("name", "none"))
    return choice if choice in ("none", "required") else "auto"


def _message(ident: str, text: str, status: str) -> dict[str, Any]:
    return {"id": "msg_" + ident[:48], "type": "message", "status": status, "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]}


def _call_item(call: ToolCall) -> dict[str, Any]:
    if call.kind == "custom":
        return {"id": "ctc_" + call.ident, "type": "custom_tool_call", "status": "completed",
                "call_id": "call_" + call.ident, "name": call.name, "input": call.arguments}
    return {"id": "fc_" + call.ident, "type": "function_call", "status": "completed",
            "call_id": "call_" + call.ident, "name": call.name, "arguments": call.arguments}


def _item_events(index: int, item: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    kind, item_id = item.get("type"), item.get("id")
    at = {"output_index": index}
    if kind == "message":
        text = item["content"][0]["text"]
        part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        where = {"item_id": item_id, **at, "content_index": 0}
        return [("response.output_item.added", {**at, "item": {**item, "status": "in_progress", "content": []}}),
                ("response.content_part.added", {**where, "part": part}),
                *(("response.output_text.delta", {**where, "delta": p, "logprobs": []}) for p in pieces(text)),
                ("response.output_text.done", {**where, "text": text, "logprobs": []}),
                ("response.content_part.done", {**where, "part": {**part, "text": text}}),
                ("response.output_item.done", {**at, "item": item})]
    if kind == "function_call":
        return [("response.output_item.added", {**at, "item": {**item, "status": "in_progress", "arguments": ""}}),
                ("response.function_call_arguments.delta", {"item_id": item_id, **at, "delta": item["arguments"]}),
                ("response.function_call_arguments.done",
                 {"item_id": item_id, **at, "name": item["name"], "arguments": item["arguments"]}),
                ("response.output_item.done", {**at, "item": item})]
    if kind == "custom_tool_call":
        return [("response.output_item.added", {**at, "item": {**item, "status": "in_progress", "input": ""}}),
                ("response.custom_tool_call_input.delta", {"item_id": item_id, **at, "delta": item["input"]}),
                ("response.custom_tool_call_input.done", {"item_id": item_id, **at, "input": item["input"]}),
                ("response.output_item.done", {**at, "item": item})]
    return [("response.output_item.added", {**at, "item": item}), ("response.output_item.done", {**at, "item": item})]


def _sse(kind: str, seq: int, data: dict[str, Any]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + dumps({"type": kind, "sequence_number": seq, **data}) + b"\n\n"
