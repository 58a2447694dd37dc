"""The one answer core: a neutral conversation in, a deterministic answer out.

Every surface (chat completions, Responses, Anthropic Messages, Gemini) parses its request into
a ``Conversation`` and renders the ``Answer`` in its own protocol; what to say is decided here
only, as a pure function of the conversation, the seed and (for a scripted turn) the ``Step``.

Without a script: when the request offers tools (and does not forbid calling them), the answer
calls the first offered tool (or the one the request names) unless the conversation's last turn
is a tool result, in which case it answers in text, so an agent loop ends after one round trip.
A text answer is ``[mini-agent]``, the start of the last user message, then eight words hashed
from the conversation and the seed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import struct
from collections.abc import Mapping, Sequence
from typing import Any

WORDS = (
    "ready", "steady", "green", "route", "group", "agent", "shim", "proxy", "token",
    "base", "venv", "strict", "smoke", "gate", "trace", "cause", "junit", "report",
)
TOOL_OUTPUT = "{tool_output}"  # replaced in a scripted text by the latest tool result
TOOL_OUTPUT_LIMIT = 2000


@dataclasses.dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the request offers: ``kind`` is "function" (JSON arguments) or "custom" (free text)."""

    name: str
    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    kind: str = "function"


@dataclasses.dataclass(frozen=True, slots=True)
class ToolCall:
    """One call the assistant makes; ``ident`` is hex each surface prefixes its own way."""

    ident: str
    name: str
    arguments: str  # JSON text for a function tool, the raw input for a custom tool
    kind: str = "function"


@dataclasses.dataclass(frozen=True, slots=True)
class Turn:
    role: str  # "system", "user", "assistant" or "tool"
    text: str = ""
    calls: tuple[ToolCall, ...] = ()


@dataclasses.dataclass(slots=True)
class Conversation:
    """A request in neutral form. ``choice`` is "auto", "none", "required" or a tool's name."""

    model: str
    turns: list[Turn]
    tools: tuple[ToolSpec, ...] = ()
    choice: str = "auto"
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    n: int = 1

    @property
    def tool_results(self) -> int:
        return sum(1 for t in self.turns if t.role == "tool")

    def last_tool_output(self) -> str:
        return next((t.text for t in reversed(self.turns) if t.role == "tool"), "")

    def last_user_text(self) -> str:
        return next((t.text for t in reversed(self.turns) if t.role == "user" and t.text), "")

    def offered(self, name: str) -> ToolSpec | None:
        return next((t for t in self.tools if t.name == name), None)

    def input_tokens(self) -> int:
        """A cheap, stable token estimate: whitespace-separated words of every turn."""
        return sum(len(t.text.split()) for t in self.turns)


@dataclasses.dataclass(frozen=True, slots=True)
class Step:
    """One scripted turn: a tool call (first offered of ``tools``), a text, or a raw output item."""

    tools: tuple[str, ...] = ()
    arguments: Any = None
    text: str | None = None
    raw_item: Mapping[str, Any] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    """What to say. ``finish``: "stop", "length", "stop_sequence" or "tool"."""

    text: str
    calls: tuple[ToolCall, ...] = ()
    raw_items: tuple[Mapping[str, Any], ...] = ()
    finish: str = "stop"
    stop_sequence: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0

    def pieces(self) -> list[str]:
        return pieces(self.text)


def pieces(text: str) -> list[str]:
    """A text as stream deltas (one per word, spaces kept) that join back to the text."""
    if not text:
        return []
    words = text.split(" ")
    return [words[0], *(" " + w for w in words[1:])]


def answer(conv: Conversation, seed: str, choice: int = 0, step: Step | None = None) -> Answer:
    tokens_in = conv.input_tokens()
    if step is not None:
        return _scripted(conv, seed, choice, step, tokens_in)
    tool = _tool_to_call(conv)
    if tool is not None:
        call = _call(conv, seed, choice, tool, _arguments(tool, conv, seed))
        return Answer("", (call,), finish="tool", input_tokens=tokens_in, output_tokens=1)
    words = reply_words(conv, seed, choice)
    text, hit = apply_stop(" ".join(words), conv.stop)
    if hit is not None:
        finish = "stop_sequence"
    elif conv.max_tokens is not None and len(words) >= conv.max_tokens:
        finish = "length"
    else:
        finish = "stop"
    return Answer(text, finish=finish, stop_sequence=hit, input_tokens=tokens_in,
                  output_tokens=len(text.split()) if text else 0)


def _scripted(conv: Conversation, seed: str, choice: int, step: Step, tokens_in: int) -> Answer:
    text = ""
    if step.text is not None:
        text = step.text.replace(TOOL_OUTPUT, conv.last_tool_output()[:TOOL_OUTPUT_LIMIT])
    calls: tuple[ToolCall, ...] = ()
    tool = next((t for name in step.tools if (t := conv.offered(name)) is not None), None)
    if tool is not None:
        args = step.arguments if step.arguments is not None else {}
        if isinstance(args, str):
            arguments = args
        elif tool.kind == "custom" and isinstance(args, dict):
            arguments = str(args.get("input", ""))  # a free-text tool takes {"input": "..."} or a string
        else:
            arguments = json.dumps(args)
        calls = (_call(conv, seed, choice, tool, arguments),)
    raw = (step.raw_item,) if step.raw_item is not None else ()
    return Answer(text, calls, raw, finish="tool" if calls else "stop", input_tokens=tokens_in,
                  output_tokens=len(text.split()) + len(calls) + len(raw))


def _tool_to_call(conv: Conversation) -> ToolSpec | None:
    if not conv.tools or conv.choice == "none":
        return None
    if conv.choice == "required":
        return conv.tools[0]
    if conv.choice != "auto":
        return conv.offered(conv.choice)
    if conv.turns and conv.turns[-1].role == "tool":
        return None  # the tool ran: answer in text, so an agent loop ends
    return conv.tools[0]


def _call(conv: Conversation, seed: str, choice: int, tool: ToolSpec, arguments: str) -> ToolCall:
    # The number of tool results so far is in the id, so every leg of an agent loop gets a new one.
    ident = digest([tool.name, arguments, conv.tool_results, choice], seed).hex()[:24]
    return ToolCall(ident, tool.name, arguments, tool.kind)


def digest(payload: Any, seed: str) -> bytes:
    """A stable hash of the JSON form of ``payload`` and the seed."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{seed}\x00{canonical}".encode()).digest()


def _canonical(conv: Conversation) -> list[Any]:
    return [[t.role, t.text, [[c.name, c.arguments] for c in t.calls]] for t in conv.turns]


def reply_words(conv: Conversation, seed: str, choice: int = 0) -> list[str]:
    """The words of one choice: an echo marker of the last user message, then hashed words."""
    last = conv.last_user_text()
    head = f"[mini-agent] {last[:48]}".split() if last else ["[mini-agent]"]
    raw = digest({"turns": _canonical(conv), "choice": choice}, seed)
    words = head + [WORDS[b % len(WORDS)] for b in raw[:8]]
    if conv.max_tokens is not None:
        words = words[: max(conv.max_tokens, 0)]
    return words


def apply_stop(text: str, stop: Sequence[str]) -> tuple[str, str | None]:
    """Cut ``text`` at the first stop sequence; return the sequence that was hit, if any."""
    hits = [(text.find(s), s) for s in stop if s and s in text]
    if not hits:
        return text, None
    cut, sequence = min(hits)
    return text[:cut], sequence


def _arguments(tool: ToolSpec, conv: Conversation, seed: str) -> str:
    """Arguments for an unscripted call: each parameter gets a stable value of its type."""
    raw = digest({"tool": tool.name, "turns": _canonical(conv)}, seed)
    if tool.kind == "custom":
        return WORDS[raw[0] % len(WORDS)]
    props = tool.parameters.get("properties") or {}
    args: dict[str, Any] = {}
    for i, (name, spec) in enumerate(sorted(props.items()) if isinstance(props, dict) else ()):
        kind = str((spec or {}).get("type", "string") if isinstance(spec, dict) else "string").lower()
        byte = raw[i % len(raw)]
        if kind in ("integer", "number"):
            args[name] = byte
        elif kind == "boolean":
            args[name] = bool(byte & 1)
        elif kind == "array":
            args[name] = [WORDS[byte % len(WORDS)]]
        elif kind == "object":
            args[name] = {}
        else:
            args[name] = WORDS[byte % len(WORDS)]
    return json.dumps(args, sort_keys=True)


def embedding(text: str, seed: str, dims: int) -> list[float]:
    """A unit-length vector derived from the text: equal inputs give equal vectors."""
    values: list[float] = []
    counter = 0
    while len(values) < dims:
        block = hashlib.sha256(f"{seed}\x00{counter}\x00{text}".encode()).digest()
        values.extend(v / 2**31 for v in struct.unpack("<8i", block))
        counter += 1
    values = values[:dims]
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    return [round(v / norm, 6) for v in values]


def text_of(content: Any, kinds: tuple[str, ...] = ("text", "input_text", "output_text")) -> str:
    """The text of a content field: a string, or the text parts of a list of parts, space-joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content
                        if isinstance(p, dict) and p.get("type", "text") in kinds)
    return ""
