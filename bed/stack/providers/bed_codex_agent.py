"""The ``codex-agent`` provider as the LiteLLM PROXY loads it: ``codex-agent/<model>`` -> one base.

The proxy loads this file from its router config:

    litellm_settings:
      custom_provider_map:
        - {provider: codex-agent, custom_handler: bed_codex_agent.handler}

LiteLLM's ``get_instance_fn`` looks for ``<config dir>/bed_codex_agent.py`` first and only then
imports ``bed_codex_agent`` from ``sys.path``; bed copies this file next to router.yaml
(/etc/bed/). It runs inside the proxy, which imported litellm long before it reads its config,
so nothing here may depend on import order: the environment the proxy needs
(``LITELLM_LOCAL_MODEL_COST_MAP``, ``CODEX_AGENT_API_BASE``) is the container's, set when the
container is created. The base is the deployment's ``api_base`` (bed writes the run's one base
there), else ``CODEX_AGENT_API_BASE``.

The proxy calls ``acompletion`` for plain and ``astreaming`` for streamed requests; the sync
pair serves the SDK. Streamed chunks are ``GenericStreamingChunk`` dicts, the shape every
LiteLLM release since custom providers exist accepts (bed compares releases). Only the
standard library, httpx and litellm are used: they are in every proxy image.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import litellm
from litellm import CustomLLM
from litellm.llms.custom_llm import CustomLLMError

PROVIDER = "codex-agent"
# Marks every upstream request, so a test can tell this provider's traffic from openai/'s.
MARK_HEADER = "x-bed-provider"
PASSED_THROUGH = ("max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "n", "seed", "tools",
                  "tool_choice", "user", "response_format", "parallel_tool_calls")
DEFAULT_TIMEOUT_S = 600.0


def _base(api_base: str | None) -> str:
    base = api_base or os.environ.get("CODEX_AGENT_API_BASE", "")
    if not base:
        raise CustomLLMError(status_code=500, message=(
            "codex-agent: no api_base in the deployment, and CODEX_AGENT_API_BASE is not set in the proxy"))
    return base.rstrip("/")


def _request(model: str, messages: list[Any], api_base: str | None, api_key: str | None,
             optional_params: dict[str, Any], *, stream: bool) -> tuple[str, dict[str, Any], dict[str, str]]:
    body: dict[str, Any] = {"model": model, "messages": messages,
                            **{k: v for k, v in optional_params.items() if k in PASSED_THROUGH}}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    headers = {"Authorization": f"Bearer {api_key or 'sk-codex-agent'}", MARK_HEADER: PROVIDER}
    return f"{_base(api_base)}/chat/completions", body, headers


def _timeout(timeout: Any) -> float:
    return float(timeout) if isinstance(timeout, (int, float)) else DEFAULT_TIMEOUT_S


def _raise_for_status(response: httpx.Response, body: str) -> None:
    # CustomLLMError keeps the upstream's status, so the proxy's retries, fallbacks and the
    # status its client sees follow the upstream (a 429 stays a 429).
    if response.status_code >= 400:
        raise CustomLLMError(status_code=response.status_code, message=body[:2000])


def _chunks(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        yield json.loads(data)


def _generic(chunk: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI stream chunk as LiteLLM's GenericStreamingChunk."""
    choices = chunk.get("choices") or [{}]
    choice = choices[0]
    delta = choice.get("delta") or {}
    finish = choice.get("finish_reason")
    tool_use = None
    if delta.get("tool_calls"):
        call = delta["tool_calls"][0]
        function = call.get("function") or {}
        tool_use = {"id": call.get("id"), "type": "function", "index": call.get("index", 0),
                    "function": {"name": function.get("name"), "arguments": function.get("arguments") or ""}}
    usage = chunk.get("usage")
    return {
        "text": delta.get("content") or "",
        "tool_use": tool_use,
        "is_finished": finish is not None,
        "finish_reason": finish or "",
        "usage": ({"prompt_tokens": usage.get("prompt_tokens", 0),
                   "completion_tokens": usage.get("completion_tokens", 0),
                   "total_tokens": usage.get("total_tokens", 0)} if usage else None),
        "index": choice.get("index", 0),
    }


class CodexAgentProxy(CustomLLM):  # type: ignore[misc]  # litellm ships no types for it
    """One client per handler, made on first use: connections are reused across requests."""

    def __init__(self) -> None:
        super().__init__()
        self._sync: httpx.Client | None = None
        self._async: httpx.AsyncClient | None = None

    def _client(self) -> httpx.Client:
        if self._sync is None:
            self._sync = httpx.Client(timeout=DEFAULT_TIMEOUT_S)
        return self._sync

    def _aclient(self) -> httpx.AsyncClient:
        if self._async is None:
            self._async = httpx.AsyncClient(timeout=DEFAULT_TIMEOUT_S)
        return self._async

    def completion(self, model: str, messages: list[Any], api_base: str, custom_prompt_dict: dict[str, Any],
                   model_response: Any, print_verbose: Any, encoding: Any, api_key: Any, logging_obj: Any,
                   optional_params: dict[str, Any], *args: Any, timeout: Any = None, **kwargs: Any) -> Any:
        url, body, headers = _request(model, messages, api_base, api_key, optional_params, stream=False)
        response = self._client().post(url, json=body, headers=headers, timeout=_timeout(timeout))
        _raise_for_status(response, response.text)
        return litellm.ModelResponse(**response.json())

    async def acompletion(self, model: str, messages: list[Any], api_base: str, custom_prompt_dict: dict[str, Any],
                          model_response: Any, print_verbose: Any, encoding: Any, api_key: Any, logging_obj: Any,
                          optional_params: dict[str, Any], *args: Any, timeout: Any = None, **kwargs: Any) -> Any:
        url, body, headers = _request(model, messages, api_base, api_key, optional_params, stream=False)
        response = await self._aclient().post(url, json=body, headers=headers, timeout=_timeout(timeout))
        _raise_for_status(response, response.text)
        return litellm.ModelResponse(**response.json())

    def streaming(self, model: str, messages: list[Any], api_base: str, custom_prompt_dict: dict[str, Any],
                  model_response: Any, print_verbose: Any, encoding: Any, api_key: Any, logging_obj: Any,
                  optional_params: dict[str, Any], *args: Any, timeout: Any = None,
                  **kwargs: Any) -> Iterator[dict[str, Any]]:
        url, body, headers = _request(model, messages, api_base, api_key, optional_params, stream=True)
        with self._client().stream("POST", url, json=body, headers=headers, timeout=_timeout(timeout)) as response:
            if response.status_code >= 400:
                _raise_for_status(response, response.read().decode(errors="replace"))
            for chunk in _chunks(response.iter_lines()):
                yield _generic(chunk)

    async def astreaming(self, model: str, messages: list[Any], api_base: str, custom_prompt_dict: dict[str, Any],
                         model_response: Any, print_verbose: Any, encoding: Any, api_key: Any, logging_obj: Any,
                         optional_params: dict[str, Any], *args: Any, timeout: Any = None,
                         **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        url, body, headers = _request(model, messages, api_base, api_key, optional_params, stream=True)
        request = self._aclient().build_request("POST", url, json=body, headers=headers, timeout=_timeout(timeout))
        response = await self._aclient().send(request, stream=True)
        try:
            if response.status_code >= 400:
                _raise_for_status(response, (await response.aread()).decode(errors="replace"))
            async for line in response.aiter_lines():
                for chunk in _chunks(iter((line,))):
                    yield _generic(chunk)
                if line.strip() == "data: [DONE]":
                    return
        finally:
            await response.aclose()


# What the router config names: custom_handler: bed_codex_agent.handler
handler = CodexAgentProxy()
