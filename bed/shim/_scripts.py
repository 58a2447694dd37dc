"""Scripted agent turns: what the shim answers to a test's own prompt, leg by leg.

A script (``POST /_bed/scripts``)::

    {"contains": "<marker>", "model": "<optional>", "steps": [STEP, ...]}

applies to a request whose raw body contains the marker (and whose model is ``model``, when
given). Step k answers a conversation that already holds k tool results (OpenAI
``function_call_output`` / ``*_call_output`` items, Anthropic ``tool_result`` blocks, chat
``role: tool`` messages, Gemini ``functionResponse`` parts); past the last step, the last
repeats. It is stateless: the conversation alone picks the step. A STEP is one of

    {"tool": "name" | ["name", "alt name"], "arguments": {...}}  call the first listed tool the
        request offers (a custom/free-text tool takes a string or {"input": "..."}); an optional
        "text" is said before the call. A request that offers none of them is not scripted
        (agents send side requests, titles and summaries, that carry the prompt but no tools).
    {"text": "..."}  say this; "{tool_output}" becomes the latest tool result (first 2000 chars).
    {"raw_output_item": {...}}  Responses API only: emit this output item as it is (an agent's
        built-in item type); other surfaces answer normally. An optional "tool" makes it apply
        only when the request offers one of those tools.

Several scripts may match: the earliest added wins; adding one with the same marker and model
replaces it. Bounded: at most ``LIMIT`` scripts, the oldest dropped first.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from typing import Any

from ._core import Conversation, Step

LIMIT = 256


class ScriptError(ValueError):
    """A script that does not parse; the admin API answers 400 with this message."""


@dataclasses.dataclass(frozen=True, slots=True)
class Script:
    contains: str
    model: str | None
    steps: tuple[Step, ...]
    source: Mapping[str, Any]  # as posted, for GET /_bed/scripts

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> Script:
        contains, model, steps = body.get("contains"), body.get("model"), body.get("steps")
        if not isinstance(contains, str) or not contains:
            raise ScriptError("contains must be a non-empty string (a marker in the prompt)")
        if model is not None and not isinstance(model, str):
            raise ScriptError("model must be a string")
        if not isinstance(steps, list) or not steps:
            raise ScriptError("steps must be a non-empty list")
        return cls(contains, model, tuple(_step(s, i) for i, s in enumerate(steps)), dict(body))

    def step_for(self, conv: Conversation, raw_items: bool) -> Step | None:
        """The step for this conversation, or None when the script does not apply to it."""
        step = self.steps[min(conv.tool_results, len(self.steps) - 1)]
        offered = any(conv.offered(name) is not None for name in step.tools)
        if step.raw_item is not None:
            return step if raw_items and (offered or not step.tools) else None
        if step.tools and not offered:
            return None
        return step


def _step(raw: Any, index: int) -> Step:
    where = f"steps[{index}]"
    if not isinstance(raw, dict):
        raise ScriptError(f"{where} must be an object")
    unknown = set(raw) - {"tool", "arguments", "text", "raw_output_item"}
    if unknown:
        raise ScriptError(f"{where} has unknown keys {sorted(unknown)}")
    tools = raw.get("tool")
    names = (tools,) if isinstance(tools, str) else tuple(tools) if isinstance(tools, list) else ()
    if tools is not None and (not names or not all(isinstance(n, str) and n for n in names)):
        raise ScriptError(f"{where}.tool must be a tool name or a non-empty list of names")
    text, item = raw.get("text"), raw.get("raw_output_item")
    if text is not None and not isinstance(text, str):
        raise ScriptError(f"{where}.text must be a string")
    if item is not None and not (isinstance(item, dict) and isinstance(item.get("type"), str)):
        raise ScriptError(f"{where}.raw_output_item must be an object with a type")
    arguments = raw.get("arguments")
    if arguments is not None and not isinstance(arguments, (dict, str)):
        raise ScriptError(f"{where}.arguments must be an object (or a string for a free-text tool)")
    if not names and text is None and item is None:
        raise ScriptError(f"{where} needs one of tool, text or raw_output_item")
    if item is not None and text is not None:
        raise ScriptError(f"{where}: raw_output_item goes alone (or with tool, to require it)")
    return Step(names, arguments, text, item)


class Scripts:
    def __init__(self, limit: int = LIMIT) -> None:
        self._items: list[Script] = []
        self._limit = limit
        self._lock = threading.Lock()

    def add(self, script: Script) -> int:
        with self._lock:
            self._items = [s for s in self._items if (s.contains, s.model) != (script.contains, script.model)]
            self._items.append(script)
            del self._items[: max(0, len(self._items) - self._limit)]
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items = []

    def listing(self) -> list[Mapping[str, Any]]:
        return [s.source for s in self._items]

    def pick(self, text: str, model: str, conv: Conversation, raw_items: bool) -> Step | None:
        """The step of the first script that matches this request and applies to it."""
        for script in self._items:
            if script.contains in text and (script.model is None or script.model == model):
                step = script.step_for(conv, raw_items)
                if step is not None:
                    return step
        return None

    def __len__(self) -> int:
        return len(self._items)
