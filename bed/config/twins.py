"""Provider twins in the router config: every live deployment is also served against its twin.

For each deployment of the user's config that calls a real provider (the caller picks them with
``bed.policy.release.live_deployments``), bed adds one more group, ``bed-twin/<group>/<index>``
(the index counts that group's deployments in config order), whose deployment is the user's with
its base pointed at the shim's twin of that provider (``bed/shim/twins``) and every credential
replaced by a fake one; the provider prefix, the model and every other parameter stay as the user
wrote them. The user's own deployments are left untouched, so the release tier
(``LIVE_PROVIDERS=1``) still calls them live. A config with no live deployment gets one twin
deployment per provider bed has a twin for (bed's default set), so the gate always runs
LiteLLM's adapters for them.

How a deployment is pointed at its twin is per provider (``POINTERS``): most take an
``api_base`` and an ``api_key``; a provider whose credentials are more (Vertex's service
account, Bedrock's SigV4 keys) registers its own pointer. A provider without one is a loud SKIP
naming it (``TwinSmoke.skip``).
"""

from __future__ import annotations

import collections
import copy
import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

PREFIX = "bed-twin/"
FAKE_KEY = "sk-bed-twin-not-a-secret"  # a twin checks that a key is there, never which
# Parameters that carry or fetch a credential: a twin-pointed deployment has none of the user's.
CREDENTIALS = ("api_key", "azure_ad_token", "azure_ad_token_provider", "tenant_id", "client_id", "client_secret",
               "azure_username", "azure_password", "azure_scope", "organization")
# provider -> the path under its twin that stands for the provider's own base (what LiteLLM appends to)
TWIN_PATHS = {"openai": "/v1", "azure": "", "anthropic": "", "gemini": "/v1beta", "mistral": "/v1",
              "groq": "/openai/v1"}
TWIN_NAMES: dict[str, str] = {}  # provider -> its twin's name under /twins/, when they differ
SURFACES = {"anthropic": ("chat", "messages")}  # others: chat completions through the proxy
# bed's default set, when the config has no live deployment: provider -> its deployment's params
DEFAULTS: dict[str, dict[str, Any]] = {
    "openai": {"model": "openai/gpt-4.1-mini"},
    "azure": {"model": "azure/gpt-4.1-mini", "api_version": "2024-10-21"},
    "anthropic": {"model": "anthropic/claude-haiku-4-5"},
    "gemini": {"model": "gemini/gemini-2.5-flash"},
    "mistral": {"model": "mistral/mistral-small-latest"},
    "groq": {"model": "groq/llama-3.3-70b-versatile"},
}
Pointer = Callable[[dict[str, Any], str], dict[str, Any]]  # the user's params, the twin's base -> the copy's


@dataclasses.dataclass(frozen=True)
class TwinSmoke:
    """One deployment, smoked through the proxy against its provider's twin."""

    group: str  # the user's group (or the provider, for bed's default set)
    index: int  # which deployment of that group, in config order
    provider: str
    model: str
    twin: str  # the twin's name (its path segment and the shim journal's ``twin``)
    twin_group: str  # the group that serves it against its twin ("" when it has none)
    surfaces: tuple[str, ...]
    skip: str = ""  # why it cannot run ("" when it can)

    @property
    def ident(self) -> str:
        """What its test ids start with: ``fast#0``."""
        return f"{self.group}#{self.index}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def keyed(params: dict[str, Any], base: str) -> dict[str, Any]:
    """The pointer of a provider that takes an ``api_base`` and an ``api_key``."""
    out = {k: v for k, v in params.items() if k not in CREDENTIALS}
    return {**out, "api_base": base, "api_key": FAKE_KEY}


POINTERS: dict[str, Pointer] = dict.fromkeys(TWIN_PATHS, keyed)


def twin_group(group: str, index: int) -> str:
    return f"{PREFIX}{group}/{index}"


def is_twin_group(name: object) -> bool:
    return isinstance(name, str) and name.startswith(PREFIX)


def provider_of(params: Mapping[str, Any]) -> str:
    """LiteLLM's provider of a deployment: ``custom_llm_provider``, else the model's prefix (openai when none)."""
    given = params.get("custom_llm_provider")
    if isinstance(given, str) and given:
        return given
    model = str(params.get("model", ""))
    return model.split("/", 1)[0] if "/" in model else "openai"


def twins_root(network_base: str) -> str:
    """``http://mini-agent:8788/v1`` -> ``http://mini-agent:8788/twins``."""
    scheme, _, rest = network_base.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/twins"


def derive(live: Iterable[Mapping[str, Any]], network_base: str, *,
           shim: bool = True) -> tuple[list[dict[str, Any]], list[TwinSmoke]]:
    """The twin-pointed deployments to add, and one smoke per live deployment (or per default twin).

    ``live``: the config's deployments that call a real provider. ``shim``: bed's shim is the
    upstream (with your own agent there, there are no twins to call).
    """
    live = [e for e in live if not is_twin_group(e.get("model_name"))]
    if not live:
        live = [{"model_name": provider, "litellm_params": dict(params)} for provider, params in DEFAULTS.items()]
    root, counts = twins_root(network_base), collections.Counter[str]()
    added, smokes = [], []
    for entry in live:
        group = str(entry["model_name"])
        index, counts[group] = counts[group], counts[group] + 1
        params = dict(entry.get("litellm_params") or {})
        provider, model = provider_of(params), str(params.get("model", ""))
        twin = TWIN_NAMES.get(provider, provider)
        skip = _why_not(group, index, provider, model, shim)
        name = "" if skip else twin_group(group, index)
        if name:
            copied = copy.deepcopy({k: v for k, v in entry.items() if k not in ("model_name", "litellm_params")})
            if isinstance(copied.get("model_info"), dict):
                copied["model_info"].pop("id", None)  # a deployment id must stay unique
            pointed = POINTERS[provider](copy.deepcopy(params), f"{root}/{twin}{TWIN_PATHS.get(provider, '')}")
            added.append({"model_name": name, "litellm_params": pointed, **copied})
        smokes.append(TwinSmoke(group, index, provider, model, twin, name, SURFACES.get(provider, ("chat",)), skip))
    return added, smokes


def _why_not(group: str, index: int, provider: str, model: str, shim: bool) -> str:
    where = f"{group}#{index} ({provider}/{model.split('/', 1)[-1]})"
    if not shim:
        return f"NO TWIN RUN: {where}: your agent stands where bed's shim does, and the twins are the shim's"
    if provider not in POINTERS:
        return f"NO TWIN: {where}: bed has no twin of {provider} (twins: {', '.join(sorted(POINTERS))})"
    if "*" in group or "*" in model:
        return f"NO TWIN RUN: {where}: a wildcard deployment names no one model to call"
    return ""
