"""The ``codex-agent`` LiteLLM provider: ``codex-agent/<model>`` goes to the one resolved base.

Import order matters and is the point of this module: the environment is completed first,
then ``litellm`` is imported. ``LITELLM_LOCAL_MODEL_COST_MAP`` must be set before the import,
or litellm fetches its cost map from the internet at import time (a DNS lookup in a tier
that must have none). The base is read once, at registration, from CODEX_AGENT_API_BASE
(which bed forces equal to MINI_AGENT_API_BASE).

HTTP goes through ``litellm.client_session`` / ``litellm.aclient_session`` when they are
set, so a test can patch both transports (sync and async) and prove no socket is opened.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from typing import Any

import httpx
import litellm
from litellm import CustomLLM

PROVIDER = "codex-agent"
PASSED_THROUGH = ("max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "n", "seed", "tools",
                  "tool_choice", "user")


class CodexAgent(CustomLLM):  # type: ignore[misc]
    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base.rstrip("/")

    def _request(self, model: str, messages: list[Any], api_key: str | None,
                 optional_params: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, str]]:
        body = {"model": model, "messages": messages,
                **{k: v for k, v in optional_params.items() if k in PASSED_THROUGH}}
        headers = {"Authorization": f"Bearer {api_key or 'sk-codex-agent'}"}
        return f"{self.base}/chat/completions", body, headers

    def completion(self, model: str, messages: list[Any], api_base: str, custom_prompt_dict: dict[str, Any],
                   model_response: Any, print_verbose: Any, encoding: Any, api_key: Any, logging_obj: Any,
                   optional_params: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        url, body, headers = self._request(model, messages, api_key, optional_params)
        http = litellm.client_session or httpx.Client(timeout=60)
        response = http.post(url, json=body, headers=headers)
        response.raise_for_status()
        return litellm.ModelResponse(**response.json())

    async def acompletion(self, model: str, messages: list[Any], api_base: str, custom_prompt_dict: dict[str, Any],
                          model_response: Any, print_verbose: Any, encoding: Any, api_key: Any, logging_obj: Any,
                          optional_params: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        url, body, headers = self._request(model, messages, api_key, optional_params)
        http = litellm.aclient_session or httpx.AsyncClient(timeout=60)
        response = await http.post(url, json=body, headers=headers)
        response.raise_for_status()
        return litellm.ModelResponse(**response.json())


def register(base: str | None = None) -> CodexAgent:
    """Register the provider for the one base (CODEX_AGENT_API_BASE unless given)."""
    handler = CodexAgent(base or os.environ["CODEX_AGENT_API_BASE"])
    litellm.custom_provider_map = [p for p in litellm.custom_provider_map if p["provider"] != PROVIDER]
    litellm.custom_provider_map.append({"provider": PROVIDER, "custom_handler": handler})
    litellm.utils.custom_llm_setup()
    return handler
