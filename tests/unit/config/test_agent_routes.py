"""Which routes through the gateway the agents tier drives, read off the router config."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from bed.config import agent_routes, router
from bed.config.agent_routes import Route

BASE = "http://mini-agent:8788/v1"


def _by(routes: tuple[Route, ...]) -> dict[tuple[str, str], Route]:
    return {(r.surface, r.route): r for r in routes}


def test_the_generated_config_serves_each_surface_every_way_litellm_does() -> None:
    plan = router.plan(None, "codex-agent-1", BASE, strict=False)
    found = _by(agent_routes.routes(plan.model_list, "codex-agent-1"))
    assert {k: (r.group, r.upstream) for k, r in found.items()} == {
        ("responses", "native"): ("codex-agent-1", "/responses"),
        ("responses", "chat-bridge"): ("codex-agent-1-chat", "/chat/completions"),
        ("messages", "native"): ("codex-agent-1-anthropic", "/messages"),
        ("messages", "chat-bridge"): ("codex-agent-1-chat", "/chat/completions"),
        ("messages", "responses-adapter"): ("codex-agent-1", "/responses"),
        ("gemini", "native"): ("codex-agent-1-gemini", ":streamGenerateContent"),
        ("gemini", "chat-bridge"): ("codex-agent-1", "/chat/completions"),
        ("chat", "native"): ("codex-agent-1", "/chat/completions"),
    }
    assert not any(r.skip for r in found.values())
    # native first for each surface: what `bed up` prints for a person
    assert [r.route for r in agent_routes.routes(plan.model_list, "codex-agent-1") if r.surface == "messages"] == \
        ["native", "chat-bridge", "responses-adapter"]


def test_a_config_without_bed_s_sibling_groups_skips_those_routes_naming_the_group() -> None:
    only = [router.deployment("codex-agent-1", BASE)]
    found = _by(agent_routes.routes(only, "codex-agent-1"))
    assert not found[("responses", "native")].skip
    assert not found[("chat", "native")].skip
    assert "no group codex-agent-1-gemini" in found[("gemini", "native")].skip
    assert "no group codex-agent-1-chat" in found[("responses", "chat-bridge")].skip


def test_a_group_that_points_nowhere_still_runs_its_route() -> None:
    """A broken route is a cell that fails (the gateway's fault), not one that silently vanishes."""
    plan = router.plan(None, "codex-agent-1", BASE, strict=False)
    broken = [dict(e, litellm_params={**e["litellm_params"], "api_base": "http://nowhere.invalid:9"})
              if e["model_name"] == "codex-agent-1-gemini" else e for e in plan.model_list]
    found = _by(agent_routes.routes(broken, "codex-agent-1"))
    assert found[("gemini", "native")].group == "codex-agent-1-gemini"
    assert not found[("gemini", "native")].skip


def test_supported_endpoints_opt_a_custom_openai_group_into_native_pass_through() -> None:
    entry = {**router.bridge("codex-agent-1", BASE),
             "model_info": {"supported_endpoints": ["/v1/chat/completions", "/v1/messages"]}}
    found = _by(agent_routes.routes([router.deployment("codex-agent-1", BASE), entry], "codex-agent-1"))
    assert found[("messages", "native")].group == "codex-agent-1-chat"
    assert found[("messages", "native")].upstream == "/messages"
    assert found[("responses", "chat-bridge")].group == "codex-agent-1-chat"  # not opted in for responses


def test_the_environment_is_json_the_tier_reads(tmp_path: Path) -> None:
    text = router.plan(None, "agent-x", BASE, strict=False).text
    routes = json.loads(agent_routes.environment(text, "agent-x"))
    assert {"surface": "gemini", "route": "native", "group": "agent-x-gemini",
            "upstream": ":streamGenerateContent"} in routes
    assert all("skip" not in r for r in routes)
    assert agent_routes.from_yaml(yaml.safe_dump({"model_list": "nonsense"}), "agent-x")  # skips, never crashes
