"""Provider twins, as a new user meets them: a router config of their own with one deployment per
provider bed has a twin for, no keys, `bed run --tier nd --router-config`: every deployment runs
through the real proxy and LiteLLM's own adapter against its twin, and bed's own ND smokes pass
on the groups it adds. A deployment with a parameter the provider refuses fails with the
provider's error and the refused request in CAUSE; a provider without a twin is a loud SKIP; the
release tier with the same config, LIVE_PROVIDERS=1 and no keys skips loudly, as before."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .conftest import bed_cli

pytestmark = pytest.mark.usefixtures("images", "no_leftovers")
DEPLOYMENTS = {
    "gpt": "{model: openai/gpt-4.1-mini, api_key: os.environ/OPENAI_API_KEY}",
    "az": "{model: azure/prod-gpt4o, api_base: 'https://acme.openai.azure.com', api_key: os.environ/AZURE_API_KEY,"
          " api_version: '2024-10-21'}",
    "claude": "{model: anthropic/claude-haiku-4-5, api_key: os.environ/ANTHROPIC_API_KEY}",
    "fast": "{model: gemini/gemini-2.5-flash, api_key: os.environ/GEMINI_API_KEY}",
    "mis": "{model: mistral/mistral-small-latest, api_key: os.environ/MISTRAL_API_KEY}",
    "llama": "{model: groq/llama-3.3-70b-versatile, api_key: os.environ/GROQ_API_KEY}",
    "vgem": "{model: vertex_ai/gemini-2.5-flash, vertex_project: acme, vertex_location: europe-west4,"
            " vertex_credentials: os.environ/GOOGLE_CREDENTIALS_JSON}",
    "brock": "{model: 'bedrock/anthropic.claude-3-5-haiku-20241022-v1:0', aws_region_name: eu-west-1,"
             " aws_access_key_id: os.environ/AWS_ACCESS_KEY_ID,"
             " aws_secret_access_key: os.environ/AWS_SECRET_ACCESS_KEY}",
}
NO_KEYS = {k: "" for k in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "AZURE_API_KEY", "GROQ_API_KEY",
                           "MISTRAL_API_KEY")}


def _config(tmp_path: Path, deployments: dict[str, str]) -> str:
    lines = ["model_list:"] + [f"  - {{model_name: {g}, litellm_params: {p}}}" for g, p in deployments.items()]
    (tmp_path / "theirs.yaml").write_text("\n".join(lines) + "\n")
    return "theirs.yaml"


def test_every_deployment_runs_against_its_twin_and_bed_smokes_its_own_groups(tmp_path: Path) -> None:
    config = _config(tmp_path, DEPLOYMENTS)
    done = bed_cli(["run", "--tier", "nd", "--router-config", config], tmp_path, NO_KEYS, timeout=900)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-5000:]
    for group, provider in [("gpt", "openai"), ("az", "azure"), ("claude", "anthropic"), ("fast", "gemini"),
                            ("mis", "mistral"), ("llama", "groq"), ("vgem", "vertex_ai"), ("brock", "bedrock")]:
        assert re.search(rf"test_deployment_against_its_twin\[{group}#0-{provider}-chat\] PASSED", out), group
    assert "test_deployment_against_its_twin[claude#0-anthropic-messages] PASSED" in out
    assert "Invalid model name" not in out  # bed's own smokes found the groups it added
    report = json.loads((tmp_path / "local/artifacts/mvp/mvp_report.json").read_text())
    assert {r["group"]: r["twin"] for r in report["deployments"]} == dict.fromkeys(DEPLOYMENTS, "passed")
    assert "| brock#0 | bedrock |" in (tmp_path / "PROJECT_READY.md").read_text()

    done = bed_cli(["run", "--tier", "release", "--router-config", config], tmp_path,
                   {**NO_KEYS, "LIVE_PROVIDERS": "1"}, timeout=900)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-5000:]  # every live smoke skipped: nothing was tested
    assert "CAUSE census: census: nothing was tested: 9 test(s) collected, none ran (9 skipped)" in out
    assert "LIVE SMOKE OFF: gpt (openai) needs OPENAI_API_KEY" in out
    assert "SKIP release_smokes" in out
    assert "bed-twin/" not in "".join(re.findall(r"test_live_deployment_through_the_proxy\[[^\]]*\]", out))


def test_a_parameter_the_provider_refuses_is_the_cause_and_a_provider_without_twin_a_loud_skip(
        tmp_path: Path) -> None:
    config = _config(tmp_path, {
        "hot": "{model: anthropic/claude-haiku-4-5, api_key: os.environ/ANTHROPIC_API_KEY, temperature: 1.5}",
        "chatty": "{model: cohere/command-r, api_key: os.environ/COHERE_API_KEY}"})
    done = bed_cli(["run", "--tier", "nd", "--router-config", config], tmp_path,
                   {**NO_KEYS, "PYTEST_ADDOPTS": "-k provider_twins"}, timeout=900)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-5000:]
    cause = next(line for line in out.splitlines() if line.startswith("CAUSE all_smokes_nd"))
    assert "[hot#0-anthropic-" in cause
    assert "the anthropic twin refused POST /twins/anthropic/v1/messages with 400: temperature: Input should be " \
           "less than or equal to 1" in cause
    assert '"temperature": 1.5' in cause  # the request LiteLLM sent
    assert "NO TWIN: chatty#0 (cohere/command-r): bed has no twin of cohere" in out
