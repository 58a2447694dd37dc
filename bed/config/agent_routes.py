"""Which routes through the gateway the agents tier drives, read off the run's router config.

An agent speaks one surface (the Responses API, Anthropic Messages, the Gemini API or chat
completions); LiteLLM sends it upstream by a route that depends on the deployment's provider:
passed through natively, bridged to chat completions, or adapted onto another API. bed's own
agent groups (the configured group, its ``-chat``, ``-gemini`` and ``-anthropic`` siblings, see
``bed.config.router``) each serve one or more routes; every route one of them serves runs, once per
surface and route. A route bed's generated config would serve but the user's config has no group
for is a cell that skips, naming the group. The table is LiteLLM 1.108.7's, as measured
(docs/agents-research.md); the agent tier checks each turn's upstream path against it, so a
release that routes differently fails the cell and says where the request went instead.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from . import router

# (surface, provider prefix) -> (route, the end of the upstream path the shim then sees)
ROUTES: dict[tuple[str, str], tuple[str, str]] = {
    ("responses", "openai"): ("native", "/responses"),
    ("responses", "custom_openai"): ("chat-bridge", "/chat/completions"),
    ("messages", "anthropic"): ("native", "/messages"),
    ("messages", "openai"): ("responses-adapter", "/responses"),
    ("messages", "custom_openai"): ("chat-bridge", "/chat/completions"),
    ("gemini", "gemini"): ("native", ":streamGenerateContent"),
    ("gemini", "openai"): ("chat-bridge", "/chat/completions"),
    ("chat", "openai"): ("native", "/chat/completions"),
    ("chat", "custom_openai"): ("native", "/chat/completions"),
}
SURFACES = ("responses", "messages", "gemini", "chat")
ORDER = ("native", "chat-bridge", "responses-adapter")  # how a surface's routes are listed
# model_info.supported_endpoints that opt a custom_openai/ deployment into native pass-through.
_OPT_IN = {"responses": "/v1/responses", "messages": "/v1/messages"}


@dataclasses.dataclass(frozen=True)
class Route:
    surface: str
    route: str
    group: str
    upstream: str
    skip: str = ""  # why it does not run here (no group for it in the router config)

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v or k != "skip"}


def agent_groups(group: str) -> tuple[str, ...]:
    """bed's groups for the agents tier, in the order their routes are taken."""
    return (group, router.bridge_group(group), router.gemini_group(group), router.anthropic_group(group))


def routes(model_list: Iterable[Mapping[str, Any]], group: str) -> tuple[Route, ...]:
    """Every (surface, route) bed's agent groups serve in this config, each once; and, skipping,
    those of the generated config that this one has no group for."""
    entries = {str(e.get("model_name")): e for e in model_list if isinstance(e, Mapping)}
    found: dict[tuple[str, str], Route] = {}
    for name in agent_groups(group):
        if name in entries:
            for route in _served(entries[name], name):
                found.setdefault((route.surface, route.route), route)
    wanted = {(r.surface, r.route): r for name, entry in _generated(group).items() for r in _served(entry, name)}
    for key, route in wanted.items():
        if key not in found:
            found[key] = dataclasses.replace(route, skip=f"the router config has no group {route.group} "
                                                         f"(the {route.route} route of the {route.surface} surface)")
    return tuple(sorted(found.values(), key=lambda r: (SURFACES.index(r.surface), ORDER.index(r.route)
                                                       if r.route in ORDER else len(ORDER), r.route)))


def _served(entry: Mapping[str, Any], name: str) -> list[Route]:
    params = entry.get("litellm_params") or {}
    model = str(params.get("model", "")) if isinstance(params, Mapping) else ""
    provider = model.split("/", 1)[0] if "/" in model else ""
    info = entry.get("model_info") or {}
    endpoints = info.get("supported_endpoints") or [] if isinstance(info, Mapping) else []
    out = []
    for surface in SURFACES:
        served = ROUTES.get((surface, provider))
        if served is None:
            continue
        if provider == "custom_openai" and _OPT_IN.get(surface) in endpoints:
            served = ("native", "/responses" if surface == "responses" else "/messages")
        out.append(Route(surface, served[0], name, served[1]))
    return out


def _generated(group: str) -> dict[str, Mapping[str, Any]]:
    base = "http://mini-agent:8788/v1"  # any base: only the providers matter here
    plan = router.plan(None, group, base, strict=False)
    return {str(e["model_name"]): e for e in plan.model_list if e["model_name"] in agent_groups(group)}


def from_yaml(router_yaml: str, group: str) -> tuple[Route, ...]:
    """The routes of the router config the proxy runs (its YAML, as bed wrote it)."""
    config = yaml.safe_load(router_yaml) or {}
    model_list = config.get("model_list") if isinstance(config, dict) else None
    return routes(model_list if isinstance(model_list, list) else [], group)


def environment(router_yaml: str, group: str) -> str:
    """BED_AGENT_ROUTES for the agent tier."""
    return json.dumps([r.to_dict() for r in from_yaml(router_yaml, group)])
