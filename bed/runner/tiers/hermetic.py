"""Helpers for hermetic smokes: canned OpenAI answers behind an httpx MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx


def openai_answer(seen: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    """A MockTransport handler that records each request and answers like an OpenAI server."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = json.loads(request.content)
        return httpx.Response(200, json={
            "id": "chatcmpl-det", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "pong"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        })

    return handler
