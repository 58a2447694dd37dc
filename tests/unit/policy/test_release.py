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


@pytest.mark.parametrize(("raw", "expected"), [
    (None, {"openai": "gpt-4.1-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash"}),
    ("openai=gpt-5, gemini = gemini-2.5-pro ,", {"openai": "gpt-5", "anthropic": "claude-haiku-4-5",
                                                 "gemini": "gemini-2.5-pro"}),
    ("groq=llama=3", {"openai": "gpt-4.1-mini", "anthropic": "claude-haiku-4-5", "gemini": "gemini-2.5-flash",
                      "groq": "llama=3"}),
    ({"anthropic": " claude-x ", "mistral": "m"}, {"openai": "gpt-4.1-mini", "anthropic": "claude-x",
                                                   "gemini": "gemini-2.5-flash", "mistral": "m"}),
], ids=["defaults", "two-pairs-and-spaces", "a-model-with-an-equals-sign", "a-table"])
def test_release_models_read_a_string_or_a_table(raw: str | dict[str, str] | None, expected: dict[str, str]) -> None:
    assert models(raw) == expected


@pytest.mark.parametrize(("params", "live"), [
    ({"model": "gemini/x", "api_base": BASE + "/"}, False),  # the run's base, with a trailing slash
    ({"model": "gemini/x", "api_base": "http://mini-agent:8788/v1beta"}, True),
    ({"model": "hosted_vllm"}, True),  # no prefix: an OpenAI model, whatever its name
    ({"model": "hosted_vllm/x"}, False),
    ({"model": "openrouter/codex-agent/x"}, True),  # the provider is the first part
    ({"model": "hosted_vllm/org/x"}, False),
    ({}, True),
], ids=["the-run-s-base", "another-base", "no-prefix", "bed-only-provider", "first-part", "first-of-three", "no-model"])
def test_what_makes_a_deployment_live(params: dict[str, str], live: bool) -> None:
    entry = {"model_name": "g", "litellm_params": params}
    assert (live_deployments([entry], BASE) == [entry]) is live
    assert (live_deployments([entry], BASE + "/") == [entry]) is live


@pytest.mark.parametrize(("params", "provider", "model", "key_var", "surfaces"), [
    ({"model": "openrouter/anthropic/claude-x"}, "openrouter", "openrouter/anthropic/claude-x",
     "OPENROUTER_API_KEY", ("chat",)),
    ({"model": "together_ai/llama"}, "together_ai", "together_ai/llama", "TOGETHERAI_API_KEY", ("chat",)),
    ({"model": "vertex_ai/gemini-x"}, "vertex_ai", "vertex_ai/gemini-x", "VERTEX_AI_API_KEY", ("chat",)),
    ({"model": "anthropic/claude-x"}, "anthropic", "anthropic/claude-x", "ANTHROPIC_API_KEY", ("chat", "messages")),
    ({"model": "gpt-4.1"}, "openai", "gpt-4.1", "OPENAI_API_KEY", ("chat",)),
    ({}, "openai", "", "OPENAI_API_KEY", ("chat",)),
    ({"model": "groq/x", "api_key": "os.environ/TEAM_GROQ"}, "groq", "groq/x", "TEAM_GROQ", ("chat",)),
], ids=["first-part-is-the-provider", "litellm-s-own-key-name", "unknown-provider", "anthropic", "no-prefix",
        "no-model", "a-named-key"])
def test_each_smoke_names_its_provider_model_key_and_surfaces(params: dict[str, str], provider: str, model: str,
                                                               key_var: str, surfaces: tuple[str, ...]) -> None:
    found = smokes([{"model_name": "g", "litellm_params": params}], {key_var: "k"}, live=True)
    assert found == [Smoke("g", provider, model, key_var, surfaces, "")]


def test_a_smoke_off_says_exactly_what_it_needs() -> None:
    entry = {"model_name": "fast", "litellm_params": {"model": "groq/x"}}
    assert smokes([entry], {}, live=False)[0].skip == "LIVE SMOKE OFF: fast (groq) needs LIVE_PROVIDERS=1"
    assert smokes([entry], {"GROQ_API_KEY": ""}, live=True)[0].skip == "LIVE SMOKE OFF: fast (groq) needs GROQ_API_KEY"


def test_a_smoke_is_reported_field_by_field() -> None:
    smoke = Smoke("fast", "gemini", "gemini/x", "GEMINI_API_KEY", ("chat",), "why")
    assert smoke.to_dict() == {"group": "fast", "provider": "gemini", "model": "gemini/x",
                               "key_var": "GEMINI_API_KEY", "surfaces": ("chat",), "skip": "why"}


def test_a_key_the_environment_lacks_is_not_passed_on() -> None:
    found = [Smoke("a", "openai", "m", "OPENAI_API_KEY", ("chat",)), Smoke("b", "groq", "m", "GROQ_API_KEY", ("chat",))]
    assert keys(found, {"OPENAI_API_KEY": "k", "GROQ_API_KEY": ""}, live=True) == {"OPENAI_API_KEY": "k"}
    assert keys(found, {"GROQ_API_KEY": "g"}, live=True) == {"GROQ_API_KEY": "g"}


@pytest.mark.parametrize(("api_base", "network_base", "at_the_run_s_base"), [
    (BASE, BASE, True), (BASE + "/", BASE, True), (BASE, BASE + "/", True), (BASE + "//", BASE, True),
    (BASE + "X", BASE, False), (BASE, BASE + "X", False), ("http://other:8788/v1", BASE, False),
], ids=["same", "trailing-slash", "base-with-trailing-slash", "two-slashes", "longer", "shorter", "other-host"])
def test_only_trailing_slashes_are_trimmed_when_bases_are_compared(api_base: str, network_base: str,
                                                                   at_the_run_s_base: bool) -> None:
    entry = {"model_name": "g", "litellm_params": {"model": "gemini/x", "api_base": api_base}}
    assert (live_deployments([entry], network_base) == []) is at_the_run_s_base
