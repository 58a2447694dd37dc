"""The CI examples users copy: .github/workflows/readiness.yml and examples/gitlab-ci.yml.

Each is checked by the tool its platform's users would trust (actionlint; GitLab's own CI
schema, as vendored by check-jsonschema), and against bed itself: the make targets and bed
commands they call exist, the shards cover the ND tier, and the report paths they collect
are where bed writes. The linters are dev dependencies installed by `make venv`; a missing
one is a failure, not a skip.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bed import __version__
from bed.cli import parser
from bed.config.settings import Config

from . import ci_tools

SOURCE = Path(__file__).resolve().parents[2]

WORKFLOW = SOURCE / ".github" / "workflows" / "readiness.yml"
GITLAB = SOURCE / "examples" / "gitlab-ci.yml"
MAKEFILE = SOURCE / "Makefile"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    return ci_tools.tool(name)


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def _yaml(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


def _make_targets() -> set[str]:
    return set(re.findall(r"^([a-zA-Z][\w-]*):", MAKEFILE.read_text(), re.MULTILINE))


def _shards(values: list[str]) -> list[tuple[int, int]]:
    pairs = [tuple(int(x) for x in v.split("/")) for v in values]
    return [(i, n) for i, n in pairs]


# --- GitHub ------------------------------------------------------------------------------------

def _github_steps() -> dict[str, list[dict[str, Any]]]:
    return {name: job["steps"] for name, job in _yaml(WORKFLOW)["jobs"].items()}


def test_github_workflow_has_no_actionlint_problems() -> None:
    done = ci_tools.actionlint(WORKFLOW)  # with shellcheck on PATH, or it fails saying how to get it
    assert not done.stdout.strip(), done.stdout
    assert done.returncode == 0, done.stderr


def test_actionlint_runs_shellcheck_on_the_scripts(tmp_path: Path) -> None:
    # SC2012 once slipped through: actionlint is silent about scripts when shellcheck is missing.
    probe = tmp_path / "probe.yml"
    probe.write_text("on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n"
                     "      - run: echo $(ls -d legs/* | sort -V)\n")
    out = ci_tools.actionlint(probe).stdout
    assert "SC2012" in out, out
    assert "SC2046" in out, out


def test_gitlab_scripts_pass_shellcheck() -> None:
    assert ci_tools.shellcheck_gitlab(_yaml(GITLAB)) == {}


def test_actionlint_knows_every_pinned_action(tmp_path: Path) -> None:
    # actionlint checks inputs and the node runtime only for refs in its dataset (major tags
    # such as @v7, not @v7.0.1). Offer each pinned action an input it lacks: an error naming
    # it proves actionlint would also have reported a removed runtime (node20) on that ref.
    used = sorted({s["uses"] for steps in _github_steps().values() for s in steps if "uses" in s})
    assert used
    probe = {"on": "push", "jobs": {"probe": {"runs-on": "ubuntu-latest", "steps": [
        {"uses": ref, "with": {"bed-no-such-input": "1"}} for ref in used]}}}
    path = tmp_path / "probe.yml"
    path.write_text(yaml.safe_dump(probe, sort_keys=False))
    out = _run([_tool("actionlint"), "-oneline", str(path)]).stdout
    for ref in used:
        assert f'input "bed-no-such-input" is not defined in action "{ref}"' in out, (
            f"actionlint does not know {ref}; pin a major tag it knows (e.g. @v7), so it can check the runtime")


def test_github_jobs_call_make_targets_that_exist() -> None:
    targets = _make_targets()
    called: dict[str, set[str]] = {}
    for job, steps in _github_steps().items():
        for step in steps:
            script = re.sub(r"\$\{\{[^}]*\}\}", "EXPR", step.get("run", ""))  # ${{ ... }} holds spaces
            for words in (shlex.split(line) for line in script.splitlines() if line.strip()):
                if "make" in words:
                    rest = words[words.index("make") + 1:]
                    called.setdefault(job, set()).update(w for w in rest if "=" not in w and not w.startswith("-"))
    assert called == {"dev-gate": {"dev-gate"}, "nd-shards": {"project-ready-core-only-with-docker"},
                      "deploy-gate": {"deploy-gate"}, "compare-legs": {"compare"}, "compare": {"compare"}}
    missing = set().union(*called.values()) - targets
    assert not missing, f"the workflow calls make targets the Makefile lacks: {sorted(missing)}"


def test_github_nd_matrix_covers_every_shard_once() -> None:
    job = _yaml(WORKFLOW)["jobs"]["nd-shards"]
    shards = _shards(job["strategy"]["matrix"]["shard"])
    total = shards[0][1]
    assert sorted(shards) == [(i, total) for i in range(1, total + 1)]
    runs = " ".join(s.get("run", "") for s in job["steps"])
    assert "SHARD=${{ matrix.shard }}" in runs


def test_github_uploads_what_bed_writes(tmp_path: Path) -> None:
    config = Config.from_env({}, root=tmp_path)
    for job in ("dev-gate", "nd-shards", "deploy-gate"):
        uploads = [s for s in _github_steps()[job] if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
        assert uploads, f"{job} uploads no reports"
        paths = uploads[0]["with"]["path"].split()
        assert uploads[0].get("if") == "always()", f"{job}: reports matter most when the gate fails"
        for written in (config.ready_md_path, config.report_path, config.junit_path("all_smokes_nd")):
            rel = written.relative_to(tmp_path).as_posix()
            assert any(rel == p or rel.startswith(p.rstrip("/") + "/") for p in paths), (job, rel, paths)


def _make_vars(line: str) -> dict[str, str]:
    words = shlex.split(re.sub(r"\$\{\{[^}]*\}\}", "EXPR", line))
    return dict(w.split("=", 1) for w in words[words.index("make") + 1:] if "=" in w)


def test_github_compare_runs_one_leg_per_release_then_merges_them_in_matrix_order(tmp_path: Path) -> None:
    jobs = _yaml(WORKFLOW)["jobs"]
    legs, merge = jobs["compare-legs"], jobs["compare"]
    releases = legs["strategy"]["matrix"]["litellm"]
    assert len(releases) >= 2
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in releases)
    assert legs["strategy"]["fail-fast"] is False, "one broken release must not cancel the others' legs"
    run = next(s["run"] for s in legs["steps"] if "make compare" in s.get("run", ""))
    assert _make_vars(run) == {"LEG": "EXPR", "OUT": "leg"}
    assert "LEG=${{ matrix.litellm }}" in run
    upload = next(s for s in legs["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert upload["with"] == {"name": "compare-leg-${{ strategy.job-index }}", "path": "leg/"}
    assert upload["if"] == "always()"
    assert merge["needs"] == "compare-legs"
    assert "!cancelled()" in merge["if"]
    download = next(s for s in merge["steps"] if str(s.get("uses", "")).startswith("actions/download-artifact@"))
    assert download["with"] == {"pattern": "compare-leg-*", "path": "legs"}
    joined = next(s["run"] for s in merge["steps"] if "make compare" in s.get("run", ""))
    assert 'MERGE="$(find legs -mindepth 1 -maxdepth 1 -type d -name \'compare-leg-*\' | sort -V' in joined
    # sort -V puts the job indexes back in matrix order (10 after 9, not after 1).
    names = [f"legs/compare-leg-{i}" for i in (10, 2, 0, 1, 9)]
    ordered = subprocess.run(["sort", "-V"], input="\n".join(names), capture_output=True, text=True, check=True)
    assert ordered.stdout.split() == [f"legs/compare-leg-{i}" for i in (0, 1, 2, 9, 10)]
    uploads = [s for s in merge["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    config = Config.from_env({}, root=tmp_path)
    compare_dir = (config.artifacts_dir.parent / "compare").relative_to(tmp_path).as_posix()
    assert uploads[0]["with"]["path"].rstrip("/") == compare_dir
    assert any("GITHUB_STEP_SUMMARY" in s.get("run", "") and "compare.md" in s["run"] for s in merge["steps"])
    args = parser().parse_args(["compare", "--leg", releases[0], "--out", "leg"])
    assert (args.leg, args.out) == (releases[0], "leg")


def test_make_compare_passes_each_variable_to_bed_compare() -> None:
    def dry(*variables: str) -> str:
        done = _run(["make", "-s", "-n", "-o", ".venv/.installed-stamp", "-C", str(SOURCE), "compare", *variables])
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    assert dry('LITELLM=1.100.5 1.108.7', "JOBS=2").split("bed compare ")[1].split() == [
        "--litellm", "1.100.5", "--litellm", "1.108.7", "--jobs", "2"]
    leg = dry("LEG=1.108.7", "OUT=leg")
    assert leg.startswith("scripts/ensure-engine.sh && ")
    assert leg.split("bed compare ")[1].split() == ["--leg", "1.108.7", "--out", "leg"]
    merge = dry("MERGE=a b")
    assert "ensure-engine" not in merge, "joining legs needs no engine"
    assert merge.split("bed compare ")[1].split() == ["--merge", "a", "b"]


# --- GitLab ------------------------------------------------------------------------------------

COMPARE_JOBS = ("compare-legs", "compare")


def _gitlab_jobs(doc: dict[str, Any], *, compare: bool = True) -> dict[str, dict[str, Any]]:
    reserved = {"default", "include", "stages", "variables", "workflow", "image", "services", "cache",
                "before_script", "after_script", "spec"}
    return {k: v for k, v in doc.items() if k not in reserved and not k.startswith(".") and isinstance(v, dict)
            and (compare or k not in COMPARE_JOBS)}


def test_gitlab_example_validates_against_gitlab_ci_schema() -> None:
    # check-jsonschema vendors GitLab's own ci.json (gitlab-org/gitlab,
    # app/assets/javascripts/editor/schema/ci.json); the flags are the ones its GitLab hook uses.
    done = _run([_tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", "--data-transform", "gitlab-ci",
                 "--regex-variant", "nonunicode", str(GITLAB)])
    assert done.returncode == 0, done.stdout + done.stderr


def test_gitlab_jobs_use_the_dind_service_over_docker_host() -> None:
    doc = _yaml(GITLAB)
    variables = doc["variables"]
    host = re.fullmatch(r"tcp://([\w.-]+):2375", variables["DOCKER_HOST"])
    assert host, "DOCKER_HOST must be the dind service's plain-TCP port"
    # dind serves plain TCP on 2375 only when TLS is off; with TLS it listens on 2376 instead.
    assert variables["DOCKER_TLS_CERTDIR"] == ""
    jobs = _gitlab_jobs(doc)
    assert jobs
    for name, job in jobs.items():
        services = job.get("services", doc["default"]["services"])
        if any("--merge" in line for line in job["script"]):
            assert services == [], f"{name}: joining legs needs no engine"
            continue
        names = [str(s["name"]).replace("$BED_DIND", variables["BED_DIND"]) for s in services if isinstance(s, dict)]
        dind = [s for s, n in zip(services, names, strict=True) if re.fullmatch(r"docker:[\w.-]*dind", n)]
        assert dind, f"{name}: no docker:*dind service"
        assert dind[0].get("alias", "docker") == host.group(1), f"{name}: DOCKER_HOST does not name the dind service"


def test_gitlab_collects_what_bed_writes(tmp_path: Path) -> None:
    doc = _yaml(GITLAB)
    config = Config.from_env({}, root=tmp_path)
    for name, job in _gitlab_jobs(doc, compare=False).items():
        artifacts = job.get("artifacts", doc["default"]["artifacts"])
        assert artifacts["when"] == "always", f"{name}: reports matter most when the gate fails"
        junit = artifacts["reports"]["junit"]
        junit = [junit] if isinstance(junit, str) else junit
        for check in ("all_smokes_core", "all_smokes_nd_shard_1of2"):
            rel = config.junit_path(check).relative_to(tmp_path).as_posix()
            assert any(fnmatch.fnmatch(rel, pattern) for pattern in junit), (name, rel, junit)
        for written in (config.ready_md_path, config.report_path):
            rel = written.relative_to(tmp_path).as_posix()
            assert any(rel == p or rel.startswith(p.rstrip("/") + "/") for p in artifacts["paths"]), (name, rel)
    assert "BED_ARTIFACTS_DIR" not in str(doc), "the paths above assume bed's default artifacts folder"


def test_gitlab_installs_bed_from_a_wheel_of_this_version_in_the_repository() -> None:
    # not `pip install .`, which works only in bed's own repository
    doc = _yaml(GITLAB)
    assert doc["variables"]["BED_INSTALL"] == f"./.bed/bed_readiness-{__version__}-py3-none-any.whl"
    assert '"$BED_INSTALL"' in " ".join(doc["default"]["before_script"])
    assert all("constraints.txt" not in str(job) for job in doc.values())


def test_gitlab_scripts_are_bed_commands_bed_accepts() -> None:
    doc = _yaml(GITLAB)
    shards = _shards(doc["nd-shards"]["parallel"]["matrix"][0]["SHARD"])
    total = shards[0][1]
    assert sorted(shards) == [(i, total) for i in range(1, total + 1)]
    gates = {}
    for name, job in _gitlab_jobs(doc, compare=False).items():
        for line in job["script"]:
            words = shlex.split(line.replace("$SHARD", "1/2"))
            assert words[0] == "bed", f"{name}: {line}"
            args = parser().parse_args(words[1:])  # argparse exits (SystemExit) on anything bed lacks
            gates[name] = (args.gate, args.shard)
    assert gates == {"dev-gate": ("dev", None), "nd-shards": ("core", "1/2"), "deploy-gate": ("deploy", None)}


def test_gitlab_compare_runs_one_leg_per_release_then_merges_them_in_matrix_order(tmp_path: Path) -> None:
    doc = _yaml(GITLAB)
    legs, merge = doc["compare-legs"], doc["compare"]
    releases = legs["parallel"]["matrix"][0]["LITELLM"]
    assert len(releases) >= 2
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in releases)
    config = Config.from_env({}, root=tmp_path)
    compare_dir = (config.artifacts_dir.parent / "compare").relative_to(tmp_path).as_posix()
    (line,) = legs["script"]
    args = parser().parse_args(shlex.split(line.replace("$LITELLM", releases[0]).replace("$CI_NODE_INDEX", "1"))[1:])
    assert (args.command, args.leg, args.out) == ("compare", releases[0], f"{compare_dir}/legs/1")
    assert legs["artifacts"]["when"] == "always"
    assert legs["artifacts"]["paths"] == [f"{compare_dir}/legs/"]
    assert doc["stages"].index(legs["stage"]) < doc["stages"].index(merge["stage"])
    assert merge["needs"] == [{"job": "compare-legs", "artifacts": True}]
    (line,) = merge["script"]
    # find, not ls (shellcheck SC2012), and xargs, not an unquoted $(...) (SC2046); sort -V: leg 10 after 9
    assert line == f"find {compare_dir}/legs -mindepth 1 -maxdepth 1 -type d | sort -V | xargs bed compare --merge"
    args = parser().parse_args(["compare", "--merge", "a/", "b/"])
    assert args.merge == ["a/", "b/"]
    assert merge["artifacts"]["paths"] == [f"{compare_dir}/"]
    assert merge["artifacts"]["when"] == "always"
    assert not any("[chart]" in step for step in merge["before_script"]), "the chart is Mermaid: no extra"
    assert legs["rules"] == merge["rules"], "the merge runs exactly when the legs do"


# --- Compose: the file bed generates for compose users ------------------------------------------

def test_compose_file_validates_against_the_compose_spec() -> None:
    compose = SOURCE / "compose" / "bed.yaml"
    done = _run([_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(compose)])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("key", ["start_interval"])
def test_compose_healthchecks_avoid_what_engine_20_10_refuses(key: str) -> None:
    services = _yaml(SOURCE / "compose" / "bed.yaml")["services"]
    for name, service in services.items():
        assert key not in service.get("healthcheck", {}), f"{name}: {key} needs Docker engine >= 25"


def test_compose_header_names_make_targets_that_exist() -> None:
    header = "".join(line for line in (SOURCE / "compose" / "bed.yaml").read_text().splitlines(True)
                     if line.startswith("#"))
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", header))
    assert named, "the header should say how to bring the stack up"
    assert named <= _make_targets(), f"compose/bed.yaml names missing make targets: {sorted(named - _make_targets())}"


def test_the_project_s_own_shell_scripts_pass_shellcheck() -> None:
    scripts = [*sorted(str(p) for p in (SOURCE / "scripts").glob("*.sh")), str(SOURCE / ".ci" / "run")]
    done = _run([ci_tools.shellcheck(), "--format=gcc", *scripts])
    assert done.returncode == 0, done.stdout + done.stderr
