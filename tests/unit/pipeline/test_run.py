"""The whole pipeline against the fake engine: every stage, every way a run can end."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from pathlib import Path

import pytest

from bed.config.settings import Config
from bed.console import Console
from bed.engine.fake import FakeEngine, Program
from bed.engine.protocol import ContainerSpec
from bed.errors import ConfigError, Interrupted, PortInUseError, StackError
from bed.model.results import RunResult, Status
from bed.pipeline.stages.prepare import Inputs
from bed.pipeline.workflow import run

from ..fakes import engine_with_images, selected, tier_program

DET = "deterministic/test_router_no_dns.py::test_sync"
ND = "nd/test_proxy_routing.py::test_routes"
ND2 = "nd/test_resilience.py::test_retry"
REL = "release/test_live_providers.py::test_live[openai]"
AGENT = "agents/test_agent_clients.py::test_agent_turn[codex@0.169.0-responses-native-tool]"


def crash_shim_soon(engine: FakeEngine) -> Program:
    """An ND runner that runs until stopped; meanwhile, once the tier is under way, the shim dies."""

    def crash() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                shim = engine.named("mini-agent")
            except KeyError:
                time.sleep(0.02)
                continue
            time.sleep(0.3)  # the services are up and the watch is on
            engine.crash(shim.spec.name, 3)
            return

    return Program(on_start=lambda: threading.Thread(target=crash, daemon=True).start())


def green(engine: FakeEngine) -> None:
    engine.on("runner-deterministic", tier_program((DET, "passed")))
    engine.on("runner-nd", tier_program((ND, "passed"), (ND2, "passed")))
    engine.on("runner-release", tier_program((REL, "skipped")))
    engine.on("runner-agents", tier_program((AGENT, "passed")))


def bed_run(tmp_path: Path, engine: FakeEngine, env: dict[str, str] | None = None, gate: str = "core",
            **flags: object) -> tuple[RunResult, str]:
    out = io.StringIO()
    config = Config.from_env(env or {}, root=tmp_path, gate=gate, **flags)  # type: ignore[arg-type]
    result = run(Inputs(config, env or {}, Console(out=out), lambda: engine, gate))
    return result, out.getvalue()


def statuses(result: RunResult) -> dict[str, str]:
    return {c.name: c.status.value for c in result.checks}


def assert_nothing_left(engine: FakeEngine) -> None:
    assert engine.table == {}
    assert engine.network_labels == {}


@pytest.fixture
def engine() -> FakeEngine:
    fake = engine_with_images()
    green(fake)
    return fake


def test_a_green_run_is_ready_and_leaves_nothing(tmp_path: Path, engine: FakeEngine) -> None:
    result, out = bed_run(tmp_path, engine)
    assert result.ready
    assert statuses(result) == {"all_smokes_core": "passed", "all_smokes_nd": "passed", "agent_clients": "passed",
                                "release_smokes": "skipped", "census": "passed"}
    census = next(c for c in result.checks if c.name == "census")
    assert census.reason == f"{census.tests} collected, {census.tests} accounted for"
    assert result.verdict_line().startswith("READY (1 check skipped: release_smokes")
    assert set(result.timings) >= {"prepare", "images", "stack", "tiers", "teardown", "judge", "total"}
    report = json.loads((tmp_path / "local/artifacts/mvp/mvp_report.json").read_text())
    assert report["verdict_line"] == result.verdict_line()
    assert 'id="verdict">READY</span>' in (tmp_path / "local/artifacts/mvp/report.html").read_text()
    assert (tmp_path / "local/artifacts/mvp/junit/all_smokes_nd.xml").is_file()
    assert json.loads((tmp_path / "local/artifacts/mvp/durations.json").read_text())[ND] == pytest.approx(0.3)
    assert "waiting for bed-" in out
    assert "from the bed network" in out
    assert_nothing_left(engine)


def test_the_agents_tier_gets_its_versions_routes_and_memory_and_the_report_its_matrix(
        tmp_path: Path, engine: FakeEngine) -> None:
    gemini = "agents/test_agent_clients.py::test_agent_turn[gemini-cli@0.61.0-gemini-native-tool]"
    cell = {"agent": "gemini-cli", "version": "0.61.0", "surface": "gemini", "route": "native",
            "group": "codex-agent-1-gemini", "kind": "tool", "turn_seconds": 3.2}
    specs: list[ContainerSpec] = []

    def agents(spec: ContainerSpec) -> Program:
        specs.append(spec)
        return tier_program((gemini, "passed"), properties={gemini: cell})

    engine.on("runner-agents", agents)
    result, _ = bed_run(tmp_path, engine, {"BED_AGENTS": "claude-code@2.1.328", "BED_AGENT_TURNS": "plain,tool"})
    env = specs[0].env
    assert env["BED_AGENTS"] == "codex@0.169.0,claude-code@2.1.328,gemini-cli@0.61.0,opencode@1.18.33,qwen-code@0.24.4"
    assert env["BED_AGENT_KINDS"] == "plain,tool"
    routes = json.loads(env["BED_AGENT_ROUTES"])
    assert {"surface": "gemini", "route": "native", "group": "codex-agent-1-gemini",
            "upstream": ":streamGenerateContent"} in routes
    assert specs[0].memory == "4g"  # three agent clients at once; BED_RUNNER_MEMORY (2g) is for the others
    assert [(c.agent, c.version, c.route, c.status, c.seconds) for c in result.agent_matrix] == [
        ("gemini-cli", "0.61.0", "native", "passed", 3.2)]
    assert result.versions["agents"].startswith("codex@")
    assert "| gemini-cli | 0.61.0 | gemini | native | PASS 3.2 s |" in (tmp_path / "PROJECT_READY.md").read_text()
    report = json.loads((tmp_path / "local/artifacts/mvp/mvp_report.json").read_text())
    assert report["agent_matrix"][0]["nodeid"] == gemini


def test_the_proxy_starts_before_the_served_runners(tmp_path: Path, engine: FakeEngine) -> None:
    bed_run(tmp_path, engine)  # its boot is the longest path of a run; the runners' imports overlap it
    runs = [c for c in engine.calls if c.startswith("run ")]
    created = [next(i for i, c in enumerate(runs) if c.endswith(name)) for name in ("litellm", "runner-nd",
                                                                                  "runner-agents")]
    assert created == sorted(created), runs


def test_services_are_not_published_for_bed_s_own_work(tmp_path: Path, engine: FakeEngine) -> None:
    bed_run(tmp_path, engine)
    published = [c for c in engine.calls if c.startswith("run")]
    assert published  # containers were started ...
    # ... and none of them published a port: the waits and the tiers work inside the network.


def test_a_failing_test_is_not_ready_and_re_run_by_its_exact_id(tmp_path: Path, engine: FakeEngine) -> None:
    asked: list[list[str]] = []

    def nd(spec: ContainerSpec) -> Program:
        asked.append(selected(spec))
        return tier_program((ND, "passed"), (ND2, "failed")) if not asked[-1] else tier_program((ND2, "failed"))

    engine.on("runner-nd", nd)
    result, out = bed_run(tmp_path, engine)
    assert not result.ready
    assert asked == [[], [ND2]]
    nd_check = next(c for c in result.checks if c.name == "all_smokes_nd")
    assert nd_check.cause is not None
    assert nd_check.cause.nodeid == ND2
    assert result.repro["failing"] == {"all_smokes_nd": [ND2]}
    assert f"CAUSE all_smokes_nd: {ND2}" not in out  # the command prints CAUSE lines, not the pipeline
    assert_nothing_left(engine)


def test_the_repro_record_holds_only_what_a_repro_takes(tmp_path: Path, engine: FakeEngine) -> None:
    """What `bed repro` refuses in a report (anything outside REPRO_ENV), bed never writes into one."""
    env = {"STRICT": "0", "BED_WAIT_TIMEOUT": "30", "DOCKER_HOST": "unix:///x.sock", "BED_ARTIFACTS_DIR": "out",
           "BED_FLAKE_STORE": "f.json", "GITHUB_ACTIONS": "false", "OPENAI_API_KEY": "sk-x", "HOME": "/root"}
    result, _ = bed_run(tmp_path, engine, env)
    assert result.repro["env"] == {"STRICT": "0", "BED_WAIT_TIMEOUT": "30"}


def test_a_flake_passes_and_a_second_flake_quarantines(tmp_path: Path, engine: FakeEngine) -> None:
    def nd(spec: ContainerSpec) -> Program:
        return tier_program((ND2, "passed")) if selected(spec) else tier_program((ND, "passed"), (ND2, "failed"))

    engine.on("runner-nd", nd)
    first, _ = bed_run(tmp_path, engine)
    nd_check = next(c for c in first.checks if c.name == "all_smokes_nd")
    assert (first.ready, nd_check.flaky) == (True, (ND2,))
    second, out = bed_run(tmp_path, engine)
    assert second.ready
    assert f"QUARANTINED: {ND2}" in out
    assert [q["nodeid"] for q in second.quarantine] == [ND2]
    # Quarantined, it fails for good now: reported, not gating.
    engine.on("runner-nd", tier_program((ND, "passed"), (ND2, "failed")))
    third, _ = bed_run(tmp_path, engine)
    assert third.ready
    assert next(c for c in third.checks if c.name == "all_smokes_nd").quarantined == (ND2,)


def test_a_rerun_that_crashes_makes_nothing_a_flake(tmp_path: Path, engine: FakeEngine) -> None:
    def nd(spec: ContainerSpec) -> Program:
        if selected(spec):
            return tier_program((ND2, "passed"), exitstatus=None, exit_code=137)  # passed, then died
        return tier_program((ND, "passed"), (ND2, "failed"))

    engine.on("runner-nd", nd)
    result, _ = bed_run(tmp_path, engine)
    assert not result.ready
    assert next(c for c in result.checks if c.name == "all_smokes_nd").flaky == ()


def test_a_dependency_that_dies_mid_tier_is_a_loud_skip_or_a_failure_when_required(tmp_path: Path,
                                                                                   engine: FakeEngine) -> None:
    engine.on("runner-nd", lambda spec: crash_shim_soon(engine))
    result, out = bed_run(tmp_path, engine)
    assert statuses(result)["all_smokes_nd"] == "skipped"
    assert result.ready
    assert "DEPENDENCY DOWN during the tier: bed-" in out
    assert "2 checks skipped: all_smokes_nd - DEPENDENCY DOWN: bed-" in result.verdict_line()
    engine = engine_with_images()
    green(engine)
    engine.on("runner-nd", lambda spec: crash_shim_soon(engine))
    strict, _ = bed_run(tmp_path, engine, {"STRICT": "1"})
    assert statuses(strict)["all_smokes_nd"] == "failed"
    assert not strict.ready
    assert_nothing_left(engine)


@pytest.mark.parametrize(("setup", "error", "says"), [
    ("proxy-crashes-at-boot", StackError, "stopped before it was healthy: exited, exit code 1"),
    ("proxy-never-answers", StackError, "was not healthy at http://litellm:4000/health/liveliness within 0.5 s"),
    ("shim-removed-by-someone", StackError, "was removed while bed waited for it"),
    ("engine-refuses-a-start", StackError, "the engine refused"),
], ids=lambda x: x if isinstance(x, str) and "-" in x else "")
def test_bed_s_own_setup_failures_end_the_run_never_a_skip(tmp_path: Path, engine: FakeEngine, setup: str,
                                                          error: type[Exception], says: str) -> None:
    env = {"BED_WAIT_TIMEOUT": "0.5"}
    if setup == "proxy-crashes-at-boot":
        engine.on("litellm", Program(exit_code=1, output="KeyError: 'model'"))
    elif setup == "proxy-never-answers":
        engine.on("litellm", Program(healthy=False))
    elif setup == "shim-removed-by-someone":
        def gone() -> None:
            engine.remove(engine.named("mini-agent").id)

        engine.on("mini-agent", Program(healthy=False, on_start=lambda: threading.Timer(0.1, gone).start()))
    else:
        engine.fail_start["litellm"] = StackError("the engine refused to start bed-x-litellm: no memory.", hint="")
    with pytest.raises(error) as caught:
        bed_run(tmp_path, engine, env)
    assert says in caught.value.line()
    assert_nothing_left(engine)
    # Every run past its configuration leaves its reports: NOT READY, the error as the cause.
    report = json.loads((tmp_path / "local/artifacts/mvp/mvp_report.json").read_text())
    assert report["verdict"] == "NOT READY"
    (check,) = report["checks"]
    assert (check["name"], check["status"], check["required"]) == ("setup", "error", True)
    assert check["cause"]["message"] == caught.value.line()
    assert check["cause"]["log_tail"] == caught.value.details
    assert "CAUSE setup: bed " in (tmp_path / "PROJECT_READY.md").read_text()
    junit = (tmp_path / "local/artifacts/mvp/junit/setup.xml").read_text()
    assert 'failures="1"' in junit


def test_a_taken_shim_port_is_a_port_error_before_anything_starts(tmp_path: Path, engine: FakeEngine) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError) as caught:
            bed_run(tmp_path, engine, {"MINI_AGENT_API_BASE": f"http://127.0.0.1:{port}"})
    assert f"port {port} on 127.0.0.1" in caught.value.line()
    assert not any("litellm" in c or "mini-agent" in c for c in engine.calls if c.startswith("run"))
    assert_nothing_left(engine)


def test_a_kept_bed_up_stack_on_the_port_is_named(tmp_path: Path, engine: FakeEngine) -> None:
    # `bed up` kept a stack whose shim is published where MINI_AGENT_API_BASE points
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        engine.run(ContainerSpec(name="bed-cafe0001-mini-agent", image="bed-base:bookworm-lean",
                                 labels={"bed.project": "bed", "bed.keep": "1", "bed.role": "shim",
                                         "bed.run": "cafe0001"}, publish={8788: port}))
        with pytest.raises(PortInUseError) as caught:
            bed_run(tmp_path, engine, {"MINI_AGENT_API_BASE": f"http://127.0.0.1:{port}/v1"})
    assert "a stack kept by `bed up` (run cafe0001)" in caught.value.line()


def test_a_signal_mid_run_removes_everything(tmp_path: Path, engine: FakeEngine) -> None:
    def interrupt() -> None:
        raise Interrupted(2)

    engine.on("runner-nd", Program(on_start=interrupt))
    with pytest.raises(Interrupted):
        bed_run(tmp_path, engine)
    assert_nothing_left(engine)


def test_a_runner_over_its_budget_is_an_error_with_a_cause(tmp_path: Path, engine: FakeEngine) -> None:
    engine.on("runner-nd", Program())  # never ends by itself
    result, out = bed_run(tmp_path, engine, {"ALL_SMOKES_ND_TIMEOUT": "0.3"})
    nd = next(c for c in result.checks if c.name == "all_smokes_nd")
    assert nd.status is Status.ERROR
    assert "ran out of its 0 s budget" in out or "ran out of its" in out
    assert not result.ready


def test_the_dev_gate_needs_no_services(tmp_path: Path, engine: FakeEngine) -> None:
    result, _ = bed_run(tmp_path, engine, gate="dev")
    assert statuses(result) == {"all_smokes_core": "passed", "census": "passed"}
    assert not any("litellm" in c for c in engine.calls)


def test_a_bad_flake_store_stops_the_run_before_the_engine(tmp_path: Path, engine: FakeEngine) -> None:
    (tmp_path / "local").mkdir()
    (tmp_path / "local/flakes.json").write_text("{")
    with pytest.raises(ConfigError):
        bed_run(tmp_path, engine)
    assert engine.calls == []


def test_a_user_config_keeps_its_live_deployments_and_gains_their_twins(tmp_path: Path) -> None:
    from bed.config.twins import FAKE_KEY
    from bed.console import Console
    from bed.pipeline.stages.prepare import prepare_router, release_smokes, twin_smokes

    (tmp_path / "litellm.yaml").write_text(
        "model_list:\n"
        "  - {model_name: smart,\n"
        "     litellm_params: {model: anthropic/claude-haiku-4-5, api_key: os.environ/ANTHROPIC_API_KEY}}\n"
        "  - {model_name: chatty, litellm_params: {model: cohere/command-r}}\n")
    config = Config.from_env({"BED_ROUTER_CONFIG": "litellm.yaml", "LIVE_PROVIDERS": "1"}, root=tmp_path)
    router = prepare_router(config, Console(), {})
    by_name = {e["model_name"]: e["litellm_params"] for e in router.model_list}
    assert by_name["smart"]["api_key"] == "os.environ/ANTHROPIC_API_KEY"  # live, as the user wrote it
    assert by_name["bed-twin/smart/0"]["api_key"] == FAKE_KEY
    assert by_name["bed-twin/smart/0"]["api_base"] == "http://mini-agent:8788/twins/anthropic"
    assert any("provider twins: 1 deployment(s)" in n for n in router.notes)
    assert [s.group for s in release_smokes(config, router, {})] == ["smart", "chatty"]  # never the twin groups
    twins = {s.ident: s for s in twin_smokes(config, router)}
    assert twins["smart#0"].surfaces == ("chat", "messages")
    assert twins["chatty#0"].skip.startswith("NO TWIN: chatty#0 (cohere/command-r)")
