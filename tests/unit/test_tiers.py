from __future__ import annotations

from pathlib import Path

import pytest

from bed._config import Config
from bed._results import Status
from bed._tiers import TIERS, Context, TierRun, argv, check_name, env, required, result

PASS = '<testsuite tests="2"><testcase classname="deterministic.test_a" name="t1"/>' \
       '<testcase classname="deterministic.test_a" name="t2"/></testsuite>'
SKIP_ONE = '<testsuite tests="2"><testcase classname="d.test_a" name="t1"/>' \
           '<testcase classname="d.test_a" name="t2"><skipped message="no reason"/></testcase></testsuite>'
SKIP_ALL = '<testsuite tests="1"><testcase classname="nd.test_a" name="t1">' \
           '<skipped message="DEPENDENCY DOWN: proxy"/></testcase></testsuite>'


def _config(tmp_path: Path, **env_: str) -> Config:
    return Config.from_env(env_, root=tmp_path)


def _result(tmp_path: Path, tier: str, xml: str | None, code: int | None = 0, **env_: str):  # type: ignore[no-untyped-def]
    return result(TIERS[tier], TierRun(code, xml, 1.0, "tail"), _config(tmp_path, **env_))


def _ctx(config: Config, environ: dict[str, str] | None = None, **kw: object) -> Context:
    return Context(config=config, master_key="sk-master", router_yaml="model_list: []\n",
                   environ=environ or {}, **kw)  # type: ignore[arg-type]


def test_check_names_follow_the_old_harness() -> None:
    assert [t.check for t in TIERS.values()] == ["all_smokes_core", "all_smokes_nd", "release_smokes"]


def test_passing_tier(tmp_path: Path) -> None:
    check = _result(tmp_path, "deterministic", PASS)
    assert (check.status, check.tests) == (Status.PASSED, 2)


def test_any_skip_fails_the_deterministic_tier(tmp_path: Path) -> None:
    check = _result(tmp_path, "deterministic", SKIP_ONE)
    assert check.status is Status.FAILED
    assert check.cause is not None
    assert "skipped in a hermetic tier" in check.cause.message


def test_nd_all_skipped_is_a_skip_unless_required(tmp_path: Path) -> None:
    assert _result(tmp_path, "nd", SKIP_ALL).status is Status.SKIPPED
    assert _result(tmp_path, "nd", SKIP_ALL, STRICT="1").status is Status.FAILED
    assert _result(tmp_path, "nd", SKIP_ALL, READINESS_EXPECT="nd").status is Status.FAILED


def test_budget_exceeded_is_an_error_with_cause(tmp_path: Path) -> None:
    check = _result(tmp_path, "nd", None, code=None)
    assert check.status is Status.ERROR
    assert "budget" in check.reason


def test_crash_without_junit_is_an_error(tmp_path: Path) -> None:
    check = _result(tmp_path, "nd", None, code=4)
    assert check.status is Status.ERROR
    assert check.cause is not None
    assert check.cause.log_tail == "tail"


def test_nonzero_exit_without_failure_in_junit_is_a_failure(tmp_path: Path) -> None:
    assert _result(tmp_path, "nd", PASS, code=3).status is Status.FAILED


def test_runner_command_is_venv_python_never_bare_pytest(tmp_path: Path) -> None:
    cmd = argv(TIERS["nd"], _ctx(_config(tmp_path), workers=4))
    assert cmd[:3] == ["/opt/venv/bin/python", "-m", "pytest"]
    assert cmd[-2:] == ["-n", "4"]
    assert "junit_suite_name=all_smokes_nd" in cmd


@pytest.mark.parametrize("live", ["0", "1"])
def test_provider_keys_reach_the_runner_only_when_live(tmp_path: Path, live: str) -> None:
    config = _config(tmp_path, LIVE_PROVIDERS=live)
    out = env(TIERS["release"], _ctx(config, {"OPENAI_API_KEY": "sk-openai-123"}))
    assert ("OPENAI_API_KEY" in out) is (live == "1")
    assert out["MINI_AGENT_API_BASE"] == out["CODEX_AGENT_API_BASE"]


def test_deterministic_runner_gets_no_master_key(tmp_path: Path) -> None:
    out = env(TIERS["deterministic"], _ctx(_config(tmp_path)))
    assert "LITELLM_MASTER_KEY" not in out
    assert "BED_PROXY_URL" not in out
    assert out["BED_ROUTER_YAML"] == "model_list: []\n"


@pytest.mark.parametrize(("addopts", "shard", "name"), [
    ("", None, "all_smokes_nd"),
    ("-k 'not shard_b'", None, "all_smokes_nd_shard_a"),
    ("-k shard_b", None, "all_smokes_nd_shard_b"),
    ("-x -k   'not   shard_b'", None, "all_smokes_nd_shard_a"),
    ("-k 'proxy'", None, "all_smokes_nd"),
    ("", "2/3", "all_smokes_nd_shard_2of3"),
])
def test_nd_check_names_follow_the_shard(tmp_path: Path, addopts: str, shard: str | None, name: str) -> None:
    config = Config.from_env({"PYTEST_ADDOPTS": addopts}, root=tmp_path, shard=shard)
    assert check_name(TIERS["nd"], config) == name
    assert check_name(TIERS["deterministic"], config) == "all_smokes_core"


def test_shard_and_selection_reach_only_the_nd_runner(tmp_path: Path) -> None:
    config = Config.from_env({"PYTEST_ADDOPTS": "-k shard_b"}, root=tmp_path, shard="1/2")
    nd = env(TIERS["nd"], _ctx(config, durations={"nd/t.py::a": 2.0}))
    assert nd["PYTEST_ADDOPTS"] == "-k shard_b"
    assert nd["BED_SHARD"] == "1/2"
    assert '"nd/t.py::a": 2.0' in nd["BED_DURATIONS"]
    det = env(TIERS["deterministic"], _ctx(config))
    assert "PYTEST_ADDOPTS" not in det
    assert "BED_SHARD" not in det


@pytest.mark.parametrize(("env_", "tier", "expected"), [
    ({}, "nd", False),
    ({"STRICT": "1"}, "deterministic", True),
    ({"READINESS_EXPECT": "nd"}, "nd", True),
    ({"READINESS_EXPECT": "proxy"}, "nd", True),  # the ND tier needs the proxy
    ({"READINESS_EXPECT": "proxy"}, "release", False),
])
def test_one_definition_of_required(tmp_path: Path, env_: dict[str, str], tier: str, expected: bool) -> None:
    config = _config(tmp_path, **env_)
    assert required(TIERS[tier], config) is expected
    assert result(TIERS[tier], TierRun(0, PASS, 1.0, ""), config).required is expected


def test_a_required_service_names_only_itself_in_the_runner(tmp_path: Path) -> None:
    out = env(TIERS["nd"], _ctx(_config(tmp_path, READINESS_EXPECT="shim")))
    assert out["BED_REQUIRED"] == "shim"
