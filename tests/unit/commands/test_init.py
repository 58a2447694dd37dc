"""`bed init` in temporary repositories: what it writes, what it keeps byte for byte, what it refuses.

The generated files are checked by the tools that will read them: bed's own Config reader
(the [tool.bed] table / bed.toml), GNU make (`make -n`), pytest with bed's plugin and
--strict-markers (the example suite; its tests are also run against a router config and an
OpenAI-compatible server on loopback), and actionlint (the workflow). No Docker.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

import bed.runner
from bed import __version__
from bed.cli import main, parser
from bed.config import router
from bed.config.settings import Config

PLUGIN_DIR = Path(bed.runner.__file__).parent
BIN = Path(sys.executable).parent
SUITE = "tests/readiness"
CORE = "project-ready-core-only-with-docker"

ODD_PYPROJECT = """\
# A hand-kept file: comments, odd spacing and odd order must all survive.
[project]
name   =   "agent-gw"     # trailing comment
version="1.0"
dependencies = [
    "httpx>=0.27",   # pinned for reasons
    "private @ git+https://user:tok3nvalue@git.example/private.git",
]

[tool.ruff]
line-length=100
  # an indented comment

[build-system]
requires = [ "setuptools" ]

[tool.mypy]
strict = true"""  # no newline at the end, on purpose

USER_MAKEFILE = """\
PY ?= python3
.PHONY: all test

all: test ## build everything

test:
\t$(PY) -m pytest -q

clean:
\trm -rf build
"""


def init(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["init", str(repo), *args], {})
    return code, capsys.readouterr().out


def snapshot(repo: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(repo)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(repo.rglob("*"))
            if p.is_file() and ".git" not in p.parts}


def make(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in ("BED", "SHARD", "VIRTUAL_ENV", "MAKEFLAGS")}
    done = subprocess.run(["make", "-n", "--no-print-directory", *args], cwd=repo, capture_output=True, text=True,
                          env={**environ, **(env or {})}, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    return path


# --- settings ------------------------------------------------------------------------------------

def test_pyproject_keeps_every_byte_outside_the_new_table(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pyproject.toml").write_bytes(ODD_PYPROJECT.encode())
    code, out = init(repo, capsys)
    assert code == 0
    assert "added     [tool.bed] in pyproject.toml" in out
    after = (repo / "pyproject.toml").read_text()
    assert after.startswith(ODD_PYPROJECT), "a byte of the user's file changed"
    added = after[len(ODD_PYPROJECT):]
    assert added.startswith("\n\n[tool.bed]\n"), repr(added[:40])  # one blank line, then the table
    assert tomllib.loads(added) == {"tool": {"bed": {"suite": SUITE, "strict": False, "expect": []}}}
    assert not (repo / "bed.toml").exists()


def test_the_table_s_values_are_what_bed_reads(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pyproject.toml").write_text(ODD_PYPROJECT)
    init(repo, capsys, "--suite-dir", "checks/gw")
    config = Config.from_env({}, root=repo)
    assert config.suite == repo / "checks" / "gw"
    assert config.sources["suite"].source == "pyproject.toml"
    assert config.sources["strict"].source == "pyproject.toml"
    assert config.sources["expect"].source == "pyproject.toml"
    assert (config.strict, config.expect) == (False, ())
    assert Config.from_env({"STRICT": "1"}, root=repo).strict  # the environment still wins


def test_commented_keys_are_the_ones_not_live_yet(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init(repo, capsys)
    text = (repo / "bed.toml").read_text()
    for line in ('# router_config = "litellm_config.yaml"', '# litellm = "1.108.7"',
                 '#   litellm = { path = "../litellm" }', '#   litellm = { image = "registry/gw:tag" }'):
        assert line in text.splitlines(), line
        # each commented line, uncommented, is TOML bed will read once the key is live
        tomllib.loads(line.lstrip("# "))


def test_no_pyproject_gets_bed_toml_that_bed_reads(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = init(repo, capsys)
    assert code == 0
    assert "wrote     bed.toml" in out
    assert not (repo / "pyproject.toml").exists()
    config = Config.from_env({}, root=repo)
    assert config.suite == repo / SUITE
    assert config.sources["suite"].source == "bed.toml"


def test_bed_toml_is_not_hidden_by_a_new_table(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # bed reads [tool.bed] before bed.toml: adding the table would silently hide the user's file.
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (repo / "bed.toml").write_text('strict = true\nsuite = "mine"\n')
    (repo / "mine").mkdir()
    code, out = init(repo, capsys)
    assert code == 0
    assert (repo / "pyproject.toml").read_text() == "[project]\nname = 'x'\n"
    assert (repo / "bed.toml").read_text() == 'strict = true\nsuite = "mine"\n'
    assert "skipped   bed.toml: it exists (--force overwrites it)" in out


def test_an_existing_table_is_kept_and_force_replaces_only_it(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = '# top\n[project]\nname="x"  # n\n\n[tool.bed]\nsuite = "old"  # mine\n\n[tool.ruff]\nx = 1 # r\n'
    (repo / "pyproject.toml").write_text(before)
    code, out = init(repo, capsys)
    assert code == 0
    assert (repo / "pyproject.toml").read_text() == before
    assert "pyproject.toml: it has a [tool.bed] table (--force replaces that table" in out
    code, out = init(repo, capsys, "--force")
    assert code == 0
    assert "replaced  [tool.bed] in pyproject.toml" in out
    after = (repo / "pyproject.toml").read_text()
    head, tail = '# top\n[project]\nname="x"  # n\n\n[tool.bed]\n', "\n[tool.ruff]\nx = 1 # r\n"
    assert after.startswith(head), after
    assert after.endswith(tail), after
    assert '"old"' not in after
    assert tomllib.loads(after)["tool"]["bed"]["suite"] == SUITE


def test_crlf_pyproject_stays_crlf(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = b'[project]\r\nname = "x"\r\n'
    (repo / "pyproject.toml").write_bytes(before)
    init(repo, capsys)
    after = (repo / "pyproject.toml").read_bytes()
    assert after.startswith(before)
    assert b"\n" not in after.replace(b"\r\n", b"")


# --- Makefile ------------------------------------------------------------------------------------

def test_existing_makefile_keeps_its_targets_and_gains_bed_s(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "Makefile").write_text(USER_MAKEFILE)
    code, out = init(repo, capsys)
    assert code == 0
    assert f"appended  targets {CORE}, dev-gate to Makefile" in out
    after = (repo / "Makefile").read_text()
    assert after.startswith(USER_MAKEFILE + "\n# >>> bed:")
    assert make(repo) == "python3 -m pytest -q"  # the default goal is still the user's first target
    assert make(repo, "clean") == "rm -rf build"
    assert make(repo, CORE) == "python3 -m bed run --gate core"
    assert make(repo, "dev-gate") == "python3 -m bed run --gate dev"
    assert make(repo, CORE, "SHARD=2/3") == "python3 -m bed run --gate core --shard 2/3"
    assert make(repo, CORE, "BED=bed") == "bed run --gate core"  # bed installed with pipx / uv tool
    assert make(repo, "dev-gate", env={"BED": "/opt/bed/bin/bed"}) == "/opt/bed/bin/bed run --gate dev"


def test_the_makefile_prefers_the_project_s_venv_unless_another_is_active(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init(repo, capsys)
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "python3").write_text("")
    assert make(repo, "dev-gate") == ".venv/bin/python3 -m bed run --gate dev"
    assert make(repo, "dev-gate", env={"VIRTUAL_ENV": "/elsewhere"}) == "python3 -m bed run --gate dev"


def test_the_generated_command_is_one_bed_accepts(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init(repo, capsys)
    for target, gate in ((CORE, "core"), ("dev-gate", "dev")):
        words = shlex.split(make(repo, target, "SHARD=1/2", "BED=bed"))
        args = parser().parse_args(words[1:])
        assert (args.command, args.gate) == ("run", gate)


def test_a_target_the_user_wrote_is_never_touched(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = USER_MAKEFILE + "\ndev-gate: test\n\t./my-own-gate.sh\n"
    (repo / "Makefile").write_text(mine)
    code, out = init(repo, capsys)
    assert code == 0
    assert "skipped   Makefile target dev-gate: you define it (line 12)" in out
    assert f"appended  targets {CORE} to Makefile" in out
    assert make(repo, "dev-gate").endswith("./my-own-gate.sh")
    assert make(repo, CORE) == "python3 -m bed run --gate core"
    init(repo, capsys, "--force")  # --force rewrites bed's block, never the user's target
    after = (repo / "Makefile").read_text()
    assert after.startswith(mine)
    assert make(repo, "dev-gate").endswith("./my-own-gate.sh")
    assert len(re.findall(r"^dev-gate:", after, re.MULTILINE)) == 1
    assert "# dev-gate: yours is kept" in after


def test_makefile_with_both_targets_is_left_alone(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = f"{CORE} dev-gate:\n\t./gate.sh\n"
    (repo / "Makefile").write_text(mine)
    code, out = init(repo, capsys)
    assert code == 0
    assert (repo / "Makefile").read_text() == mine
    assert out.count("skipped   Makefile target") == 2


def test_gnu_make_s_own_choice_of_file_is_the_one_edited(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # make reads GNUmakefile, then makefile, then Makefile: a new Makefile beside them would never run.
    (repo / "makefile").write_text(USER_MAKEFILE)
    init(repo, capsys)
    assert not (repo / "Makefile").exists() or (repo / "Makefile").samefile(repo / "makefile")
    assert make(repo, "dev-gate") == "python3 -m bed run --gate dev"


def test_new_makefile_runs_the_gate_by_default(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init(repo, capsys)
    assert make(repo) == "python3 -m bed run --gate core"


# --- idempotence and --force -----------------------------------------------------------------------

def test_a_second_run_writes_nothing_and_says_so(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pyproject.toml").write_text(ODD_PYPROJECT)
    (repo / "Makefile").write_text(USER_MAKEFILE)
    init(repo, capsys)
    first = snapshot(repo)
    code, out = init(repo, capsys)
    assert code == 0
    assert snapshot(repo) == first  # same bytes, and not even rewritten (same mtimes)
    assert "nothing written" in out
    lines = [line for line in out.splitlines() if line.startswith("skipped")]
    assert len(lines) == 8, out  # the table, the Makefile block, 4 suite files, workflow, PR template
    assert all("--force" in line for line in lines)


def test_force_overwrites_bed_s_files(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init(repo, capsys)
    fresh = {rel: data for rel, (data, _) in snapshot(repo).items() if rel != "Makefile"}  # Makefile: below
    assert len(fresh) == 7
    for rel in fresh:
        (repo / rel).write_text("# changed by hand\n")
    init(repo, capsys)
    assert all((repo / rel).read_text() == "# changed by hand\n" for rel in fresh)
    code, out = init(repo, capsys, "--force")
    assert code == 0
    assert {rel: (repo / rel).read_bytes() for rel in fresh} == fresh
    assert out.count("overwrote") == 7


def test_force_rewrites_bed_s_makefile_block_in_place(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "Makefile").write_text(USER_MAKEFILE)
    init(repo, capsys)
    text = (repo / "Makefile").read_text()
    (repo / "Makefile").write_text(text.replace("--gate dev", "--gate dev --strict") + "\nlater:\n\techo later\n")
    code, out = init(repo, capsys, "--force")
    assert code == 0
    assert "rewrote   bed's block in Makefile" in out
    assert (repo / "Makefile").read_text() == text + "\nlater:\n\techo later\n"


# --- the example suite -------------------------------------------------------------------------------

def pytest_in(repo: Path, *args: str, env: dict[str, str] | None = None,
              plugin: bool = True) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BED_", "PYTEST_", "LITELLM_"))}
    environ.update(env or {})
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--strict-markers", *args]
    if plugin:
        environ["PYTHONPATH"] = str(PLUGIN_DIR)
        argv[3:3] = ["-p", "bed_records"]
    return subprocess.run(argv, cwd=repo, env=environ, capture_output=True, text=True, timeout=120, check=False)


def collected(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert done.returncode == 0, done.stdout + done.stderr
    return sorted(line for line in done.stdout.splitlines() if "::" in line)


def test_the_example_suite_collects_with_bed_s_plugin_and_strict_markers(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init(repo, capsys)
    everything = collected(pytest_in(repo, "--collect-only", "-q", SUITE))
    assert len(everything) == 3
    assert collected(pytest_in(repo, "--collect-only", "-q", "-m", "deterministic", SUITE)) == [
        f"{SUITE}/test_readiness_router.py::test_router_maps_the_group"]
    assert len(collected(pytest_in(repo, "--collect-only", "-q", "-m", "nd", SUITE))) == 2
    # and without bed (a plain pytest of the whole repository): it collects, then skips saying why
    done = pytest_in(repo, "-q", "-rs", plugin=False)
    assert done.returncode == 0, done.stdout
    assert "3 skipped" in done.stdout
    assert "this is a readiness test; run it with bed" in done.stdout


def test_the_example_suite_goes_where_suite_dir_says(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init(repo, capsys, "--suite-dir", "gw/readiness")
    assert sorted(p.name for p in (repo / "gw" / "readiness").iterdir()) == sorted(
        ["README.md", "conftest.py", "test_readiness_router.py", "test_readiness_gateway.py"])
    assert not (repo / "tests").exists()
    assert "gw/readiness/" in (repo / ".github" / "pull_request_template.md").read_text()


def _deterministic(repo: Path, router_yaml: str) -> subprocess.CompletedProcess[str]:
    return pytest_in(repo, "-q", "-m", "deterministic", SUITE,
                     env={"BED_TIER": "deterministic", "BED_GROUP": "codex-agent-1", "BED_ROUTER_YAML": router_yaml})


def test_the_example_deterministic_test_checks_the_run_s_router_config(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init(repo, capsys)
    good = router.plan(None, "codex-agent-1", "http://mini-agent:8788/v1", strict=False).text
    done = _deterministic(repo, good)
    assert done.returncode == 0, done.stdout
    other = yaml.safe_dump({"model_list": [router.deployment("other-group", "http://mini-agent:8788/v1")]})
    done = _deterministic(repo, other)
    assert done.returncode == 1
    assert "maps nothing to the model group 'codex-agent-1'" in done.stdout
    as_host = yaml.safe_dump({"model_list": [router.deployment("codex-agent-1", "http://codex-agent-1:8788/v1")]})
    done = _deterministic(repo, as_host)
    assert done.returncode == 1
    assert "routed to a host named 'codex-agent-1'" in done.stdout
    done = pytest_in(repo, "-q", "-m", "deterministic", SUITE, env={"BED_TIER": "deterministic"})
    assert done.returncode == 1, "inside bed a missing variable is a failure, not a skip"
    assert "BED_ROUTER_YAML is unset in bed's runner" in done.stdout


class _Gateway(BaseHTTPRequestHandler):
    """An OpenAI-compatible chat endpoint: plain and SSE answers, behind a key."""

    answer = "pong"
    seen: list[dict[str, Any]] = []  # noqa: RUF012 - shared with the test on purpose

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        if self.path != "/v1/chat/completions" or self.headers.get("Authorization") != "Bearer sk-test-key":
            self.send_response(401)
            self.end_headers()
            return
        head = {"id": "c1", "created": 0, "model": body["model"]}
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in (self.answer[:2], self.answer[2:]):
                chunk = {**head, "object": "chat.completion.chunk",
                         "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            return
        reply = json.dumps({**head, "object": "chat.completion", "choices": [
            {"index": 0, "message": {"role": "assistant", "content": self.answer}, "finish_reason": "stop"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Gateway.answer, _Gateway.seen = "pong", []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _nd(repo: Path, url: str) -> subprocess.CompletedProcess[str]:
    return pytest_in(repo, "-q", "-m", "nd", SUITE, env={
        "BED_TIER": "nd", "BED_GROUP": "my-group", "BED_PROXY_URL": url, "LITELLM_MASTER_KEY": "sk-test-key"})


def test_the_example_nd_tests_call_the_gateway_with_the_openai_client(
        repo: Path, capsys: pytest.CaptureFixture[str], gateway: str) -> None:
    init(repo, capsys)
    done = _nd(repo, gateway)
    assert done.returncode == 0, done.stdout
    assert "2 passed" in done.stdout
    assert [(s["path"], s["auth"], s["model"], bool(s.get("stream"))) for s in _Gateway.seen] == [
        ("/v1/chat/completions", "Bearer sk-test-key", "my-group", False),
        ("/v1/chat/completions", "Bearer sk-test-key", "my-group", True)]
    _Gateway.answer = ""
    done = _nd(repo, gateway)
    assert done.returncode == 1
    assert "the gateway's answer is empty" in done.stdout
    assert "the stream carried no text" in done.stdout


# --- CI ------------------------------------------------------------------------------------------

def test_the_workflow_passes_actionlint_and_runs_bed_commands_bed_accepts(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init(repo, capsys)
    workflow = repo / ".github" / "workflows" / "readiness.yml"
    actionlint = BIN / "actionlint"
    assert actionlint.is_file(), "actionlint is missing. Hint: run `make venv` (it is a dev dependency)."
    done = subprocess.run([str(actionlint), "-oneline", str(workflow)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert not done.stdout.strip(), done.stdout
    assert done.returncode == 0, done.stderr
    doc = yaml.safe_load(workflow.read_text())
    assert doc["env"]["BED_INSTALL"] == f"bed-readiness=={__version__}"
    gates = {}
    for name, job in doc["jobs"].items():
        runs = [s["run"] for s in job["steps"] if "run" in s]
        assert runs[0] == 'python -m pip install "$BED_INSTALL"', name
        words = shlex.split(runs[1].replace("${{ matrix.shard }}", "1/2"))
        assert words[0] == "bed"
        args = parser().parse_args(words[1:])
        gates[name] = (args.gate, args.shard)
    assert gates == {"dev-gate": ("dev", None), "nd-shards": ("core", "1/2"), "deploy-gate": ("deploy", None)}


def test_the_workflow_keeps_bed_s_node24_action_pins(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init(repo, capsys)
    source = Path(__file__).resolve().parents[3] / ".github" / "workflows" / "readiness.yml"

    def pins(path: Path) -> set[str]:
        jobs = yaml.safe_load(path.read_text())["jobs"].values()
        return {s["uses"] for job in jobs for s in job["steps"] if "uses" in s}

    # Every action the template uses is pinned as bed's own workflow pins it (bed's workflow also
    # has jobs the template does not, such as the compare legs' download-artifact).
    template = pins(repo / ".github" / "workflows" / "readiness.yml")
    assert template <= pins(source)
    assert {ref.split("@")[0] for ref in template} >= {"actions/checkout", "actions/setup-python",
                                                        "actions/upload-artifact"}


def test_another_pr_template_is_respected(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "docs").mkdir()
    (repo / "docs" / "PULL_REQUEST_TEMPLATE.md").write_text("mine\n")
    code, out = init(repo, capsys, "--force")
    assert code == 0
    assert not (repo / ".github" / "pull_request_template.md").exists()
    assert "GitHub already uses docs/PULL_REQUEST_TEMPLATE.md" in out


# --- bad input --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("setup", "args", "code", "says"), [
    ("file-as-root", [], 2, "is not a folder"),
    ("missing-root", [], 2, "is not a folder"),
    ("bad-toml", [], 2, "pyproject.toml is not valid TOML"),
    ("not-utf8", [], 2, "pyproject.toml is not UTF-8"),
    ("tool-not-a-table", [], 2, "`tool` is not a table"),
    ("tool-inline", [], 2, "cannot add [tool.bed]"),
    ("suite-outside", ["--suite-dir", "../elsewhere"], 2, "is not a folder inside"),
    ("suite-is-a-file", ["--suite-dir", "notes.txt"], 2, "is a file"),
    ("github-is-a-file", [], 6, "ARTIFACT_ERROR: cannot write .github/workflows/readiness.yml: .github is a file"),
    ("suite-file-is-a-folder", ["--force"], 6, "cannot write tests/readiness/conftest.py: it is a folder"),
])
def test_bad_input_is_one_line_and_writes_nothing(repo: Path, capsys: pytest.CaptureFixture[str], setup: str,
                                                   args: list[str], code: int, says: str) -> None:
    target = repo
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (repo / "notes.txt").write_text("notes\n")
    if setup == "file-as-root":
        target = repo / "notes.txt"
    elif setup == "missing-root":
        target = repo / "nope"
    elif setup == "bad-toml":
        (repo / "pyproject.toml").write_text("[project\nname = 'x'\n")
    elif setup == "not-utf8":
        (repo / "pyproject.toml").write_bytes(b"[project]\nname = '\xff'\n")
    elif setup == "tool-not-a-table":
        (repo / "pyproject.toml").write_text("tool = 1\n")
    elif setup == "tool-inline":
        (repo / "pyproject.toml").write_text("tool = { ruff = { x = 1 } }\n")
    elif setup == "github-is-a-file":
        (repo / ".github").write_text("not a folder\n")
    elif setup == "suite-file-is-a-folder":
        (repo / SUITE / "conftest.py").mkdir(parents=True)
    before = snapshot(repo)
    got, out = init(target, capsys, *args)
    assert got == code, out
    assert len(out.strip().splitlines()) == 1, out
    assert says in out
    assert "Hint:" in out
    assert snapshot(repo) == before, "bed init wrote something before refusing"
    assert not list(repo.rglob(".*.tmp"))


def test_a_symlinked_pyproject_stays_a_link(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = repo / "config" / "pyproject.toml"
    real.parent.mkdir()
    real.write_text("[project]\nname = 'x'\n")
    (repo / "pyproject.toml").symlink_to(real)
    real.chmod(0o640)
    init(repo, capsys)
    assert (repo / "pyproject.toml").is_symlink()
    assert "[tool.bed]" in real.read_text()
    assert real.stat().st_mode & 0o777 == 0o640


def test_a_write_that_fails_midway_reports_what_was_written(repo: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from bed.commands import init as command
    from bed.errors import ArtifactError

    real = command._write

    def failing(root: Path, path: Path, text: str) -> None:
        if path.name == "readiness.yml":
            raise ArtifactError("cannot write .github/workflows/readiness.yml: disk full.", hint="free some space.")
        real(root, path, text)

    monkeypatch.setattr(command, "_write", failing)
    code, out = init(repo, capsys)
    assert code == 6
    lines = out.strip().splitlines()
    assert lines[0] == "wrote     bed.toml"
    assert lines[-1].startswith("ARTIFACT_ERROR: cannot write .github/workflows/readiness.yml")
    assert len(lines) == 7  # settings, Makefile, four suite files, then the error
    assert not list(repo.rglob(".*.tmp"))
