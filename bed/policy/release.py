"""What the release tier calls: every live deployment of the router config under test.

A deployment is live when its provider is a real one: not the shim (the run's one base), not
the ``codex-agent`` provider. Each becomes one smoke, named after its model group, that calls
the group THROUGH THE PROXY. When the config names no live deployment, bed's default set
(openai, anthropic, gemini; the one provider the seed names is Gemini) is added to the proxy's
config, with model names a setting changes (``release_models``).

A smoke runs only with LIVE_PROVIDERS=1 and its key present; otherwise it is a loud SKIP
naming the switch or the key, and a failure when READINESS_EXPECT names its provider.
Keys reach only the proxy, and only when live calls are on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

# provider -> (default model, key variable, the variable that may point its base elsewhere)
DEFAULTS: dict[str, tuple[str, str, str]] = {
    "openai": ("gpt-4.1-mini", "OPENAI_API_KEY", "OPENAI_API_BASE"),
    "anthropic": ("claude-haiku-4-5", "ANTHROPIC_API_KEY", "ANTHROPIC_API_BASE"),
    "gemini": ("gemini-2.5-flash", "GEMINI_API_KEY", "GEMINI_API_BASE"),
}
# The key variable LiteLLM reads for a provider when a deployment names none.
KEY_VARS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY",
            "groq": "GROQ_API_KEY", "mistral": "MISTRAL_API_KEY", "cohere": "COHERE_API_KEY",
            "deepseek": "DEEPSEEK_API_KEY", "xai": "XAI_API_KEY", "together_ai": "TOGETHERAI_API_KEY",
            "fireworks_ai": "FIREWORKS_AI_API_KEY", "openrouter": "OPENROUTER_API_KEY",
            "azure": "AZURE_API_KEY", "perplexity": "PERPLEXITYAI_API_KEY"}
PROVIDERS = tuple(KEY_VARS)  # what READINESS_EXPECT may name, besides tiers and services
NOT_LIVE = ("codex-agent", "custom_openai", "openai_like", "hosted_vllm")
SURFACES = {"anthropic": ("chat", "messages")}  # others: chat completions through the proxy


@dataclasses.dataclass(frozen=True)
class Smoke:
    group: str
    provider: str
    model: str
    key_var: str  # "" when the deployment carries its key inline
    surfaces: tuple[str, ...]
    skip: str = ""  # why it cannot run ("" when it can)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def models(raw: str | Mapping[str, str] | None) -> dict[str, str]:
    """``release_models``: "openai=gpt-4.1-mini,gemini=gemini-2.5-pro" or a table; defaults for the rest."""
    chosen = {p: model for p, (model, _, _) in DEFAULTS.items()}
    if raw is None:
        return chosen
    pairs = raw.items() if isinstance(raw, Mapping) else (
        item.split("=", 1) for item in str(raw).split(",") if item.strip())
    for provider, model in pairs:
        chosen[str(provider).strip()] = str(model).strip()
    return chosen


def live_deployments(model_list: Iterable[Mapping[str, Any]], network_base: str) -> list[Mapping[str, Any]]:
    """The entries that call a real provider: not at the run's base, not a bed-only provider."""
    out = []
    for entry in model_list:
        params = entry.get("litellm_params") or {}
        _, provider = _model(params)
        if provider in NOT_LIVE or str(params.get("api_base", "")).rstrip("/") == network_base.rstrip("/"):
            continue
        out.append(entry)
    return out


def _model(params: Mapping[str, Any]) -> tuple[str, str]:
    """A deployment's model, and its provider: the model's first part (none: OpenAI, as LiteLLM reads it)."""
    model = str(params.get("model", ""))
    return model, model.partition("/")[0] if "/" in model else "openai"


def defaults(chosen: Mapping[str, str], environ: Mapping[str, str]) -> list[dict[str, Any]]:
    """bed's default live deployments (added to the proxy's config only when live calls are on)."""
    out = []
    for provider, (_, key_var, base_var) in DEFAULTS.items():
        params: dict[str, Any] = {"model": f"{provider}/{chosen[provider]}", "api_key": f"os.environ/{key_var}"}
        if environ.get(base_var):
            params["api_base"] = environ[base_var]
        out.append({"model_name": f"release-{provider}", "litellm_params": params})
    return out


def smokes(deployments: Iterable[Mapping[str, Any]], environ: Mapping[str, str], *, live: bool) -> list[Smoke]:
    """One smoke per live deployment, each runnable or with the reason it is not."""
    out = []
    for entry in deployments:
        params = entry.get("litellm_params") or {}
        model, provider = _model(params)
        key = params.get("api_key")
        key_var = key.removeprefix("os.environ/") if isinstance(key, str) and key.startswith("os.environ/") else (
            "" if key else KEY_VARS.get(provider, f"{provider.upper()}_API_KEY"))
        if not live:
            skip = f"LIVE SMOKE OFF: {entry['model_name']} ({provider}) needs LIVE_PROVIDERS=1"
        elif key_var and not environ.get(key_var):
            skip = f"LIVE SMOKE OFF: {entry['model_name']} ({provider}) needs {key_var}"
        else:
            skip = ""
        out.append(Smoke(str(entry["model_name"]), provider, model, key_var, SURFACES.get(provider, ("chat",)), skip))
    return out


def keys(smokes_: Iterable[Smoke], environ: Mapping[str, str], *, live: bool) -> dict[str, str]:
    """The provider keys the proxy gets: those of the runnable smokes, and only when live calls are on."""
    if not live:
        return {}
    return {s.key_var: environ[s.key_var] for s in smokes_ if s.key_var and environ.get(s.key_var)}
