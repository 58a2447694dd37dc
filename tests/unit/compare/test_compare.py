"""`bed compare` against the fake engine: legs, the comparison, its reports, merge and exit codes."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing

import bed
from bed.commands import common
from bed.commands import compare as command
from bed.compare import merge
from bed.compare.gateways import Wanted, spec_of, wanted
from bed.compare.legs import DISTRIBUTIONS, read_freeze
from bed.config.gateway import Gateway
from bed.engine.fake import Program
from bed.engine.protocol import ExecResult
from bed.errors import ConfigError, EngineError, Interrupted
from bed.images.build import ImageRef
from bed.signals import interruptible

from ..fakes import bed_cli, tier_program
from .fakes import GatewayEngine, tiers

SCHEMAS = Path(bed.__file__).parent / "report"
COMPARE_SCHEMA = json.loads((SCHEMAS / "compare.schema.json").read_text())
LEG_SCHEMA = json.loads((SCHEMAS / "compare_leg.schema.json").read_text())
REPORT_SCHEMA = json.loads((SCHEMAS / "report.schema.json").read_text())
REGISTRY = referencing.Registry().with_resources(
    [(s["$id"], referencing.Resource.from_contents(s)) for s in (COMPARE_SCHEMA, LEG_SCHEMA)])

STREAM, PLAIN, GONE, NEW = ("nd/test_p.py::test_stream", "nd/test_p.py::test_plain", "nd/test_p.py::test_gone",
                            "nd/test_p.py::test_new")
OLD, PIN = "1.100.5", "1.108.7"
FREEZES = {OLD: "litellm==1.100.5\nfastapi==0.115.0\nold-only==1\n", PIN: "litellm==1.108.7\nfastapi==0.120.0\n"}
ND = {OLD: ((STREAM, "passed"), (PLAIN, "failed"), (GONE, "passed")),
      PIN: ((STREAM, "failed"), (PLAIN, "passed"), (NEW, "passed"))}


def valid(document: dict[str, Any], schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(schema, registry=REGISTRY).validate(document)


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> GatewayEngine:
    fake = GatewayEngine(FREEZES)
    tiers(fake, ND)
    monkeypatch.setattr(common, "engine", lambda environ: fake)
    monkeypatch.chdir(tmp_path)
    return fake


def bed_compare(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    return bed_cli(["compare", *args], env)


def doc_at(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "compare.json").read_text())


def stable(document: dict[str, Any]) -> dict[str, Any]:
    """What must not differ between two compares of the same legs (merge.VOLATILE left out)."""
    out = copy.deepcopy(document)

    def drop(node: Any) -> None:
        if isinstance(node, dict):
            for key in list(node):
                if key in merge.VOLATILE:
                    del node[key]
                else:
                    drop(node[key])
        elif isinstance(node, list):
            for item in node:
                drop(item)

    drop(out)
    return out


COMPARE = Path("local/artifacts/compare")


def test_a_regression_from_the_earlier_to_the_later_gateway_fails_with_its_cause_and_repro(
        engine: GatewayEngine, tmp_path: Path) -> None:
    code, out = bed_compare("--litellm", OLD, "--litellm", PIN, "--bench-seconds", "0")
    assert code == 1, out
    doc = doc_at(tmp_path / COMPARE)
    valid(doc, COMPARE_SCHEMA)
    assert doc["verdict"] == "REGRESSED"
    assert [(r["level"], r["nodeid"], r["was"], r["now"]) for r in doc["regressions"]] == [
        ("test", STREAM, "passed", "failed")]
    regression = doc["regressions"][0]
    assert regression["cause"] == f"CAUSE all_smokes_nd: {STREAM} (nd/test_p.py:7): why"
    assert regression["repro"] == f"bed repro {COMPARE}/legs/{PIN}/mvp_report.json"
    assert [(r["nodeid"], r["was"], r["now"]) for r in doc["fixes"]] == [(PLAIN, "failed", "passed")]
    assert doc["fixes"][0]["repro"] == f"bed repro {COMPARE}/legs/{OLD}/mvp_report.json"  # where it failed
    assert [(p["nodeid"], p["found_under"], p["missing_under"]) for p in doc["only_in_some"]] == [
        (GONE, [OLD], [PIN]), (NEW, [PIN], [OLD])]
    assert doc["steps"][0]["dependencies"] == [
        {"name": "fastapi", "before": "0.115.0", "after": "0.120.0"},
        {"name": "litellm", "before": "1.100.5", "after": "1.108.7"},
        {"name": "old-only", "before": "1", "after": None}]
    assert [g["litellm"] for g in doc["gateways"]] == [OLD, PIN]
    assert all(g["image"]["size_mb"] == 100.0 and g["measured"]["boot_s"] is not None for g in doc["gateways"])
    assert f"REGRESSION {OLD} -> {PIN}: all_smokes_nd {STREAM}: passed -> failed" in out
    assert f"  -> repro: bed repro {COMPARE}/legs/{PIN}/mvp_report.json" in out
    assert f"COMPARE: REGRESSED: 1 regression ({OLD} -> {PIN}), 1 fix ({OLD} -> {PIN})" in out
    assert [d["measure"] for d in doc["steps"][0]["deltas"]] == ["boot_s", "image_mb"]  # benched off: no latency
    md = (tmp_path / COMPARE / "compare.md").read_text()
    assert md.index("## What changed") < md.index("## Regressions (1)") < md.index(STREAM) < md.index("## Fixes (1)")
    assert md.index("## Fixes") < md.index(PLAIN) < md.index("## Tests found under only some gateways (2)") \
        < md.index(GONE) < md.index("## Details")
    assert f"- **{OLD} -> {PIN}**: 1 regression, 1 fix, 0 other changes; 3 packages differ" in md
    assert "| proxy image (MB) | 100.0 | 100.0 | +0.0% |" in md
    assert "| fastapi | 0.115.0 | 0.120.0 |" in md.split("<details><summary>Dependencies")[1]
    assert "xychart-beta horizontal\n    title \"proxy image (MB)\"" in md
    assert not list((tmp_path / COMPARE).glob("*.png"))


def test_each_leg_has_its_own_reports_and_repro_record(engine: GatewayEngine, tmp_path: Path) -> None:
    bed_compare("--litellm", OLD, "--litellm", PIN, "--bench-seconds", "0")
    for name in (OLD, PIN):
        folder = tmp_path / COMPARE / "legs" / name
        leg = json.loads((folder / "leg.json").read_text())
        valid(leg, LEG_SCHEMA)
        assert leg["spec"] == name
        data = json.loads((folder / "mvp_report.json").read_text())
        jsonschema.validate(data, REPORT_SCHEMA)
        # the leg's gateway is what a repro takes; where its reports went is not (a repro writes where its user says)
        assert data["repro"]["env"] == {"BED_LITELLM": name}
        nd = next(c for c in data["checks"] if c["name"] == "all_smokes_nd")
        assert nd["outcomes"] == dict(ND[name])
        assert (folder / "PROJECT_READY.md").is_file()
        assert (folder / ".artifacts" / "router_stub.yaml").is_file()
        assert (folder / "junit" / "all_smokes_nd.xml").is_file()
    assert not (tmp_path / "PROJECT_READY.md").exists()  # legs never write the project's own report
    assert not (tmp_path / ".artifacts").exists()


def test_no_regression_exits_0_and_a_fix_is_still_shown(engine: GatewayEngine, tmp_path: Path) -> None:
    tiers(engine, {OLD: ((STREAM, "failed"),), PIN: ((STREAM, "passed"),)})
    code, out = bed_compare("--litellm", OLD, "--litellm", PIN, "--bench-seconds", "0")
    assert code == 0, out
    doc = doc_at(tmp_path / COMPARE)
    assert (doc["verdict"], doc["exit_code"], doc["regressions"]) == ("NO REGRESSION", 0, [])
    assert [(r["level"], r["was"], r["now"]) for r in doc["fixes"]] == [("check", "failed", "passed"),
                                                                        ("test", "failed", "passed")]
    assert f"FIX {OLD} -> {PIN}: all_smokes_nd: failed -> passed" in out


def test_the_order_given_is_the_order_compared(engine: GatewayEngine, tmp_path: Path) -> None:
    code, _ = bed_compare("--litellm", PIN, "--litellm", OLD, "--bench-seconds", "0")
    doc = doc_at(tmp_path / COMPARE)
    assert code == 1  # PLAIN passes under 1.108.7 and fails under 1.100.5: downgrading regresses it
    assert [(r["before"], r["after"], r["nodeid"]) for r in doc["regressions"]] == [(PIN, OLD, PLAIN)]
    assert [(r["before"], r["after"], r["nodeid"]) for r in doc["fixes"]] == [(PIN, OLD, STREAM)]


def test_legs_side_by_side_give_the_same_comparison_with_labelled_lines(engine: GatewayEngine, tmp_path: Path) -> None:
    bed_compare("--litellm", OLD, "--litellm", PIN, "--bench-seconds", "0")
    one_by_one = doc_at(tmp_path / COMPARE)
    code, out = bed_compare("--litellm", OLD, "--litellm", PIN, "--bench-seconds", "0", "--jobs", "2")
    assert code == 1
    together = doc_at(tmp_path / COMPARE)
    assert stable(together) == stable(one_by_one)
    assert together["run"]["jobs"] == 2
    assert "shared the machine's cores" in together["run"]["note"]
    leg_lines = [line for line in out.splitlines() if line.startswith(("[1.100.5] ", "[1.108.7] "))]
    assert any("all_smokes_nd | " + STREAM in line for line in leg_lines if line.startswith("[1.108.7]"))
    assert any("leg 1.100.5:" in line for line in leg_lines if line.startswith("[1.100.5]"))
    assert engine.builds.count(next(t for t in engine.builds if t.startswith("bed-python:"))) == 1  # built once


def test_merged_legs_give_the_same_comparison_as_one_local_run(engine: GatewayEngine, tmp_path: Path) -> None:
    bed_compare("--litellm", OLD, "--litellm", PIN, "--bench-seconds", "0")
    local = doc_at(tmp_path / COMPARE)
    for name, folder in ((OLD, "ci/a"), (PIN, "ci/b")):
        code, out = bed_compare("--leg", name, "--out", folder, "--bench-seconds", "0")
        assert code == 0, out  # a leg exits 0 whatever its verdict: the merge judges
        assert f"leg {name}: ran (NOT READY" in out
    code, out = bed_compare("--merge", "ci/a", "ci/b", "--out", "merged")
    assert code == 1, out
    merged = doc_at(tmp_path / "merged")
    valid(merged, COMPARE_SCHEMA)
    assert stable(merged) == stable(local)
    assert merged["run"]["mode"] == "merge"
    assert merged["regressions"][0]["repro"] == "bed repro ci/b/mvp_report.json"
    assert stable(merged) != stable(doc_at(_merge_reversed(tmp_path)))  # the order of the folders matters


def _merge_reversed(tmp_path: Path) -> Path:
    bed_compare("--merge", "ci/b", "ci/a", "--out", "reversed")
    return tmp_path / "reversed"


def test_a_gateway_that_cannot_be_built_is_a_broken_leg_and_a_regression(engine: GatewayEngine,
                                                                          tmp_path: Path) -> None:
    engine.failing_builds.add("1.200.0")
    tiers(engine, {PIN: ((STREAM, "passed"),), "1.200.0": ()})
    code, out = bed_compare("--litellm", PIN, "--litellm", "1.200.0", "--bench-seconds", "0")
    assert code == 1, out
    doc = doc_at(tmp_path / COMPARE)
    valid(doc, COMPARE_SCHEMA)
    broken = doc["gateways"][1]
    assert (broken["status"], broken["verdict"], broken["report"], broken["image"]) == ("broken", None, None, None)
    assert broken["error"].startswith("IMAGE_ERROR: litellm[proxy]==1.200.0 cannot be installed")
    row = doc["regressions"][0]
    assert (row["level"], row["was"], row["now"]) == ("gateway", "ran", "broken")
    assert row["cause"] == broken["error"]
    assert row["repro"] == f"bed compare --leg 1.200.0 --out {COMPARE}/legs/1.200.0"
    assert doc["steps"][0]["dependencies"] is None
    assert "BROKEN: 1.200.0 could not be built or booted" in out
    leg = json.loads((tmp_path / COMPARE / "legs" / "1.200.0" / "leg.json").read_text())
    valid(leg, LEG_SCHEMA)
    assert leg["error"]["kind"] == "IMAGE_ERROR"
    assert "litellm-proxy-extras==9.9.9" in leg["error"]["details"]


def test_a_proxy_that_never_serves_is_a_broken_leg(engine: GatewayEngine, tmp_path: Path) -> None:
    engine.on("litellm", lambda spec: Program(exit_code=3, output="ImportError: cannot import name 'x'")
              if engine.gateway_of.get(spec.image) == OLD else Program())
    code, _ = bed_compare("--litellm", PIN, "--litellm", OLD, "--bench-seconds", "0")
    assert code == 1
    doc = doc_at(tmp_path / COMPARE)
    assert doc["gateways"][1]["error"].startswith("STACK_ERROR: ")
    assert doc["gateways"][1]["image"] is not None  # it was built: its freeze is still compared
    assert doc["steps"][0]["dependencies"]
    assert not engine.table, "a broken leg leaves nothing behind"


def test_a_leg_run_alone_with_a_broken_gateway_still_writes_its_leg(engine: GatewayEngine, tmp_path: Path) -> None:
    engine.failing_builds.add("1.200.0")
    code, out = bed_compare("--leg", "1.200.0", "--out", "leg")
    assert code == 0, out
    assert "leg 1.200.0: broken (IMAGE_ERROR" in out
    assert json.loads((tmp_path / "leg" / "leg.json").read_text())["status"] == "broken"


def test_a_broken_leg_replaces_the_last_report_with_its_own(engine: GatewayEngine, tmp_path: Path) -> None:
    bed_compare("--leg", OLD, "--out", "leg", "--bench-seconds", "0")
    ran = json.loads((tmp_path / "leg" / "mvp_report.json").read_text())
    assert "setup" not in [c["name"] for c in ran["checks"]]
    engine.failing_builds.add(OLD)
    engine.stored = {k: v for k, v in engine.stored.items() if not k.startswith("bed-litellm:")}
    bed_compare("--leg", OLD, "--out", "leg", "--bench-seconds", "0")
    broken = json.loads((tmp_path / "leg" / "mvp_report.json").read_text())  # every run leaves its report
    assert broken["verdict"] == "NOT READY"
    assert [(c["name"], c["status"]) for c in broken["checks"]] == [("setup", "error")]
    assert broken["checks"][0]["cause"]["message"].startswith("IMAGE_ERROR: ")


def test_the_gateways_come_from_tool_bed_compare_when_no_flag_names_them(engine: GatewayEngine,
                                                                          tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bed]\nstrict = false\n\n[tool.bed.compare]\nlitellm = ["1.100.5", "1.108.7"]\ngate = "dev"\n'
        "bench_seconds = 0\n")
    code, out = bed_compare()
    assert code == 0, out  # the dev gate runs only the deterministic tier: it passes under both
    doc = doc_at(tmp_path / COMPARE)
    assert ([g["name"] for g in doc["gateways"]], doc["gate"], doc["tiers"]) == ([OLD, PIN], "dev",
                                                                                 ["deterministic"])


@pytest.mark.parametrize(("table", "says"), [
    ('litellm = ["1.100.5", "1.108.7"]\ncolour = "red"\n', "[tool.bed.compare] has an unknown key 'colour'"),
    ('litellm = "1.100.5"\n', "[tool.bed.compare] litellm is not a list"),
    ('litellm = ["1.100.5"]\n', "needs at least 2 gateways; [tool.bed.compare] litellm names 1"),
    ('litellm = ["1.100.5", "v1.100.5"]\n', "names the gateway 1.100.5 twice"),
    ('litellm = ["1.100.5", "1.108.7"]\ngate = "ship"\n', "gate = 'ship' is not a gate"),
    ('litellm = ["1.100.5", "1.108.7"]\njobs = 0\n', "[tool.bed.compare] jobs = 0 is out of range"),
    ('litellm = ["1.100.5", "1.108.7"]\njobs = "2"\n', "jobs = '2' is not a number"),
    ('litellm = ["1.100.5", "1.108.7"]\nbench_seconds = 31\n', "bench_seconds = 31 is out of range"),
    ('litellm = ["1.100.5", "nope"]\n', "[tool.bed.compare] litellm[1]='nope' is not a litellm release"),
])
def test_a_bad_compare_table_is_a_config_error_before_anything_starts(engine: GatewayEngine, tmp_path: Path,
                                                                       table: str, says: str) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bed.compare]\n" + table)
    code, out = bed_compare()
    assert code == 2, out
    assert out.startswith("CONFIG_ERROR: ")
    assert says in out
    assert engine.builds == []


@pytest.mark.parametrize(("args", "env", "says"), [
    (("--litellm", OLD), {}, "needs at least 2 gateways; --litellm names 1"),
    (("--leg", OLD), {}, "--leg needs --out DIR"),
    (("--leg", OLD, "--out", "x", "--litellm", PIN), {}, "--leg runs one gateway"),
    (("--leg", OLD, "--merge", "a", "b"), {}, "--leg and --merge do not go together"),
    (("--merge", "a", "b", "--litellm", OLD), {}, "--merge reads the gateways from the legs"),
    (("--merge", "a"), {}, "--merge needs at least 2 leg folders"),
    (("--merge", "a", "b"), {}, "cannot read"),
    (("--litellm", OLD, "--litellm", PIN, "--jobs", "9"), {}, "CONFIG_ERROR: --jobs = 9 is out of range"),
    (("--litellm", OLD, "--litellm", PIN, "--jobs", "two"), {}, "invalid int value"),
    (("--litellm", OLD, "--litellm", PIN, "--bench-seconds", "-1"), {}, "--bench-seconds = -1 is out of range"),
    (("--litellm", OLD, "--litellm", PIN, "--jobs", "2"), {"MINI_AGENT_API_BASE": "http://127.0.0.1:8788"},
     "cannot all publish the shim on 127.0.0.1:8788"),
    (("--litellm", OLD, "--litellm", "path:nowhere"), {}, "is not a folder"),
])
def test_bad_flags_are_config_errors(engine: GatewayEngine, args: tuple[str, ...], env: dict[str, str],
                                     says: str) -> None:
    code, out = bed_compare(*args, env=env)
    assert code == 2, out
    assert says in out, out
    assert engine.builds == []


def _legs(tmp_path: Path) -> None:
    for name, folder in ((OLD, "a"), (PIN, "b")):
        bed_compare("--leg", name, "--out", folder, "--bench-seconds", "0")


def test_merging_legs_of_different_gates_or_versions_is_refused(engine: GatewayEngine, tmp_path: Path) -> None:
    _legs(tmp_path)
    bed_compare("--leg", PIN, "--out", "dev", "--gate", "dev", "--bench-seconds", "0")
    code, out = bed_compare("--merge", "a", "dev")
    assert code == 2
    assert "the legs ran different gates or tiers (1.100.5: core (deterministic,nd,agents,release); 1.108.7: " \
           "dev (deterministic))" in out
    code, out = bed_compare("--merge", "a", "b", "a")
    assert (code, "the legs name 1.100.5 more than once" in out) == (2, True)
    leg = json.loads((tmp_path / "b" / "leg.json").read_text())
    (tmp_path / "b" / "leg.json").write_text(json.dumps({**leg, "schema_version": 99}))
    code, out = bed_compare("--merge", "a", "b")
    assert (code, "is a leg of schema version 99, this bed reads version 1" in out) == (2, True)
    (tmp_path / "b" / "leg.json").write_text("{}")
    assert "b/leg.json is not a compare leg" in bed_compare("--merge", "a", "b")[1]
    (tmp_path / "b" / "leg.json").write_text("not json")
    assert "b/leg.json is not JSON" in bed_compare("--merge", "a", "b")[1]


def test_a_report_without_per_test_outcomes_compares_its_checks_and_says_so(engine: GatewayEngine,
                                                                             tmp_path: Path) -> None:
    _legs(tmp_path)
    path = tmp_path / "a" / "mvp_report.json"
    data = json.loads(path.read_text())
    for check in data["checks"]:
        del check["outcomes"]
        check["status"] = "passed" if check["name"] == "all_smokes_nd" else check["status"]
    path.write_text(json.dumps(data))
    code, _ = bed_compare("--merge", "a", "b")
    doc = doc_at(tmp_path / COMPARE)
    assert code == 1
    assert [(r["level"], r["check"]) for r in doc["regressions"]] == [("check", "all_smokes_nd")]
    assert any("no per-test outcomes (written by an older bed)" in n for n in doc["notes"])


def _git_checkout(path: Path, version: str = "1.108.7") -> str:
    (path / "litellm").mkdir(parents=True)
    (path / "litellm" / "__init__.py").write_text("")
    (path / "pyproject.toml").write_text(f'[project]\nname = "litellm"\nversion = "{version}"\n')
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "fork"]):
        subprocess.run(["git", "-C", str(path), *argv], check=True, env=env, capture_output=True)
    return subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()


def test_a_fork_is_named_by_its_folder_and_commit_and_compared_as_its_own_gateway(engine: GatewayEngine,
                                                                                   tmp_path: Path) -> None:
    commit = _git_checkout(tmp_path / "litellm")
    tiers(engine, {PIN: ((STREAM, "passed"),), f"fork:{PIN}": ((STREAM, "failed"),)})
    code, out = bed_compare("--litellm", PIN, "--litellm", "path:litellm", "--bench-seconds", "0")
    assert code == 1, out
    doc = doc_at(tmp_path / COMPARE)
    fork = doc["gateways"][1]
    assert (fork["name"], fork["kind"], fork["commit"]) == (f"litellm@{commit[:8]}", "path", commit)
    assert fork["spec"] == f"path:{tmp_path / 'litellm'}"
    assert doc["regressions"][0]["after"] == f"litellm@{commit[:8]}"
    assert (tmp_path / COMPARE / "legs" / f"litellm@{commit[:8]}" / "leg.json").is_file()


def test_a_fork_that_is_not_a_git_checkout_is_a_config_error_before_any_leg(engine: GatewayEngine,
                                                                             tmp_path: Path) -> None:
    (tmp_path / "fork" / "litellm").mkdir(parents=True)
    (tmp_path / "fork" / "litellm" / "__init__.py").write_text("")
    code, out = bed_compare("--litellm", PIN, "--litellm", "path:fork")
    assert code == 2
    assert "is not a git work tree" in out
    assert engine.builds == []


def test_gateway_names_specs_and_folders() -> None:
    root = Path("/r")
    release = wanted("v1.100.5", root=root, where="--litellm")
    assert (release.name, release.spec, release.slug) == ("1.100.5", "1.100.5", "1.100.5")
    image = wanted("image:registry.example.com/gw:1.2", root=root, where="--litellm")
    assert (image.name, image.spec, image.slug) == ("registry.example.com/gw:1.2", "image:registry.example.com/gw:1.2",
                                                    "registry.example.com_gw_1.2")
    assert spec_of(Gateway("path", "/src/litellm", base="1.108.7")) == "path:/src/litellm"
    assert Wanted(Gateway("image", "x"), "image:x", "../..").slug == "gateway"


def test_the_freeze_of_an_image_used_as_is_comes_from_its_interpreter() -> None:
    engine = GatewayEngine()
    engine.add_image("gw:1")
    asked: list[list[str]] = []
    answer = ExecResult(0, "litellm==1.80.17\nFastAPI==0.1\n")
    engine.once = lambda image, argv: asked.append(argv) or answer  # type: ignore[method-assign,func-returns-value]
    ref = ImageRef("litellm", "gw:1", engine.stored["gw:1"].id, 1.0, False, command=("/app/bin/python", "-m", "x"))
    assert read_freeze(engine, ref) == {"litellm": "1.80.17", "fastapi": "0.1"}
    assert asked == [["/app/bin/python", "-c", DISTRIBUTIONS]]
    engine.once = lambda image, argv: ExecResult(1, "no")  # type: ignore[method-assign]
    assert read_freeze(engine, ref) is None
    assert read_freeze(engine, None) is None
    gone = ImageRef("litellm", "gone:1", "sha256:gone", 1.0, False)
    assert read_freeze(engine, gone) is None


def test_an_engine_error_in_a_leg_side_by_side_ends_the_compare_with_its_code(engine: GatewayEngine) -> None:
    engine.fail_start["runner-deterministic"] = EngineError("the engine went away.", hint="start it.")
    code, out = bed_compare("--litellm", OLD, "--litellm", PIN, "--bench-seconds", "0", "--jobs", "2")
    assert code == 3, out
    assert "ENGINE_ERROR: the engine went away." in out
    assert not engine.table


class _Stack:
    def __init__(self) -> None:
        self.closed = threading.Event()

    def close(self) -> None:
        self.closed.set()


class _Observed:
    def __init__(self) -> None:
        self.started = _Stack()


def test_ctrl_c_with_legs_side_by_side_closes_every_running_legs_stack_at_once() -> None:
    states: list[_Observed] = []
    todo = [(Wanted(Gateway("release", v), v, v), Path(v)) for v in ("1.0.0", "2.0.0", "3.0.0")]

    def one(index: int, wanted_one: Wanted, folder: Path, registry: dict[str, Any]) -> None:
        state = registry[wanted_one.slug] = _Observed()
        states.append(state)
        state.started.closed.wait(10)

    threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    with pytest.raises(Interrupted), interruptible():
        command.in_parallel(todo, 2, one)  # type: ignore[arg-type]
    assert time.monotonic() - started < 8  # not after a leg's 10 s
    assert len(states) == 2  # the third leg never started
    assert all(s.started.closed.is_set() for s in states)


def test_the_first_error_side_by_side_stops_legs_not_yet_started() -> None:
    ran: list[str] = []

    def one(index: int, wanted_one: Wanted, folder: Path, registry: dict[str, Any]) -> None:
        ran.append(wanted_one.name)
        raise ConfigError("bad", hint="fix")

    todo = [(Wanted(Gateway("release", v), v, v), Path(v)) for v in ("1.0.0", "2.0.0", "3.0.0")]
    with pytest.raises(ConfigError):
        command.in_parallel(todo, 1, one)
    assert ran == ["1.0.0"]


def test_tool_bed_accepts_the_compare_table_and_nothing_else_new(tmp_path: Path) -> None:
    from bed.config.settings import Config, project_table

    (tmp_path / "pyproject.toml").write_text('[tool.bed.compare]\nlitellm = ["1.100.5", "1.108.7"]\n')
    Config.from_env({}, root=tmp_path)
    assert project_table(tmp_path, "compare") == ("[tool.bed.compare]", {"litellm": ["1.100.5", "1.108.7"]})
    (tmp_path / "pyproject.toml").write_text('[tool.bed]\ncompare = 1\n')
    with pytest.raises(ConfigError, match=r"\[tool.bed\] compare is not a table"):
        Config.from_env({}, root=tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.bed]\ncompar = 1\n')
    with pytest.raises(ConfigError, match="unknown key 'compar'") as refused:
        Config.from_env({}, root=tmp_path)
    assert refused.value.hint is not None
    assert refused.value.hint.startswith("did you mean 'compare'? the keys are: strict, ")
    assert refused.value.hint.endswith(", litellm, compare.")
    (tmp_path / "pyproject.toml").unlink()
    (tmp_path / "bed.toml").write_text('[compare]\njobs = 2\n')
    Config.from_env({}, root=tmp_path)
    assert project_table(tmp_path, "compare") == ("bed.toml [compare]", {"jobs": 2})
    (tmp_path / "bed.toml").unlink()
    assert project_table(tmp_path, "compare") == ("[tool.bed.compare]", {})


def test_a_remote_engine_skips_the_bench_and_publishes_nothing(engine: GatewayEngine, tmp_path: Path) -> None:
    published: list[dict[int, int | None]] = []
    original = engine.run

    def run(spec: Any) -> str:
        published.append(dict(spec.publish))
        return original(spec)

    engine.run = run  # type: ignore[method-assign]
    engine.local = False  # what the docker adapter says of DOCKER_HOST=tcp://docker:2375
    code, out = bed_compare("--litellm", OLD, "--litellm", PIN, env={"DOCKER_HOST": "tcp://docker:2375"})
    assert code == 1, out
    doc = doc_at(tmp_path / COMPARE)
    assert all(g["measured"]["latency"] is None for g in doc["gateways"])
    assert f"{OLD}: bench skipped: the engine is remote (DOCKER_HOST)" in " ".join(doc["notes"])
    assert published
    assert all(p == {} for p in published)


def test_a_local_engine_benches_the_legs_own_proxy_before_the_teardown(engine: GatewayEngine, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from bed.compare import bench

    seen: list[tuple[str, str, float, list[str]]] = []

    def measure(base_url: str, key: str, group: str, seconds: float) -> dict[str, Any]:
        seen.append((base_url, group, seconds, [c.spec.name.split("-", 2)[-1] for c in engine.table.values()]))
        return {"chat": {"plain": {"p50_ms": 4.0, "p99_ms": 6.0, "requests": 9, "errors": 0}}}

    monkeypatch.setattr(bench, "measure", measure)
    code, _ = bed_compare("--litellm", OLD, "--litellm", PIN, "--bench-seconds", "0.5", "--gate", "dev")
    assert code == 0
    assert len(seen) == 2
    assert all(url.startswith("http://127.0.0.1:") and (group, seconds) == ("codex-agent-1", 0.5)
               for url, group, seconds, _ in seen)
    assert all("litellm" in running for *_, running in seen)  # the gate dev has no ND tier: brought up for it
    doc = doc_at(tmp_path / COMPARE)
    assert [g["measured"]["latency"]["chat"]["plain"]["p50_ms"] for g in doc["gateways"]] == [4.0, 4.0]
    assert "| chat | plain | 4.0 / 6.0 (n=9) | 4.0 / 6.0 (n=9) |" in (tmp_path / COMPARE / "compare.md").read_text()
    assert not engine.table


def test_legs_leave_the_current_tags_compose_runs_alone(engine: GatewayEngine) -> None:
    before = {ref: info.id for ref, info in engine.stored.items() if ref.endswith(":current")}
    bed_compare("--litellm", OLD, "--litellm", PIN, "--bench-seconds", "0")
    assert {ref: info.id for ref, info in engine.stored.items() if ref.endswith(":current")} == before


def test_agent_versions_vary_on_one_gateway_and_a_cell_that_breaks_is_a_regression(
        engine: GatewayEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bed.images import npm

    class Registry:  # 0.24.3 is not in the lock: its integrity comes from the (fake) registry
        def versions(self, package: str) -> dict[str, Any]:
            return {"0.24.3": {"dist": {"integrity": "sha512-x=="}}}

    monkeypatch.setattr(npm, "NpmRegistry", Registry)
    envs: list[str] = []

    def agents(spec: Any) -> Program:
        envs.append(spec.env["BED_AGENTS"])
        version = "0.24.3" if "qwen-code@0.24.3" in spec.env["BED_AGENTS"] else "0.24.4"
        cell = f"agents/test_agent_clients.py::test_agent_turn[qwen-code@{version}-chat-native-tool]"
        return tier_program((cell, "passed" if version == "0.24.3" else "failed"))

    engine._behaviours = [(f, b) for f, b in engine._behaviours if f != "runner-agents"]
    engine.on("runner-agents", agents)
    code, out = bed_compare("--agents", "qwen-code@0.24.3", "--agents", "qwen-code@0.24.4", "--tier", "agents",
                            "--bench-seconds", "0")
    assert code == 1, out
    assert sorted({e.split("qwen-code@")[1] for e in envs}) == ["0.24.3", "0.24.4"]  # a leg each (and a re-run)
    doc = doc_at(tmp_path / COMPARE)
    valid(doc, COMPARE_SCHEMA)
    assert [g["name"] for g in doc["gateways"]] == [f"{PIN} qwen-code@0.24.3", f"{PIN} qwen-code@0.24.4"]
    assert [(r["level"], r["nodeid"], r["was"], r["now"]) for r in doc["regressions"]] == [
        ("check", "", "passed", "failed"),
        ("test", "agents/test_agent_clients.py::test_agent_turn[qwen-code@*-chat-native-tool]", "passed", "failed")]
    report_of_leg = json.loads((tmp_path / COMPARE / "legs" / f"{PIN}_qwen-code@0.24.4" / "mvp_report.json")
                               .read_text())
    assert "qwen-code@0.24.4" in report_of_leg["repro"]["env"]["BED_AGENTS"]  # `bed repro` rebuilds the same set


def test_varying_gateways_and_agents_at_once_is_a_config_error(engine: GatewayEngine) -> None:
    code, out = bed_compare("--litellm", OLD, "--litellm", PIN, "--agents", "qwen-code@0.24.3", "--agents",
                            "qwen-code@0.24.4")
    assert code == 2
    assert "a compare varies the gateways or the agents' versions, one at a time" in out
    code, out = bed_compare("--agents", "qwen-code@0.24.4")
    assert code == 2
    assert "at least 2 different agent version sets" in out
    code, out = bed_compare("--agents", "qwen@1.0.0", "--agents", "qwen-code@0.24.4")
    assert code == 2
    assert "did you mean 'qwen-code'" in out
