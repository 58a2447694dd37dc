from __future__ import annotations

from pathlib import Path

import pytest

from bed.config.settings import ENV_VARS, Config
from bed.errors import ConfigError


def test_defaults(tmp_path: Path) -> None:
    config = Config.from_env({}, root=tmp_path)
    assert config.tiers == ("deterministic", "nd", "agents", "release")
    assert not config.strict
    assert not config.live_providers
    assert config.group == "codex-agent-1"
    assert config.nd_budget_s == 1200
    assert config.det_budget_s == 600
    assert config.report_path == tmp_path / "local/artifacts/mvp/mvp_report.json"
    assert config.stub_path == tmp_path / ".artifacts/router_stub.yaml"
    assert config.ready_md_path == tmp_path / "PROJECT_READY.md"
    assert (config.source / "images" / "context").is_dir()


def test_knobs_from_the_runbook(tmp_path: Path) -> None:
    env = {"STRICT": "1", "LIVE_PROVIDERS": "0", "READINESS_DISABLE_TIMEOUT": "1",
           "PYTEST_XDIST_AUTO_NUM_WORKERS": "6", "ALL_SMOKES_ND_TIMEOUT": "1200", "READINESS_EXPECT": "nd, proxy"}
    config = Config.from_env(env, root=tmp_path)
    assert config.strict
    assert config.disable_timeout
    assert config.workers == 6
    assert config.expect == ("nd", "proxy")


def test_dev_gate_is_deterministic_only_and_deploy_is_strict(tmp_path: Path) -> None:
    assert Config.from_env({}, root=tmp_path, gate="dev").tiers == ("deterministic",)
    assert Config.from_env({}, root=tmp_path, gate="deploy").strict


def test_each_run_gets_its_own_id(tmp_path: Path) -> None:
    assert Config.from_env({}, root=tmp_path).run_id != Config.from_env({}, root=tmp_path).run_id


# Bad input: each ends in one CONFIG_ERROR line naming the culprit, with a hint.
BAD = [
    ({"STRICT": "maybe"}, {}, "STRICT"),
    ({"LIVE_PROVIDERS": "yes please"}, {}, "LIVE_PROVIDERS"),
    ({"READINESS_DISABLE_TIMEOUT": "2"}, {}, "READINESS_DISABLE_TIMEOUT"),
    ({"READINESS_EXPECT": "nd,gemni"}, {}, "gemni"),
    ({"PYTEST_XDIST_AUTO_NUM_WORKERS": "auto"}, {}, "PYTEST_XDIST_AUTO_NUM_WORKERS"),
    ({"PYTEST_XDIST_AUTO_NUM_WORKERS": "0"}, {}, "PYTEST_XDIST_AUTO_NUM_WORKERS"),
    ({"ALL_SMOKES_ND_TIMEOUT": "soon"}, {}, "ALL_SMOKES_ND_TIMEOUT"),
    ({"ALL_SMOKES_ND_TIMEOUT": "-5"}, {}, "ALL_SMOKES_ND_TIMEOUT"),
    ({"BED_WAIT_TIMEOUT": "0"}, {}, "BED_WAIT_TIMEOUT"),
    ({"BED_ROUTER_GROUP": ""}, {}, "BED_ROUTER_GROUP"),
    ({"BED_ROUTER_GROUP": "codex agent"}, {}, "BED_ROUTER_GROUP"),
    ({"BED_CA_BUNDLE": "/nonexistent/ca.pem"}, {}, "BED_CA_BUNDLE"),
    ({"MINI_AGENT_API_BASE": ""}, {}, "empty"),
    ({"MINI_AGENT_API_BASE": "http://codex-agent-1:8788"}, {}, "model group"),
    ({"MINI_AGENT_API_BASE": "ftp://127.0.0.1:1"}, {}, "scheme"),
    ({"MINI_AGENT_API_BASE": "http://127.0.0.1:8788", "CODEX_AGENT_API_BASE": "http://127.0.0.1:1", "STRICT": "1"},
     {}, "different bases"),
    ({}, {"gate": "nightly"}, "nightly"),
    ({}, {"tiers": ("deterministic", "smoke")}, "smoke"),
]


@pytest.mark.parametrize(("env", "kwargs", "named"), BAD, ids=[b[2] for b in BAD])
def test_bad_input_is_one_clear_line(tmp_path: Path, env: dict[str, str], kwargs: dict[str, object],
                                     named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Config.from_env(env, root=tmp_path, **kwargs)  # type: ignore[arg-type]
    line = caught.value.line()
    assert line.startswith("CONFIG_ERROR: ")
    assert named in line
    assert "Hint: " in line
    assert "\n" not in line
    assert caught.value.exit_code == 2


def test_every_variable_is_documented() -> None:
    for name, doc in ENV_VARS.items():
        assert name.isupper()
        assert len(doc) > 20, name
