"""Provider twins in the router config: every live deployment is also served against its twin.

For each deployment of the user's config that calls a real provider (the caller picks them with
``bed.policy.release.live_deployments``), bed adds one more group, ``bed-twin/<group>/<index>``
(the index counts that group's deployments in config order), whose deployment is the user's with
its base pointed at the shim's twin of that provider (``bed/shim/twins``) and every credential
replaced by a fake one; the provider prefix, the model and every other parameter stay as the user
wrote them. The user's own deployments are left untouched, so the release tier
(``LIVE_PROVIDERS=1``) still calls them live. A config with no live deployment gets bed's default
set (OpenAI, Anthropic, Gemini: the release tier's default providers), so every gate runs the
twins and LiteLLM's adapters for them; the other twins run for the deployments that use them (a
default set of all eight doubled the twin smokes' share of the gate for providers no deployment
of such a config uses).

How a deployment is pointed at its twin is per provider (``POINTERS``): most take an
``api_base`` and an ``api_key``; a provider whose credentials are more (Vertex's service
account, Bedrock's SigV4 keys) registers its own pointer. A provider without one is a loud SKIP
naming it (``TwinSmoke.skip``).
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..shim.twins import bedrock
from ..shim.twins._fake_google_key import PROJECT_ID, service_account_info

PREFIX = "bed-twin/"
FAKE_KEY = "sk-bed-twin-not-a-secret"  # a twin checks that a key is there, never which
# Parameters that carry or fetch a credential: a twin-pointed deployment has none of the user's.
CREDENTIALS = ("api_key", "azure_ad_token", "azure_ad_token_provider", "tenant_id", "client_id", "client_secret",
               "azure_username", "azure_password", "azure_scope", "organization", "vertex_credentials",
               "aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_role_name", "aws_session_name",
               "aws_profile_name", "aws_web_identity_token", "aws_sts_endpoint", "aws_external_id",
               "aws_bedrock_runtime_endpoint")
# provider -> the path under its twin that stands for the provider's own base (what LiteLLM appends to)
TWIN_PATHS = {"openai": "/v1", "azure": "", "anthropic": "", "gemini": "/v1beta", "mistral": "/v1",
              "groq": "/openai/v1", "vertex_ai": "", "bedrock": ""}
TWIN_NAMES = {"vertex_ai": "vertex"}  # provider -> its twin's name under /twins/, when they differ
CLAUDE_HOSTS = ("anthropic", "vertex_ai", "bedrock")  # a Claude there also serves Anthropic's Messages
# bed's default set, when the config has no live deployment: provider -> its deployment's params
DEFAULTS: dict[str, dict[str, Any]] = {
    "openai": {"model": "openai/gpt-4.1-mini"},
    "anthropic": {"model": "anthropic/claude-haiku-4-5"},
    "gemini": {"model": "gemini/gemini-2.5-flash"},
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


def vertex(params: dict[str, Any], base: str) -> dict[str, Any]:
    """Vertex AI: the fake service account, whose token URI is the twin's, and the model's whole
    Vertex path as the ``api_base``. LiteLLM calls ``{api_base}:{verb}`` for a base with a path in
    every release; a bare base gets the Vertex path grafted on only from 1.100 (1.80.17 and 1.90.7
    called ``http://mini-agent:8788:generateContent``: "Invalid port")."""
    out = {k: v for k, v in params.items() if k not in CREDENTIALS}
    root = base.rsplit("/twins/", 1)[0]
    project = out.get("vertex_project") or PROJECT_ID
    location = out.get("vertex_location") or "us-central1"
    model = str(out.get("model", "")).removeprefix("vertex_ai/")
    # Claude and the other partner models go through their own handler: the bare base it takes.
    api_base = root if "/" in model or model.startswith("claude") else \
        f"{root}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}"
    return {**out, "api_base": api_base, "vertex_project": project, "vertex_location": location,
            "vertex_credentials": json.dumps(service_account_info(f"{base}/token"))}


def aws(params: dict[str, Any], base: str) -> dict[str, Any]:
    """Bedrock: the twin's fake key pair, and its runtime endpoint for the deployment's region
    (requests are SigV4-signed for that region, and the twin checks it)."""
    out = {k: v for k, v in params.items() if k not in CREDENTIALS}
    region = str(out.get("aws_region_name") or "us-east-1")
    return {**out, "aws_region_name": region, "aws_access_key_id": bedrock.ACCESS_KEY_ID,
            "aws_secret_access_key": bedrock.SECRET_ACCESS_KEY, "aws_bedrock_runtime_endpoint": f"{base}/{region}"}


POINTERS: dict[str, Pointer] = {**dict.fromkeys(TWIN_PATHS, keyed), "vertex_ai": vertex, "bedrock": aws}


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
        smokes.append(TwinSmoke(group, index, provider, model, twin, name, surfaces(provider, model), skip))
    return added, smokes


def surfaces(provider: str, model: str) -> tuple[str, ...]:
    """The surfaces a deployment serves through the proxy: chat completions, and Anthropic's
    Messages for a Claude (LiteLLM passes /v1/messages through to Anthropic, Vertex and Bedrock)."""
    claude = provider == "anthropic" or (provider in CLAUDE_HOSTS and "claude" in model)
    return ("chat", "messages") if claude else ("chat",)


def _why_not(group: str, index: int, provider: str, model: str, shim: bool) -> str:
    where = f"{group}#{index} ({provider}/{model.split('/', 1)[-1]})"
    if not shim:
        return f"NO TWIN RUN: {where}: your agent stands where bed's shim does, and the twins are the shim's"
    if provider not in POINTERS:
        return f"NO TWIN: {where}: bed has no twin of {provider} (twins: {', '.join(sorted(POINTERS))})"
    if "*" in group or "*" in model:
        return f"NO TWIN RUN: {where}: a wildcard deployment names no one model to call"
    return ""
