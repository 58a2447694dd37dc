"""The release tier through the gateway, proven hermetically: every "live" provider's base points
at the shim, which speaks each provider's wire format (OpenAI chat, Anthropic Messages, Gemini
generateContent), so the whole path - proxy, LiteLLM's provider adapter, base - runs for real
without the internet, in both gating states, with READINESS_EXPECT's rules."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .conftest import bed_cli

SHIM = "http://mini-agent:8788"
KEYS = {"OPENAI_API_KEY": "sk-fake-openai-0123456789", "ANTHROPIC_API_KEY": "sk-ant-fake-0123456789",
        "GEMINI_API_KEY": "AIza-fake-gemini-0123456789"}
BASES = {"OPENAI_API_BASE": f"{SHIM}/v1", "ANTHROPIC_API_BASE": SHIM, "GEMINI_API_BASE": f"{SHIM}/v1beta"}
pytestmark = pytest.mark.usefixtures("images", "no_leftovers")


def _release(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, str, dict[str, object]]:
    done = bed_cli(["run", "--tier", "release", *args], tmp_path, env)
    report = json.loads((tmp_path / "local/artifacts/mvp/mvp_report.json").read_text())
    return done.returncode, done.stdout + done.stderr, report


def test_the_default_set_is_called_through_the_proxy(tmp_path: Path) -> None:
    code, out, report = _release(tmp_path, {"LIVE_PROVIDERS": "1", **KEYS, **BASES})
    assert code == 0, out[-4000:]
    for test in ("release-openai-chat", "release-anthropic-chat", "release-anthropic-messages",
                 "release-gemini-chat"):
        assert re.search(rf"PASSED release/test_live_providers.py::test_live_deployment_through_the_proxy\[{test}\]",
                         out), test
    assert "waiting for bed-" in out  # the proxy is up: the smokes go through it
    for secret in KEYS.values():
        assert secret not in out
        assert secret not in json.dumps(report)


def test_a_missing_key_is_a_loud_skip_naming_it(tmp_path: Path) -> None:
    keys = {k: v for k, v in KEYS.items() if k != "GEMINI_API_KEY"}
    code, out, _ = _release(tmp_path, {"LIVE_PROVIDERS": "1", **keys, **BASES})
    assert code == 0, out[-4000:]
    assert "LIVE SMOKE OFF: release-gemini (gemini) needs GEMINI_API_KEY" in out
    assert "SKIP in release_smokes" in out


def test_without_the_switch_nothing_is_called_and_nothing_is_started(tmp_path: Path) -> None:
    code, out, report = _release(tmp_path, {**KEYS, **BASES})
    # Every smoke skipped is not evidence of readiness: NOT READY, saying why, and nothing was called.
    assert code == 1, out[-4000:]
    assert "needs LIVE_PROVIDERS=1" in out
    assert "CAUSE census: census: nothing was tested: 4 test(s) collected, none ran (4 skipped)" in out
    assert "waiting for bed-" not in out  # no proxy, no network: the tier ran hermetic
    assert {c["name"]: c["status"] for c in report["checks"]} == \
        {"release_smokes": "skipped", "census": "failed"}  # type: ignore[index]


def test_a_deploy_gate_expecting_gemini_without_its_key_fails_naming_the_key(tmp_path: Path) -> None:
    keys = {k: v for k, v in KEYS.items() if k != "GEMINI_API_KEY"}
    code, out, _ = _release(tmp_path, {"LIVE_PROVIDERS": "1", "READINESS_EXPECT": "gemini", **keys, **BASES},
                            "--gate", "deploy")
    assert code == 1, out[-4000:]
    assert re.search(r"CAUSE release_smokes: .*release-gemini-chat.*needs GEMINI_API_KEY.*READINESS_EXPECT requires "
                     r"gemini", out), out[-3000:]


def test_a_user_config_with_two_live_groups(tmp_path: Path) -> None:
    (tmp_path / "litellm.yaml").write_text(
        "model_list:\n"
        "  - {model_name: codex-agent-1, litellm_params: {model: openai/codex-agent-1}}\n"
        f"  - {{model_name: fast, litellm_params: {{model: gemini/gemini-2.5-flash, api_base: '{SHIM}/v1beta',"
        " api_key: os.environ/GEMINI_API_KEY}}\n"
        f"  - {{model_name: smart, litellm_params: {{model: anthropic/claude-haiku-4-5, api_base: '{SHIM}',"
        " api_key: os.environ/ANTHROPIC_API_KEY}}\n")
    args = ("--router-config", "litellm.yaml")
    code, out, _ = _release(tmp_path, {"LIVE_PROVIDERS": "1", **KEYS}, *args)
    assert code == 0, out[-4000:]
    for test in ("fast-chat", "smart-chat", "smart-messages"):
        assert f"test_live_deployment_through_the_proxy[{test}] PASSED" in out or \
            f"PASSED release/test_live_providers.py::test_live_deployment_through_the_proxy[{test}]" in out, test
    assert "release-openai" not in out  # the config's own live groups, not bed's default set
    code, out, _ = _release(tmp_path, {}, *args)
    assert code == 1  # nothing was tested
    assert "LIVE SMOKE OFF: fast (gemini) needs LIVE_PROVIDERS=1" in out
    assert "LIVE SMOKE OFF: smart (anthropic) needs LIVE_PROVIDERS=1" in out
