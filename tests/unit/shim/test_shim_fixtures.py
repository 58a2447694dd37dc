"""Shared by the shim's tests: the shim in-process, and the official clients pointed at it.

The openai SDK takes an ``httpx`` client and the anthropic SDK an ``httpx2`` one; both have an
ASGI transport, so every request goes straight into the app, with no socket and no server.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import httpx2
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from bed.shim.app import Shim, create_app

MODEL = "codex-agent-1"
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def new_shim() -> Shim:
    return create_app({"MINI_AGENT_SEED": "test", "MINI_AGENT_MODELS": f"{MODEL},other"})


def openai_client(shim: Shim) -> AsyncOpenAI:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=shim), base_url="http://shim")
    return AsyncOpenAI(api_key="sk-unused", base_url="http://shim/v1", http_client=http, max_retries=0)


def anthropic_client(shim: Shim) -> AsyncAnthropic:
    http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=shim), base_url="http://shim")
    return AsyncAnthropic(api_key="sk-ant-unused", base_url="http://shim", http_client=http, max_retries=0)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


class Raw:
    """Plain HTTP against the app, for bytes, statuses and headers the SDKs hide."""

    def __init__(self, shim: Shim) -> None:
        self.shim = shim

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        async def call() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.shim), base_url="http://shim") as c:
                return await c.request(method, url, **kw)

        return asyncio.run(call())

    def post(self, url: str, body: Any, **kw: Any) -> httpx.Response:
        return self.request("POST", url, json=body, **kw)

    def journal(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.request("GET", "/_bed/journal").json()["entries"]
        return entries


def sse_events(text: str) -> list[tuple[str | None, Any]]:
    """(event name, parsed data) of each SSE event; data that is not JSON is kept as text."""
    events: list[tuple[str | None, Any]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = None, None
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
        if data is not None:
            try:
                events.append((name, json.loads(data)))
            except ValueError:
                events.append((name, data))
    return events
