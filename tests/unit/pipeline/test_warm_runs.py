"""`bed run --reuse` on a kept stack: every tier's session goes to the stack's warm runners
(``docker exec`` of ``bed_warm run``), never to a fresh runner; the verdict reads the records the
session left in its own folder, exactly as from a fresh runner."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from bed.commands import common
from bed.engine.fake import FakeEngine, Program
from bed.policy import budgets
from bed.stack import warm
from bed.stack.services import RUNNER_CPU_SHARES

from ..fakes import bed_cli, engine_with_images, session_records

DET = "deterministic/test_router_no_dns.py::test_sync"
ND = "nd/test_proxy_routing.py::test_routes"
ND2 = "nd/test_resilience.py::test_retry"
ND3 = "nd/test_surfaces.py::test_messages"
AGENT = "agents/test_agent_clients.py::test_agent_turn[codex@0.169.0-responses-native-tool]"
REL = "release/test_live_providers.py::test_live[openai]"


def session(*every: tuple[str, str], hang: bool = False):  # type: ignore[no-untyped-def]
    """A warm session that leaves these records where the run told it to (BED_RECORDS); a part
    (BED_SHARD=I/N) runs every N-th of them, from the I-th on."""
    def behaviour(argv: list[str], env: Mapping[str, str]) -> Program:
        index, total = (int(x) for x in env.get("BED_SHARD", "1/1").split("/"))
        tests = every[index - 1::total]
        failed = any(o == "failed" for _, o in tests)
        code = None if hang else (1 if failed else 0 if tests else 5)
        records = session_records(env, [n for n, _ in every], *tests, exitstatus=code)
        return Program(exit_code=code, output="\n".join(f"{n} {o.upper()}" for n, o in tests),
                       files={env["BED_RECORDS"]: records})
    return behaviour


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeEngine:
    fake = engine_with_images()
    fake.on_exec("warm-hermetic", lambda argv, env: session((DET, "passed"))(argv, env) if env["BED_TIER"] ==
                 "deterministic" else session((REL, "skipped"))(argv, env))
    fake.on_exec("warm-served", session((ND, "passed"), (ND2, "passed"), (ND3, "passed")))
    fake.on_exec("warm-agents", session((AGENT, "passed")))
    monkeypatch.setattr(common, "engine", lambda environ: fake)
    monkeypatch.chdir(tmp_path)
    return fake


def bed(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    return bed_cli(list(args), env)


def execs(engine: FakeEngine, fragment: str) -> list[list[str]]:
    return [run.argv for run in engine.execs.values() if fragment in engine.table[run.ref].spec.name]


def test_bed_up_starts_one_warm_runner_per_kind_like_the_fresh_runner_it_replaces(engine: FakeEngine,
                                                                                  tmp_path: Path) -> None:
    code, _ = bed("up")
    assert code == 0
    kept = json.loads((tmp_path / ".artifacts/kept.json").read_text())
    assert set(kept["warm"]) == {"hermetic", "served", "agents"}
    hermetic, served = engine.named("warm-hermetic").spec, engine.named("warm-served").spec
    assert hermetic.network is None  # the hermetic tiers' runner has no network at all, as theirs
    assert served.network is not None
    assert served.network == engine.named("warm-agents").spec.network
    assert hermetic.command is not None
    assert hermetic.command[1:4] == ("-m", "bed_warm", "serve")
    assert hermetic.cpu_shares == served.cpu_shares == RUNNER_CPU_SHARES  # the fresh runners' weight
    assert "litellm" in served.env["BED_WARM_PRELOAD"]
    assert engine.named("warm-agents").spec.image.startswith("bed-agents")


def test_bed_up_prints_how_each_agent_is_pointed_at_the_kept_stack(engine: FakeEngine, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out = bed("up", env={"BED_AGENTS": "opencode@1.18.33"})
    assert code == 0
    assert engine.named("warm-agents").spec.memory == "4g"
    port = next(line for line in out.splitlines() if "export BED_PROXY_URL=" in line).rsplit(":", 1)[1]
    agents = [line for line in out.splitlines() if line.startswith("#   cd ")]
    assert len(agents) == 5  # one line per agent, eval-safe (a comment), the first picked version's npm package
    assert all(line.startswith("#") for line in out.splitlines() if "codex-agent-1" in line)
    assert "npm install -g opencode-ai@1.18.33" in out
    gemini = next(line for line in agents if " gemini " in line)
    assert f"GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:{port} " in gemini
    assert 'GEMINI_API_KEY="$LITELLM_MASTER_KEY"' in gemini  # the key itself is never printed nor written
    assert "-m codex-agent-1-gemini" in gemini  # its native route
    settings = tmp_path / ".artifacts/agents/gemini-cli/home/.gemini/settings.json"
    assert json.loads(settings.read_text())["privacy"]["usageStatisticsEnabled"] is False
    opencode = json.loads((tmp_path / ".artifacts/agents/opencode/work/opencode.json").read_text())
    assert opencode["provider"]["bed"]["options"]["baseURL"] == f"http://127.0.0.1:{port}/v1"
    key = (tmp_path / ".artifacts/master_key").read_text().strip()
    assert key not in out
    assert not any(key in p.read_text() for p in (tmp_path / ".artifacts/agents").rglob("*") if p.is_file())


def test_a_reused_run_sends_every_tier_to_the_warm_runners_and_reads_their_records(engine: FakeEngine) -> None:
    assert bed("up")[0] == 0
    before, calls = {c.spec.name for c in engine.table.values()}, len(engine.calls)
    code, out = bed("run", "--reuse")
    assert code == 0, out
    assert "VERDICT: READY" in out
    assert "local/artifacts/mvp/mvp_report.json, local/artifacts/mvp/report.html, " in out  # the reports line
    assert "warm runners: agents, hermetic, served" in out
    assert {c.spec.name for c in engine.table.values()} == before  # no fresh runner was started
    assert not any(c.startswith("run ") and "-runner-" in c for c in engine.calls[calls:])
    report = json.loads(Path("local/artifacts/mvp/mvp_report.json").read_text())
    run_id = report["run_id"]
    tokens = {argv[argv.index("run") + 2] for fragment in ("warm-hermetic", "warm-served", "warm-agents")
              for argv in execs(engine, fragment)}
    nd_parts, agent_parts = budgets.WARM_PARTS["nd"], budgets.WARM_PARTS["agents"]  # the served tiers, in parts
    assert tokens == {f"{run_id}-deterministic", f"{run_id}-release", *part_tokens(run_id, "nd", nd_parts),
                      *part_tokens(run_id, "agents", agent_parts)}
    nd = [run for run in engine.execs.values() if run.env.get("BED_TIER") == "nd"]
    assert sorted(run.env["BED_SHARD"] for run in nd) == [f"{i}/{nd_parts}" for i in range(1, nd_parts + 1)]
    first = next(run for run in nd if run.env["BED_SHARD"].startswith("1/"))
    assert first.env["BED_RECORDS"] == f"{warm.RUNS}/{run_id}-nd-p1/records.jsonl"
    assert f"--basetemp={warm.RUNS}/{run_id}-nd-p1/pytest" in first.argv  # its temporary files are its own
    assert {c["name"]: c["status"] for c in report["checks"]}["all_smokes_nd"] == "passed"


def test_a_failing_warm_session_is_not_ready_and_re_run_by_its_exact_id_in_the_warm_runner(engine: FakeEngine) -> None:
    assert bed("up")[0] == 0
    engine.on_exec("warm-served", session((ND, "failed")))
    code, out = bed("run", "--reuse")
    assert code == 1, out
    assert "VERDICT: NOT READY" in out
    assert ND in out
    rerun = [run for run in engine.execs.values() if run.env.get("BED_TIER") == "nd" and "BED_SELECT" in run.env]
    assert len(rerun) == 1
    runner = engine.table[rerun[0].ref]
    assert json.loads(runner.written[rerun[0].env["BED_SELECT"]]) == [ND]  # copied into the warm runner


def test_a_warm_session_with_no_records_is_never_ready(engine: FakeEngine) -> None:
    assert bed("up")[0] == 0
    engine.on_exec("warm-served", lambda argv, env: Program(exit_code=0, output="nothing written"))
    code, out = bed("run", "--reuse")
    assert code == 1, out
    assert "VERDICT: NOT READY" in out


def test_a_warm_session_over_its_budget_is_stopped_in_its_runner(engine: FakeEngine) -> None:
    assert bed("up")[0] == 0
    engine.on_exec("warm-served", session((ND, "passed"), hang=True))
    code, out = bed("run", "--reuse", env={"ALL_SMOKES_ND_TIMEOUT": "0.3"})
    assert code == 1, out
    assert "ran out of its" in out
    stops = sorted(c.rsplit("-", 1)[-1] for c in engine.calls if "bed_warm stop" in c)
    assert stops == [f"p{i}" for i in range(1, budgets.WARM_PARTS["nd"] + 1)]  # every part of it
    assert engine.named("warm-served").state.status == "running"  # the warm runner stays for the next run


def test_a_warm_runner_that_stopped_or_whose_image_changed_is_started_again(engine: FakeEngine,
                                                                            tmp_path: Path) -> None:
    assert bed("up")[0] == 0
    first = json.loads((tmp_path / ".artifacts/kept.json").read_text())
    engine.crash("warm-served", 137)
    code, out = bed("run", "--reuse")
    assert code == 0, out
    assert "reuse: starting the warm served runner (it is exited (code 137))" in out
    again = json.loads((tmp_path / ".artifacts/kept.json").read_text())
    assert again["warm"]["served"] != first["warm"]["served"]
    assert again["warm"]["hermetic"] == first["warm"]["hermetic"]  # only what changed


def test_a_run_of_some_tiers_keeps_the_other_warm_runners_images_on_record(engine: FakeEngine,
                                                                           tmp_path: Path) -> None:
    assert bed("up")[0] == 0
    first = json.loads((tmp_path / ".artifacts/kept.json").read_text())
    engine.crash("warm-served", 137)  # so the ND run writes the record again
    assert bed("run", "--reuse", "--tier", "nd")[0] == 0
    again = json.loads((tmp_path / ".artifacts/kept.json").read_text())
    assert again["images"] == first["images"]  # the agents image too, which the ND run did not build
    code, out = bed("run", "--reuse")
    assert code == 0, out
    assert "reuse: starting" not in out  # nothing changed since


def test_a_failure_on_a_kept_stack_shows_the_proxy_lines_of_this_run_only(engine: FakeEngine) -> None:
    assert bed("up")[0] == 0
    proxy = engine.named("litellm")
    proxy.created -= 60  # the kept proxy booted a minute ago ...
    proxy.logged.append((time.time() - 30, "Traceback: the stream-cut smoke of an earlier run"))  # ... and served

    def failing(argv: list[str], env: Mapping[str, str]) -> Program:
        engine.log("litellm", '"POST /v1/chat/completions HTTP/1.1" 500 (this run)')
        return session((ND, "failed"))(argv, env)

    engine.on_exec("warm-served", failing)
    code, out = bed("run", "--reuse", "--tier", "nd")
    assert code == 1, out
    behind = out.split("--- last lines behind all_smokes_nd ---")[1]
    assert "500 (this run)" in behind
    assert "earlier run" not in behind


def test_live_release_smokes_never_run_in_a_warm_runner() -> None:
    assert warm.kind_of("release", live=True) is None
    assert warm.kind_of("release", live=False) == "hermetic"
    assert warm.kind_of("deterministic", live=True) == "hermetic"
    assert warm.kind_of("nd", live=False) == "served"
    assert warm.kind_of("agents", live=False) == "agents"


def test_a_second_bed_up_is_refused_and_the_first_stack_stays_recorded(engine: FakeEngine, tmp_path: Path) -> None:
    assert bed("up")[0] == 0
    record = (tmp_path / ".artifacts/kept.json").read_text()
    running = len(engine.table)
    code, out = bed("up")
    assert code == 2
    kept_run = json.loads(record)["run_id"]
    assert f"CONFIG_ERROR: a stack kept by `bed up` is already up here (run {kept_run})." in out
    assert (tmp_path / ".artifacts/kept.json").read_text() == record
    assert len(engine.table) == running  # nothing more was started


def test_bed_down_of_another_run_leaves_this_stack_s_record_and_key(engine: FakeEngine, tmp_path: Path) -> None:
    assert bed("up")[0] == 0
    kept_run = json.loads((tmp_path / ".artifacts/kept.json").read_text())["run_id"]
    assert bed("down", "--run", "0badc0de")[0] == 0
    assert (tmp_path / ".artifacts/kept.json").exists()
    assert (tmp_path / ".artifacts/master_key").exists()
    assert bed("run", "--reuse")[0] == 0
    assert bed("down", "--run", kept_run)[0] == 0
    assert not (tmp_path / ".artifacts/kept.json").exists()
    assert not (tmp_path / ".artifacts/master_key").exists()


def test_bed_down_ends_this_folder_s_stack_and_leaves_another_project_s(engine: FakeEngine, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    mine, theirs, elsewhere = (tmp_path / name for name in ("mine", "theirs", "elsewhere"))
    for folder in (mine, theirs, elsewhere):
        folder.mkdir()
    monkeypatch.chdir(theirs)
    assert bed("up")[0] == 0
    their_run = json.loads((theirs / ".artifacts/kept.json").read_text())["run_id"]
    their_containers = {ref for ref, c in engine.table.items() if their_run in c.spec.name}
    monkeypatch.chdir(mine)
    assert bed("up")[0] == 0
    my_run = json.loads((mine / ".artifacts/kept.json").read_text())["run_id"]
    code, out = bed("down")
    assert code == 0
    assert f"of run {my_run}" in out
    assert not any(my_run in c.spec.name for c in engine.table.values())
    assert set(engine.table) == their_containers  # the other project's stack is whole
    assert (theirs / ".artifacts/kept.json").exists()
    monkeypatch.chdir(elsewhere)  # no stack kept here: nothing goes, and the others are named
    code, out = bed("down")
    assert code == 0
    assert f"no stack kept by `bed up` here; kept from other folders on this engine: {their_run}" in out
    assert set(engine.table) == their_containers


def crashed_part(argv: list[str], env: Mapping[str, str]) -> Program:
    """Part 3 dies inside its test (no finish record, killed); the others pass theirs."""
    index = int(env["BED_SHARD"].split("/")[0])
    test = (ND, ND2, ND3)[index - 1]
    if index == 3:
        records = session_records(env, (ND, ND2, ND3), (test, "incomplete"), exitstatus=None)
        return Program(exit_code=137, files={env["BED_RECORDS"]: records})
    return Program(exit_code=0, files={env["BED_RECORDS"]: session_records(env, (ND, ND2, ND3), (test, "passed"))})


def silent_part(argv: list[str], env: Mapping[str, str]) -> Program:
    """Part 1 writes no records at all (and says it passed); the others pass theirs."""
    index = int(env["BED_SHARD"].split("/")[0])
    if index == 1:
        return Program(exit_code=0)
    return Program(exit_code=0, files={env["BED_RECORDS"]: session_records(env, (ND, ND2, ND3),
                                                                           ((ND, ND2, ND3)[index - 1], "passed"))})


@pytest.mark.parametrize(("shape", "behaviour", "named"), [
    ("a part fails a test", session((ND, "passed"), (ND2, "failed"), (ND3, "passed")), ND2),
    ("a part dies mid-test", crashed_part, ND3),
    ("a part leaves no records", silent_part, None),
])
def test_a_tier_run_in_parts_is_judged_as_one_and_any_bad_part_makes_it_not_ready(
        engine: FakeEngine, shape: str, behaviour: object, named: str | None) -> None:
    assert bed("up")[0] == 0
    engine.on_exec("warm-served", behaviour)  # type: ignore[arg-type]
    code, out = bed("run", "--reuse")
    assert code == 1, (shape, out)
    assert "VERDICT: NOT READY" in out
    nd = {c["name"]: c for c in json.loads(Path("local/artifacts/mvp/mvp_report.json").read_text())["checks"]}
    assert nd["all_smokes_nd"]["status"] in ("failed", "error"), shape
    if named is not None:
        assert named in out


def test_a_tier_in_parts_with_an_empty_share_is_ready(engine: FakeEngine) -> None:
    assert bed("up")[0] == 0
    engine.on_exec("warm-served", session((ND, "passed"), (ND2, "passed")))  # part 3 has nothing to run
    code, out = bed("run", "--reuse")
    assert code == 0, out
    report = json.loads(Path("local/artifacts/mvp/mvp_report.json").read_text())
    nd = next(c for c in report["checks"] if c["name"] == "all_smokes_nd")
    assert nd["tests"] == 2


def part_tokens(run_id: str, tier: str, n: int) -> set[str]:
    """The session tokens of a tier run in ``n`` parts (one part is the tier's own session)."""
    return {f"{run_id}-{tier}"} if n == 1 else {f"{run_id}-{tier}-p{i}" for i in range(1, n + 1)}
