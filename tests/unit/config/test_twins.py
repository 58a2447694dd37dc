"""Deriving the twin-pointed deployments from a router config (bed.config.twins)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bed.config.bases import NETWORK_BASE
from bed.config.twins import DEFAULTS, FAKE_KEY, derive, is_twin_group, twin_group, twins_root
from bed.shim.twins.bedrock import ACCESS_KEY_ID

AZURE = {"model_name": "gpt", "model_info": {"id": "mine-1", "mode": "chat"},
         "litellm_params": {"model": "azure/prod-gpt4o", "api_base": "https://acme.openai.azure.com",
                            "api_key": "os.environ/AZURE_API_KEY", "api_version": "2024-10-21", "temperature": 0.2,
                            "tenant_id": "t", "client_id": "c", "client_secret": "os.environ/AZ_SECRET"}}
GEMINI = {"model_name": "fast", "litellm_params": {"model": "gemini/gemini-2.5-flash", "api_key": "AIza-real"}}


def test_each_live_deployment_gets_a_twin_group_with_its_params_and_a_fake_key() -> None:
    live: list[dict[str, Any]] = [AZURE, GEMINI, {**GEMINI, "litellm_params": {**GEMINI["litellm_params"],
                                                                             "rpm": 10}}]
    added, smokes = derive(live, NETWORK_BASE)
    assert [e["model_name"] for e in added] == ["bed-twin/gpt/0", "bed-twin/fast/0", "bed-twin/fast/1"]
    azure = added[0]["litellm_params"]
    assert azure == {"model": "azure/prod-gpt4o", "api_base": "http://mini-agent:8788/twins/azure",
                     "api_key": FAKE_KEY, "api_version": "2024-10-21", "temperature": 0.2}
    assert added[0]["model_info"] == {"mode": "chat"}  # its own id would clash with the user's deployment's
    assert added[1]["litellm_params"]["api_base"] == "http://mini-agent:8788/twins/gemini/v1beta"
    assert added[2]["litellm_params"]["rpm"] == 10
    assert AZURE["litellm_params"]["api_key"] == "os.environ/AZURE_API_KEY"  # the user's deployment is untouched
    assert [(s.ident, s.provider, s.twin, s.surfaces, s.skip) for s in smokes] == [
        ("gpt#0", "azure", "azure", ("chat",), ""), ("fast#0", "gemini", "gemini", ("chat",), ""),
        ("fast#1", "gemini", "gemini", ("chat",), "")]


def test_a_provider_without_a_twin_is_a_loud_skip_naming_it() -> None:
    added, (smoke,) = derive([{"model_name": "c", "litellm_params": {"model": "cohere/command-r"}}], NETWORK_BASE)
    assert added == []
    assert smoke.skip.startswith("NO TWIN: c#0 (cohere/command-r): bed has no twin of cohere")


def test_no_live_deployment_means_bed_default_twin_set() -> None:
    added, smokes = derive([], NETWORK_BASE)
    assert [s.group for s in smokes] == list(DEFAULTS) == ["openai", "anthropic", "gemini"]
    assert {s.surfaces for s in smokes if s.provider == "anthropic"} == {("chat", "messages")}
    assert all(e["litellm_params"]["api_key"] == FAKE_KEY for e in added)


def test_cloud_deployments_get_the_cloud_twins_fake_credentials() -> None:
    live = [{"model_name": p, "litellm_params": {"model": m}} for p, m in [
        ("groq", "groq/llama-3.3-70b-versatile"), ("bedrock", "bedrock/anthropic.claude-3-5-haiku-20241022-v1:0"),
        ("vertex_ai", "vertex_ai/gemini-2.5-flash")]]
    added, smokes = derive(live, NETWORK_BASE)
    by_provider = {s.provider: e["litellm_params"] for s, e in zip(smokes, added, strict=True)}
    assert by_provider["groq"]["api_key"] == FAKE_KEY
    assert by_provider["bedrock"]["aws_bedrock_runtime_endpoint"] == "http://mini-agent:8788/twins/bedrock/us-east-1"
    assert by_provider["bedrock"]["aws_access_key_id"] == ACCESS_KEY_ID
    credentials = json.loads(by_provider["vertex_ai"]["vertex_credentials"])
    assert credentials["token_uri"] == "http://mini-agent:8788/twins/vertex/token"
    # The model's whole Vertex path: LiteLLM calls {api_base}:{verb} for it in every release.
    assert by_provider["vertex_ai"]["api_base"] == ("http://mini-agent:8788/v1/projects/bed-twin-project/locations/"
                                                    "us-central1/publishers/google/models/gemini-2.5-flash")
    assert {s.surfaces for s in smokes if s.provider == "bedrock"} == {("chat", "messages")}  # a Claude on Bedrock


def test_with_your_agent_in_the_shims_place_nothing_is_pointed_and_each_says_why() -> None:
    added, (smoke,) = derive([GEMINI], NETWORK_BASE, shim=False)
    assert added == []
    assert "your agent stands where bed's shim does" in smoke.skip


def test_twin_groups_are_never_twinned_again_and_wildcards_are_skipped() -> None:
    already = {"model_name": twin_group("fast", 0), "litellm_params": {"model": "gemini/x"}}
    wildcard = {"model_name": "openai/*", "litellm_params": {"model": "openai/*"}}
    added, smokes = derive([already, wildcard], NETWORK_BASE)
    assert added == []
    assert [s.skip.split(":")[0] for s in smokes] == ["NO TWIN RUN"]
    assert is_twin_group("bed-twin/a/0")
    assert not is_twin_group("a")


def test_the_twins_root_is_the_shims_host() -> None:
    assert twins_root("http://mini-agent:8788/v1") == "http://mini-agent:8788/twins"


@pytest.mark.parametrize(("model", "where"), [
    ("vertex_ai/gemini-2.5-flash", {"vertex_project": "acme", "vertex_location": "europe-west4"}),
    ("vertex_ai/claude-haiku-4-5@20251001", {}),
    ("vertex_ai/meta/llama-4-scout", {}),
], ids=["gemini-own-project", "claude", "partner"])
def test_a_vertex_base_names_the_model_or_is_bare_for_partner_models(model: str, where: dict[str, str]) -> None:
    (entry,), _ = derive([{"model_name": "v", "litellm_params": {"model": model, **where}}], NETWORK_BASE)
    params = entry["litellm_params"]
    if model.startswith("vertex_ai/gemini"):
        assert params["api_base"].endswith("/v1/projects/acme/locations/europe-west4/publishers/google/models/"
                                           "gemini-2.5-flash")
    else:  # their own handler takes the bare base
        assert params["api_base"] == "http://mini-agent:8788"
    assert params["model"] == model
