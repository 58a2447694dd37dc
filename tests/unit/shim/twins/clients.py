"""The official SDKs pointed at a twin of an in-process shim (ASGI transports: no socket, no server)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import httpx2
from anthropic import AsyncAnthropic
from google import genai
from google.genai import types
from openai import AsyncAzureOpenAI, AsyncOpenAI

from bed.shim.app import Shim, create_app

WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
OPENAI_TOOL = {"type": "function", "function": {"name": "weather", "description": "the weather", "parameters": WEATHER}}
ROOT = "http://shim/twins"
T = TypeVar("T")


def new_shim() -> Shim:
    return create_app({"MINI_AGENT_SEED": "twins", "MINI_AGENT_MODELS": "codex-agent-1"})


def http(shim: Shim, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=shim), base_url="http://shim", headers=headers)


def openai(shim: Shim, twin: str, base: str, key: str = "sk-twin") -> AsyncOpenAI:
    return AsyncOpenAI(api_key=key, base_url=f"{ROOT}/{twin}{base}", http_client=http(shim), max_retries=0)


def azure(shim: Shim, version: str = "2024-10-21", key: str = "azure-key") -> AsyncAzureOpenAI:
    return AsyncAzureOpenAI(api_key=key, azure_endpoint=f"{ROOT}/azure", api_version=version, http_client=http(shim),
                            max_retries=0)


def anthropic(shim: Shim, key: str = "sk-ant-twin", headers: dict[str, str] | None = None) -> AsyncAnthropic:
    client = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=shim), base_url="http://shim")
    return AsyncAnthropic(api_key=key, base_url=f"{ROOT}/anthropic", http_client=client, max_retries=0,
                          default_headers=headers)


def gemini(shim: Shim, key: str = "AIza-twin", headers: dict[str, str] | None = None) -> genai.Client:
    options = types.HttpOptions(base_url=f"{ROOT}/gemini", api_version="v1beta", headers=headers,
                                httpx_async_client=http(shim), retry_options=types.HttpRetryOptions(attempts=1))
    return genai.Client(api_key=key, http_options=options)


def run(make: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(make())  # type: ignore[arg-type]


async def collect(stream: Any) -> list[Any]:
    """The chunks of a stream, given the SDK call that opens it (a coroutine) or the stream itself."""
    if inspect.isawaitable(stream):
        stream = await stream
    return [chunk async for chunk in stream]


def journal(shim: Shim) -> list[dict[str, Any]]:
    return shim.journal.entries()


def fault(spec: str) -> dict[str, str]:
    return {"x-bed-fault": spec}
