"""Live-provider smokes: opt-in only (LIVE_PROVIDERS=1) and only with the provider's key.

Each smoke goes through LiteLLM's SDK with the provider's real model string. Without the
switch or the key it is a loud SKIP that names what is missing, never a silent pass.
"""

from __future__ import annotations

import os

import pytest

PROVIDERS = {
    # provider: (key variable, model string, optional base variable)
    "openai": ("OPENAI_API_KEY", "openai/gpt-4o-mini", "OPENAI_BASE_URL"),
    "groq": ("GROQ_API_KEY", "groq/llama-3.1-8b-instant", "GROQ_API_BASE"),
    "anthropic": ("ANTHROPIC_API_KEY", "anthropic/claude-3-5-haiku-latest", "ANTHROPIC_BASE_URL"),
}


def _gate(provider: str) -> tuple[str, str | None]:
    key_var, model, base_var = PROVIDERS[provider]
    if os.environ.get("LIVE_PROVIDERS") != "1":
        pytest.skip(f"LIVE SMOKE OFF: {provider} needs LIVE_PROVIDERS=1")
    if not os.environ.get(key_var):
        pytest.skip(f"LIVE SMOKE OFF: {provider} needs {key_var}")
    return model, os.environ.get(base_var)


@pytest.mark.parametrize("provider", [pytest.param(p, marks=pytest.mark.live(p)) for p in sorted(PROVIDERS)])
def test_live_completion(provider: str) -> None:
    model, base = _gate(provider)
    import litellm

    reply = litellm.completion(model=model, api_base=base, max_tokens=8, timeout=60,
                               messages=[{"role": "user", "content": "Say OK."}])
    assert reply.choices[0].message.content
