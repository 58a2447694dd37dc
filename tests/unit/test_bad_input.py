"""Bad input, as a table: each row is one line (``KIND: what. Hint: fix.``), a documented exit
code, no traceback, and nothing started: every row is refused before bed asks the engine
anything. The engine here is a spy that hands out a fake engine: a row that reached it would be
seen (``SPY.calls``), and nothing may be left behind (no report, no ``.artifacts/``).

docs/bad-input.md is the same table for people; tests/unit/test_project.py keeps the two in step.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from bed.cli import main
from bed.commands import common
from bed.engine.fake import FakeEngine
from bed.engine.protocol import Engine
from bed.errors import EngineError

NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/bed-test.sock"}
DEEP = b"a: " + b"[" * 20_000 + b"]" * 20_000 + b"\n"
FLAKE_STORE = "flakes.json"
# What a planted file is, besides bytes: the non-regular files a user can name by mistake.
FIFO, FOLDER, DEV_ZERO, HUGE = "<fifo>", "<folder>", "<dev-zero>", "<1 GB>"


class Spy:
    """common.engine, replaced: records every connection and hands out a fake engine."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self.engines: list[FakeEngine] = []

    def __call__(self, environ: Mapping[str, str]) -> Engine:
        self.calls.append(dict(environ))
        self.engines.append(FakeEngine())
        return self.engines[-1]


@pytest.fixture(autouse=True)
def never_hang() -> Iterator[None]:
    """A row that blocks (a FIFO opened for reading waits for a writer) fails instead of hanging the suite."""
    def hung(signum: int, frame: object) -> None:
        raise TimeoutError("bed blocked on bad input")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    found = Spy()
    monkeypatch.setattr(common, "engine", found)
    return found


def plant(path: Path, what: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if what == FIFO:
        os.mkfifo(path)
    elif what == FOLDER:
        path.mkdir()
    elif what == DEV_ZERO:
        path.symlink_to("/dev/zero")
    elif what == HUGE:
        with path.open("wb") as handle:  # sparse: its size says 1 GB, and costs nothing unless read
            handle.truncate(2**30)
    else:
        assert isinstance(what, bytes)
        path.write_bytes(what)


def report(**changes: Any) -> bytes:
    """A report as bed writes it (schema version 2), with ``changes`` (dotted paths; None removes)."""
    data: dict[str, Any] = {
        "schema_version": 2, "run_id": "0123abcd", "gate": "core", "verdict": "NOT READY",
        "verdict_line": "NOT READY (1 check failed)", "ready": False, "strict": False, "expect": [],
        "started_at": "2026-12-04T00:00:00+00:00",
        "bases": {"MINI_AGENT_API_BASE": "http://mini-agent:8788/v1", "CODEX_AGENT_API_BASE": "http://mini-agent:8788/v1",
                  "host": "(not published)", "source": "default"},
        "checks": [{"name": "all_smokes_nd", "tier": "nd", "status": "failed", "duration_s": 2.0, "tests": 3,
                    "failures": 1, "skipped": 0, "reason": "", "cause": None, "junit": "j.xml", "required": True,
                    "flaky": [], "quarantined": []}],
        "images": {}, "timings": {}, "versions": {}, "notes": [], "quarantine": [],
        "repro": {"command": "bed repro r.json", "images": {"shim": {"tag": "bed-shim:abc", "id": "sha256:0123"}},
                  "router_yaml": "model_list: []\n", "tiers": ["nd"], "shard": None, "shim_seed": "bed",
                  "suite": None, "env": {"STRICT": "1"}, "failing": {"all_smokes_nd": ["nd/test_x.py::test_bad"]}},
    }
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is None:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return json.dumps(data).encode()


ROWS = [
    # (id, argv, environment, files to create, exit code, text the one line must contain)
    ("strict-not-a-switch", ["run"], {"STRICT": "perhaps"}, {}, 2, "STRICT='perhaps' is not a switch"),
    ("nd-timeout-nan", ["run"], {"ALL_SMOKES_ND_TIMEOUT": "nan"}, {}, 2, "ALL_SMOKES_ND_TIMEOUT='nan'"),
    ("nd-timeout-inf", ["run"], {"ALL_SMOKES_ND_TIMEOUT": "inf"}, {}, 2, "finite"),
    ("nd-timeout-negative", ["run"], {"ALL_SMOKES_ND_TIMEOUT": "-5"}, {}, 2, "ALL_SMOKES_ND_TIMEOUT"),
    ("wait-timeout-zero", ["run"], {"BED_WAIT_TIMEOUT": "0"}, {}, 2, "like 120 (the default)"),
    ("workers-superscript", ["run"], {"PYTEST_XDIST_AUTO_NUM_WORKERS": "\u00b2"}, {}, 2,
     "PYTEST_XDIST_AUTO_NUM_WORKERS"),
    ("workers-zero", ["run"], {"PYTEST_XDIST_AUTO_NUM_WORKERS": "0"}, {}, 2, "at least 1"),
    ("memory-superscript", ["run"], {"BED_RUNNER_MEMORY": "\u00b2g"}, {}, 2, "is not a memory size"),
    ("memory-below-engine-minimum", ["run"], {"BED_RUNNER_MEMORY": "1m"}, {}, 2, "below the engine's minimum of 6m"),
    ("memory-unit", ["run"], {"BED_RUNNER_MEMORY": "2x"}, {}, 2, "512m or 2g"),
    ("repromote-superscript", ["run"], {"BED_REPROMOTE_AFTER": "\u00b3"}, {}, 2, "BED_REPROMOTE_AFTER"),
    ("expect-unknown", ["run"], {"READINESS_EXPECT": "nd,gemni"}, {}, 2, "READINESS_EXPECT names 'gemni'"),
    ("group-newline", ["run"], {"BED_ROUTER_GROUP": "codex\nagent"}, {}, 2, "BED_ROUTER_GROUP"),
    ("group-non-ascii", ["run"], {"BED_ROUTER_GROUP": "codex-agent-\u00e9"}, {}, 2, "ASCII"),
    ("group-empty", ["run"], {"BED_ROUTER_GROUP": ""}, {}, 2, "BED_ROUTER_GROUP"),
    ("base-port-zero", ["run"], {"MINI_AGENT_API_BASE": "http://127.0.0.1:0"}, {}, 2, "port 0"),
    ("base-credentials", ["run"], {"MINI_AGENT_API_BASE": "http://user:s3cr3t-pw@127.0.0.1:8788"}, {}, 2,
     "carries credentials"),
    ("base-group-as-host", ["run"], {"MINI_AGENT_API_BASE": "http://codex-agent-1:8788"}, {}, 2, "model group"),
    ("base-remote", ["run"], {"MINI_AGENT_API_BASE": "http://example.com:8788"}, {}, 2, "points away"),
    ("gate-bogus", ["run", "--gate", "bogus"], {}, {}, 2, "invalid choice: 'bogus'"),
    ("tier-empty", ["run", "--tier", ","], {}, {}, 2, "--tier names no tier"),
    ("tier-unknown", ["run", "--tier", "smoke"], {}, {}, 2, "unknown tier 'smoke'"),
    ("shard-bad", ["run", "--shard", "3/2"], {}, {}, 2, "--shard"),
    ("no-command", [], {}, {}, 2, "required"),
    ("router-config-empty", ["run", "--router-config", ""], {}, {}, 2, "--router-config is empty"),
    ("router-config-missing", ["run", "--router-config", "nope.yaml"], {}, {}, 2, "cannot read router config"),
    ("router-config-folder", ["run", "--router-config", "."], {}, {}, 2, "is a folder"),
    ("router-config-binary", ["run", "--router-config", "r.yaml"], {}, {"r.yaml": b"\x00\x01\x02ELF"}, 2,
     "binary file"),
    ("router-config-latin-1", ["run", "--router-config", "r.yaml"], {},
     {"r.yaml": "model_list: []\n# caf\u00e9\n".encode("latin-1")}, 2, "not UTF-8"),
    ("router-config-nested-20000", ["run", "--router-config", "r.yaml"], {}, {"r.yaml": DEEP}, 2,
     "nested too deeply"),
    ("router-config-50mb", ["run", "--router-config", "r.yaml"], {}, {"r.yaml": b"#" * (50 * 1024 * 1024)}, 2,
     "is 50 MB, over the 1 MB bed reads"),
    ("router-config-not-yaml", ["run", "--router-config", "r.yaml"], {}, {"r.yaml": b"model_list: [\n"}, 2,
     "not valid YAML"),
    ("router-entry-no-params", ["run", "--router-config", "r.yaml"], {},
     {"r.yaml": b"model_list:\n  - model_name: other\n"}, 2, "has no litellm_params.model"),
    ("router-group-no-model-strict", ["run", "--strict", "--router-config", "r.yaml"], {},
     {"r.yaml": b"model_list:\n  - model_name: codex-agent-1\n"}, 2, "has no litellm_params.model"),
    ("flake-store-empty-name", ["run"], {"BED_FLAKE_STORE": ""}, {}, 2, "BED_FLAKE_STORE is empty"),
    ("flake-store-not-json", ["run"], {"BED_FLAKE_STORE": FLAKE_STORE}, {FLAKE_STORE: b"{not json"}, 2,
     "is not JSON"),
    ("flake-store-wrong-shape", ["run"], {"BED_FLAKE_STORE": FLAKE_STORE}, {FLAKE_STORE: b'{"tests": []}'}, 2,
     "has no 'tests' table"),
    ("flake-store-bad-entry", ["run"], {"BED_FLAKE_STORE": FLAKE_STORE},
     {FLAKE_STORE: b'{"tests": {"t.py::a": {"check": "x", "flakes": "yesterday"}}}'}, 2, "wrong shape"),
    ("artifacts-dir-empty", ["run"], {"BED_ARTIFACTS_DIR": ""}, {}, 2, "BED_ARTIFACTS_DIR is empty"),
    ("ca-bundle-missing", ["run"], {"BED_CA_BUNDLE": "/nonexistent/ca.pem"}, {}, 2, "BED_CA_BUNDLE"),
    ("suite-missing", ["run", "--suite", "nope"], {}, {}, 2, "is not a folder"),
    ("repro-not-json", ["repro", "r.json"], {}, {"r.json": b"\xff\xfe"}, 2, "is not JSON"),
    ("repro-not-a-report", ["repro", "r.json"], {}, {"r.json": b"{}"}, 2, "not a bed report"),
    ("bench-runs-word", ["bench", "--runs", "many"], {}, {}, 2, "invalid int value"),
    ("bench-runs-zero", ["bench", "reuse", "--runs", "0"], {}, {}, 2, "--runs 0 is out of range"),
    ("bench-reuse-nothing-kept", ["bench", "reuse"], {}, {}, 2, "no stack kept by `bed up` here"),
    ("pyproject-unknown-key", ["run"], {}, {"pyproject.toml": b"[tool.bed]\nstrikt = true\n"}, 2,
     "did you mean 'strict'"),
    ("pyproject-not-toml", ["run"], {}, {"pyproject.toml": b"[tool.bed\n"}, 2, "not valid TOML"),
    # bed repro of a report bed did not write: the first field that breaks report.schema.json is named
    ("repro-no-checks", ["repro", "r.json"], {}, {"r.json": report(checks=None)}, 2, "checks: is missing"),
    ("repro-other-shape", ["repro", "r.json"], {}, {"r.json": report(repro={"command": "bed repro", "steps": []})}, 2,
     "repro.images: is missing"),
    ("repro-env-not-an-object", ["repro", "r.json"], {}, {"r.json": report(repro__env=["STRICT=1"])}, 2,
     'repro.env: ["STRICT=1"] is not an object'),
    ("repro-env-value-not-text", ["repro", "r.json"], {}, {"r.json": report(repro__env={"STRICT": 1})}, 2,
     "repro.env.STRICT: 1 is not a string"),
    ("repro-status-wrong-type", ["repro", "r.json"], {}, {"r.json": report(checks__0__status=3)}, 2,
     "checks[0].status: 3 is not one of"),
    ("repro-image-id-wrong-type", ["repro", "r.json"], {}, {"r.json": report(repro__images__shim__id=5)}, 2,
     "repro.images.shim.id: 5 is not a string"),
    ("repro-tiers-unknown", ["repro", "r.json"], {}, {"r.json": report(repro__tiers=["nd", "smoke"])}, 2,
     'repro.tiers[1]: "smoke" is not one of'),
    ("repro-unknown-field", ["repro", "r.json"], {}, {"r.json": report(surprise=True)}, 2,
     "surprise: is not a field"),
    # a report is data, never this machine's configuration: only REPRO_ENV is taken from it
    ("repro-env-docker-host", ["repro", "r.json"], {},
     {"r.json": report(repro__env={"DOCKER_HOST": "tcp://203.0.113.9:2375", "STRICT": "1"})}, 2,
     "repro.env names DOCKER_HOST"),
    ("repro-env-artifacts-dir", ["repro", "r.json"], {}, {"r.json": report(repro__env={"BED_ARTIFACTS_DIR": "/etc"})},
     2, "repro.env names BED_ARTIFACTS_DIR"),
    ("repro-env-ld-preload", ["repro", "r.json"], {}, {"r.json": report(repro__env={"LD_PRELOAD": "/tmp/x.so"})}, 2,
     "repro.env names LD_PRELOAD"),
    # bounds and options checked up front, not by an OOM-killed runner or a traceback from it
    ("shard-1-of-100000000000", ["run", "--shard", "1/100000000000"], {}, {}, 2, "(at most 1000)"),
    ("shard-superscript", ["run", "--shard", "\u00b2/3"], {}, {}, 2, "is not I/N"),
    ("addopts-open-quote", ["run"], {"PYTEST_ADDOPTS": "-k 'not slow"}, {}, 2, "cannot be split into arguments"),
    ("addopts-unknown-option", ["run"], {"PYTEST_ADDOPTS": "-x --maxfial=2"}, {}, 2,
     "names --maxfial, an option the runner's pytest"),
    ("addopts-missing-value", ["run"], {"PYTEST_ADDOPTS": "-v -k"}, {}, 2, "-k: expected one argument"),
    # requirements: one rule for the list in [tool.bed] and the file
    ("requirements-list-editable", ["run"], {}, {"pyproject.toml": b'[tool.bed]\nrequirements = ["-e /etc"]\n'}, 2,
     "refers to local files"),
    ("requirements-list-index-url", ["run"], {},
     {"pyproject.toml": b'[tool.bed]\nrequirements = ["--index-url=https://example.com/simple"]\n'}, 2,
     "is a pip option"),
    ("requirements-file-index-url", ["run"], {"BED_REQUIREMENTS": "req.txt"},
     {"req.txt": b"httpx\n--index-url=https://example.com/simple\n"}, 2, "is a pip option"),
    ("requirements-list-path", ["run"], {}, {"pyproject.toml": b'[tool.bed]\nrequirements = ["vendor/pkg"]\n'}, 2,
     "refers to local files"),
    ("requirements-list-file-url", ["run"], {},
     {"pyproject.toml": b'[tool.bed]\nrequirements = ["pkg @ file:///etc/pkg"]\n'}, 2, "refers to local files"),
    ("requirements-list-trailing-option", ["run"], {},
     {"pyproject.toml": b'[tool.bed]\nrequirements = ["httpx --trusted-host example.com"]\n'}, 2,
     "carries the pip option '--trusted-host'"),
]

# Every file bed reads that a user names (or can put in bed's way), each as a FIFO, a folder,
# /dev/zero and a 1 GB file: each refused at once, from its stat, before a byte is read.
PROVIDER_CONFIG = (b"model_list: []\nlitellm_settings:\n"
                   b"  custom_provider_map:\n    - {provider: mine, custom_handler: mod.h}\n")
INPUTS = [
    # (id, argv, environment, the path that gets the bad file, other files)
    ("router-config-flag", ["run", "--router-config", "target"], {}, "target", {}),
    ("router-config-env", ["run"], {"BED_ROUTER_CONFIG": "target"}, "target", {}),
    ("provider-module", ["run", "--router-config", "r.yaml"], {}, "mod.py", {"r.yaml": PROVIDER_CONFIG}),
    ("flake-store", ["run"], {"BED_FLAKE_STORE": "target"}, "target", {}),
    ("requirements-file", ["run"], {"BED_REQUIREMENTS": "target"}, "target", {}),
    ("requirements-beside-suite", ["run", "--suite", "s"], {}, "s/requirements.txt", {"s/test_x.py": b""}),
    ("ca-bundle", ["run"], {"BED_CA_BUNDLE": "target"}, "target", {}),
    ("repro-report", ["repro", "target"], {}, "target", {}),
    ("pyproject", ["run"], {}, "pyproject.toml", {}),
    ("bed-toml", ["run"], {}, "bed.toml", {}),
    ("compare-leg", ["compare", "--merge", "a", "b"], {}, "a/leg.json", {"b/leg.json": b"{}"}),
    ("kept-record", ["run", "--reuse"], {}, ".artifacts/kept.json", {}),
    ("init-makefile", ["init"], {}, "Makefile", {}),
]
KINDS = [(FIFO, "fifo", "is a FIFO (named pipe), not a regular file"), (FOLDER, "folder", "is a folder"),
         (DEV_ZERO, "dev-zero", "is a character device"), (HUGE, "1gb", "is 1024 MB, over the")]
ROWS += [(f"{name}-{tag}", argv, env, {**others, target: kind}, 2, says)
         for name, argv, env, target, others in INPUTS for kind, tag, says in KINDS]


@pytest.mark.parametrize(("argv", "env", "files", "code", "says"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_bad_input_is_one_line_and_a_documented_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str], spy: Spy, argv: list[str],
                                                    env: dict[str, str], files: dict[str, bytes | str], code: int,
                                                    says: str) -> None:
    monkeypatch.chdir(tmp_path)
    for name, data in files.items():
        plant(tmp_path / name, data)
    before = sorted(tmp_path.rglob("*"))
    waited: list[float] = []  # refused at once: no retry, no bounded wait (one used to take 77 s)
    monkeypatch.setattr(time, "sleep", waited.append)
    got = main(argv, {**NO_ENGINE, **env})
    out = capsys.readouterr()
    text = out.out + out.err
    assert got == code, text
    lines = [ln for ln in text.splitlines() if ln.startswith(("CONFIG_ERROR:", "ENGINE_ERROR:", "BUG:"))]
    assert len(lines) == 1, text
    assert lines[0].startswith("CONFIG_ERROR: ")
    assert says in lines[0]
    assert " Hint: " in lines[0]
    assert "Traceback" not in text
    assert "s3cr3t-pw" not in text  # a password in a base is never echoed
    assert waited == []
    assert spy.calls == []  # the engine was never asked: nothing started, built or pulled
    assert sorted(tmp_path.rglob("*")) == before  # nothing left: no report, no .artifacts/, no half-written file


def test_a_report_never_chooses_the_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spy: Spy) -> None:
    """A report that bed wrote is reproduced with this machine's engine: the report's settings
    (REPRO_ENV) come from it, DOCKER_HOST and where reports go from the user's own environment."""
    def refuse(environ: Mapping[str, str]) -> Engine:
        spy(environ)
        raise EngineError("stopped here by the test.", hint="none.")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(common, "engine", refuse)
    plant(tmp_path / "r.json", report(repro__env={"STRICT": "1", "BED_WAIT_TIMEOUT": "33"}))
    mine = {"DOCKER_HOST": "unix:///mine.sock", "BED_ARTIFACTS_DIR": "out", "STRICT": "0"}
    assert main(["repro", "r.json"], mine) == 3
    (seen,) = spy.calls
    assert seen["DOCKER_HOST"] == "unix:///mine.sock"
    assert seen["BED_ARTIFACTS_DIR"] == "out"  # where reports go stays the user's
    assert (seen["STRICT"], seen["BED_WAIT_TIMEOUT"]) == ("1", "33")  # what shaped the run is the report's


def test_an_unsearchable_working_folder_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str], spy: Spy) -> None:
    """`sudo -u nobody bed run` in root's home: bed cannot stat its project file there (exit 70 before)."""
    real_stat = os.stat

    def denied(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if str(path).startswith(str(tmp_path)):
            raise PermissionError(13, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "stat", denied)
    assert main(["run"], NO_ENGINE) == 2
    line = capsys.readouterr().err.strip()
    assert line.startswith(f"CONFIG_ERROR: cannot search the working folder {tmp_path} (permission denied)")
    assert " Hint: cd to a folder you own" in line
    assert spy.calls == []


@pytest.mark.skipif(not shutil.which("setpriv") and os.geteuid() == 0, reason="root reads any folder without setpriv")
def test_an_unsearchable_working_folder_for_real(tmp_path: Path) -> None:
    """The same with the kernel's own permission check: a folder mode 000 (as root, with the
    capabilities that bypass permissions dropped, as a `sudo -u nobody` would lack them)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0)
    drop = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"] if os.geteuid() == 0 else []
    try:
        done = subprocess.run([*drop, sys.executable, "-m", "bed", "run"], cwd=folder, capture_output=True, text=True,
                              env={**os.environ, **NO_ENGINE, "PYTHONPATH": str(Path(__file__).parents[2])},
                              timeout=60, check=False)
    finally:
        folder.chmod(0o755)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("CONFIG_ERROR: cannot search the working folder"), done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_a_corrupt_flake_store_is_kept_as_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    store = tmp_path / FLAKE_STORE
    store.write_bytes(b"{half a history")
    assert main(["run"], {**NO_ENGINE, "BED_FLAKE_STORE": FLAKE_STORE}) == 2
    assert store.read_bytes() == b"{half a history"  # never reset silently
    assert f"mv {store} {store}.bak" in capsys.readouterr().err  # an error: on stderr
