"""What the release tier calls: the live deployments of the config, else the default set."""

from __future__ import annotations

import pytest

from bed.policy.release import DEFAULTS, Smoke, defaults, keys, live_deployments, models, smokes

BASE = "http://mini-agent:8788/v1"
SHIM_ENTRY = {"model_name": "codex-agent-1", "litellm_params": {"model": "openai/codex-agent-1", "api_base": BASE}}
BRIDGE = {"model_name": "codex-agent-1-chat", "litellm_params": {"model": "custom_openai/x", "api_base": BASE}}
PROVIDER = {"model_name": "p", "litellm_params": {"model": "codex-agent/codex-agent-1"}}
GEMINI = {"model_name": "fast", "litellm_params": {"model": "gemini/gemini-2.5-flash",
                                                   "api_key": "os.environ/MY_GEMINI_KEY"}}
CLAUDE = {"model_name": "smart", "litellm_params": {"model": "anthropic/claude-x", "api_key": "inline-key"}}
GPT = {"model_name": "gpt", "litellm_params": {"model": "gpt-4.1"}}  # no prefix: openai


def test_only_real_providers_are_live() -> None:
    assert live_deployments([SHIM_ENTRY, BRIDGE, PROVIDER, GEMINI, CLAUDE, GPT], BASE) == [GEMINI, CLAUDE, GPT]


@pytest.mark.parametrize(("live", "environ", "skips"), [
    (False, {}, ["needs LIVE_PROVIDERS=1"] * 3),
    (True, {}, ["needs MY_GEMINI_KEY", "", "needs OPENAI_API_KEY"]),
    (True, {"MY_GEMINI_KEY": "k1", "OPENAI_API_KEY": "k2"}, ["", "", ""]),
], ids=["switch-off", "keys-missing", "all-set"])
def test_each_smoke_says_what_it_needs(live: bool, environ: dict[str, str], skips: list[str]) -> None:
    found = smokes([GEMINI, CLAUDE, GPT], environ, live=live)
    assert [s.group for s in found] == ["fast", "smart", "gpt"]
    assert [s.provider for s in found] == ["gemini", "anthropic", "openai"]
    for smoke, skip in zip(found, skips, strict=True):
        assert (skip in smoke.skip) if skip else smoke.skip == ""
        assert smoke.skip.startswith("LIVE SMOKE OFF: ") or not smoke.skip
    assert found[1].surfaces == ("chat", "messages")  # Anthropic: the Messages API too
    assert found[0].key_var == "MY_GEMINI_KEY"
    assert found[1].key_var == ""  # an inline key: nothing to look for


def test_the_default_set_is_the_seed_s_providers_with_settable_models() -> None:
    assert set(DEFAULTS) == {"openai", "anthropic", "gemini"}
    chosen = models("gemini=gemini-2.5-pro")
    assert chosen["gemini"] == "gemini-2.5-pro"
    assert chosen["openai"] == DEFAULTS["openai"][0]
    added = defaults(chosen, {"GEMINI_API_BASE": "http://mini-agent:8788/v1beta"})
    by_group = {d["model_name"]: d["litellm_params"] for d in added}
    assert by_group["release-gemini"] == {"model": "gemini/gemini-2.5-pro", "api_key": "os.environ/GEMINI_API_KEY",
                                          "api_base": "http://mini-agent:8788/v1beta"}
    assert "api_base" not in by_group["release-openai"]


def test_keys_reach_the_proxy_only_when_live_and_only_the_ones_used() -> None:
    found = [Smoke("a", "openai", "m", "OPENAI_API_KEY", ("chat",)), Smoke("b", "gemini", "m", "", ("chat",))]
    environ = {"OPENAI_API_KEY": "k", "UNRELATED_API_KEY": "x"}
    assert keys(found, environ, live=True) == {"OPENAI_API_KEY": "k"}
    assert keys(found, environ, live=False) == {}
