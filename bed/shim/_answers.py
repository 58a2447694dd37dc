"""Deterministic answers: every response body is a pure function of the request and a seed."""

from __future__ import annotations

import hashlib
import json
import struct
from typing import Any

WORDS = (
    "ready", "steady", "green", "route", "group", "agent", "shim", "proxy", "token",
    "base", "venv", "strict", "smoke", "gate", "trace", "cause", "junit", "report",
)


def digest(payload: Any, seed: str) -> bytes:
    """A stable hash of the JSON form of ``payload`` and the seed."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{seed}\x00{canonical}".encode()).digest()


def reply_words(messages: Any, seed: str, choice: int, max_tokens: int | None) -> list[str]:
    """The words of one choice: an echo marker of the last user message, then hashed words."""
    last = _last_user_text(messages)
    head = f"[mini-agent] {last[:48]}".split() if last else ["[mini-agent]"]
    raw = digest({"messages": messages, "choice": choice}, seed)
    tail = [WORDS[b % len(WORDS)] for b in raw[:8]]
    words = head + tail
    if max_tokens is not None:
        words = words[: max(max_tokens, 0)]
    return words


def apply_stop(text: str, stop: Any) -> tuple[str, bool]:
    """Cut ``text`` at the first stop sequence; report whether one was hit."""
    sequences = [stop] if isinstance(stop, str) else list(stop or [])
    cut = min((text.find(s) for s in sequences if s and s in text), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


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


def tool_arguments(tool: dict[str, Any], messages: Any, seed: str) -> str:
    """JSON arguments for a tool call: each required string parameter gets a stable value."""
    params = tool.get("function", {}).get("parameters", {}) or {}
    props = params.get("properties", {}) or {}
    raw = digest({"tool": tool.get("function", {}).get("name"), "messages": messages}, seed)
    args: dict[str, Any] = {}
    for i, (name, spec) in enumerate(sorted(props.items())):
        kind = (spec or {}).get("type", "string")
        if kind in ("integer", "number"):
            args[name] = raw[i % len(raw)]
        elif kind == "boolean":
            args[name] = bool(raw[i % len(raw)] & 1)
        else:
            args[name] = WORDS[raw[i % len(raw)] % len(WORDS)]
    return json.dumps(args, sort_keys=True)


def count_tokens(messages: Any) -> int:
    """A cheap, stable token estimate: whitespace-separated words of every message."""
    total = 0
    for message in messages or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            total += len(content.split())
        elif isinstance(content, list):
            total += sum(len(str(p.get("text", "")).split()) for p in content if isinstance(p, dict))
    return total


def _last_user_text(messages: Any) -> str:
    for message in reversed(messages or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""
