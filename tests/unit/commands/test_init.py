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
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

import bed.runner
from bed import __version__
from bed.cli import main, parser
from bed.commands import init as init_command
from bed.commands import init_source
from bed.commands.init_files import owner
from bed.commands.init_source import Install
from bed.config import router
from bed.config.settings import Config
from bed.errors import ConfigError
from tests.unit import ci_tools

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


INDEX = Install(f"bed-readiness=={__version__}", "installed from a package index")


@pytest.fixture(autouse=True)
def fixed_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """bed init asks how the running bed was installed (here: a checkout, whose wheel takes ~9 s
    to build) and where its launcher is; these tests fix both (tests/unit/commands/test_init_source.py
    tests the detection itself)."""
    monkeypatch.setattr(init_source, "detect", lambda environ, **_: INDEX)
    monkeypatch.setattr(init_command, "launcher", lambda root: ("", "the `bed` on PATH"))


def init(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``bed init``: its exit code, and its stdout followed by its stderr (the errors)."""
    code = main(["init", str(repo), *args], {})
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def snapshot(repo: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(repo)): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(repo.rglob("*"))
            if p.is_file() and ".git" not in p.parts}


TOOLS = Path("/tools/bin")  # where a test's `bed` on PATH lives (pipx / uv tool put it in ~/.local/bin)


def make_run(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``make -n`` with a PATH of the system's tools only: no `bed` on it unless a test puts one there."""
    environ = {k: v for k, v in os.environ.items() if k not in ("BED", "SHARD", "VIRTUAL_ENV", "MAKEFLAGS")}
    environ["PATH"] = "/usr/bin:/bin"
    return subprocess.run(["make", "-n", "--no-print-directory", *args], cwd=repo, capture_output=True, text=True,
                          env={**environ, **(env or {})}, timeout=30, check=False)


def make(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = make_run(repo, *args, env={"BED": "bed", **(env or {})})  # which bed: tests of their own, below
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def launcher_in(folder: Path) -> Path:
    """A `bed` launcher (a script that only says who it is) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bed"
    path.write_text("#!/bin/sh\necho bed at $0\n")
    path.chmod(0o755)
    return path


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
    assert "skipped   bed.toml: you wrote it; bed init never replaces it" in out


def test_a_table_the_user_wrote_is_kept_even_with_force(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = '# top\n[project]\nname="x"  # n\n\n[tool.bed]\nsuite = "old"  # mine\n\n[tool.ruff]\nx = 1 # r\n'
    (repo / "pyproject.toml").write_text(before)
    for args in ((), ("--force",)):
        code, out = init(repo, capsys, *args)
        assert code == 0
        assert (repo / "pyproject.toml").read_text() == before
        assert "skipped   [tool.bed] in pyproject.toml: you wrote it; bed init never replaces it" in out


def test_force_replaces_bed_s_own_table_in_place_and_only_it(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pyproject.toml").write_text('# top\n[project]\nname="x"  # n\n')
    init(repo, capsys)
    written = (repo / "pyproject.toml").read_text()
    # an older bed's table: other comments, same values (the mark's digest is over the values)
    older = written.replace("# Your readiness suite", "# An older wording") + "\n[tool.ruff]\nx = 1 # r\n"
    (repo / "pyproject.toml").write_text(older)
    code, out = init(repo, capsys)
    assert "bed's [tool.bed] table is there (--force replaces that table, and nothing else)" in out
    code, out = init(repo, capsys, "--force")
    assert code == 0
    assert "replaced  [tool.bed] in pyproject.toml" in out
    after = (repo / "pyproject.toml").read_text()
    assert after.startswith('# top\n[project]\nname="x"  # n\n\n[tool.bed]\n'), after
    assert after.endswith("\n[tool.ruff]\nx = 1 # r\n"), after
    assert "An older wording" not in after
    assert tomllib.loads(after)["tool"]["bed"]["suite"] == SUITE
    # a value changed by hand makes the table the user's
    (repo / "pyproject.toml").write_text(after.replace("strict = false", "strict = true"))
    code, out = init(repo, capsys, "--force")
    assert "[tool.bed] in pyproject.toml: you changed it since bed init wrote it" in out
    assert tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["bed"]["strict"] is True


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
    assert make(repo, CORE) == "bed run --gate core"
    assert make(repo, "dev-gate") == "bed run --gate dev"
    assert make(repo, CORE, "SHARD=2/3") == "bed run --gate core --shard 2/3"
    assert make(repo, "dev-gate", env={"BED": "/opt/bed/bin/bed"}) == "/opt/bed/bin/bed run --gate dev"


def test_the_makefile_calls_the_bed_that_is_installed(repo: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    init(repo, capsys)

    def dev_gate(env: dict[str, str] | None = None) -> str:
        done = make_run(repo, "dev-gate", env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    # pipx / uv tool: a launcher on PATH (never `python3 -m bed`, which that python cannot import)
    tool = launcher_in(tmp_path / "tools" / "bin")
    assert dev_gate({"PATH": f"{tool.parent}:/usr/bin:/bin"}) == f"{tool} run --gate dev"
    # the project's own venv beats PATH; an active venv beats both
    launcher_in(repo / ".venv" / "bin")
    assert dev_gate({"PATH": f"{tool.parent}:/usr/bin:/bin"}) == ".venv/bin/bed run --gate dev"
    active = launcher_in(tmp_path / "active" / "bin")
    assert dev_gate({"VIRTUAL_ENV": str(active.parent.parent)}) == f"{active} run --gate dev"
    assert dev_gate({"BED": "/opt/bed/bin/bed"}) == "/opt/bed/bin/bed run --gate dev"


def test_without_any_bed_the_makefile_says_how_to_install_it(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init(repo, capsys)
    done = make_run(repo, "dev-gate")
    assert done.returncode != 0
    assert f"bed is not installed here: pip install 'bed-readiness=={__version__}' (or make BED=/path/to/bed)" in (
        done.stderr), done.stderr


def test_a_launcher_off_path_is_the_makefile_s_last_resort(repo: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = launcher_in(tmp_path / "opt" / "bed" / "bin")
    monkeypatch.setattr(init_command, "launcher", lambda root: (str(elsewhere), f"{elsewhere}, not on PATH"))
    _, out = init(repo, capsys)
    assert f"make      calls {elsewhere}, not on PATH" in out
    assert make_run(repo, "dev-gate").stdout.strip() == f"{elsewhere} run --gate dev"
    tool = launcher_in(tmp_path / "tools" / "bin")  # a bed on PATH still comes first
    assert make_run(repo, "dev-gate", env={"PATH": f"{tool.parent}:/usr/bin:/bin"}).stdout.strip() == (
        f"{tool} run --gate dev")


def test_the_launcher_is_the_one_beside_the_running_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bed.commands import init_files

    venv = tmp_path / "pipx" / "venvs" / "bed-readiness" / "bin"
    here = launcher_in(venv)
    (venv / "python").symlink_to(sys.executable)
    monkeypatch.setattr(init_files.sys, "executable", str(venv / "python"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert init_files.launcher(tmp_path / "repo") == (str(here), f"{here}, which is not on PATH: the Makefile "
                                                                  "names it as its last resort")
    linked = tmp_path / "local" / "bin"  # pipx links its launchers into ~/.local/bin
    linked.mkdir(parents=True)
    (linked / "bed").symlink_to(here)
    monkeypatch.setenv("PATH", f"{linked}:/usr/bin:/bin")
    assert init_files.launcher(tmp_path / "repo") == ("", f"the `bed` on PATH ({linked / 'bed'})")


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
    assert make(repo, CORE) == "bed run --gate core"
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
    assert make(repo, "dev-gate") == "bed run --gate dev"


def test_new_makefile_runs_the_gate_by_default(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init(repo, capsys)
    assert make(repo) == "bed run --gate core"


# --- idempotence and --force -----------------------------------------------------------------------

def test_a_second_run_writes_nothing_and_says_so(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "pyproject.toml").write_text(ODD_PYPROJECT)
    (repo / "Makefile").write_text(USER_MAKEFILE)
    init(repo, capsys)
    first = snapshot(repo)
    for args in ((), ("--force",)):
        code, out = init(repo, capsys, *args)
        assert code == 0
        assert snapshot(repo) == first  # same bytes, and not even rewritten (same mtimes)
        lines = [line for line in out.splitlines() if line.startswith("skipped")]
        assert len(lines) == 8, out  # the table, the Makefile block, 4 suite files, workflow, PR template
        assert sum("already bed's current version" in line for line in lines) == 6, out


USER_FILES = {
    ".github/workflows/readiness.yml": "name: mine\non: push\njobs: {}\n",
    ".github/pull_request_template.md": "My own checklist\n",
    f"{SUITE}/conftest.py": "# my fixtures\n",
    f"{SUITE}/README.md": "mine\n",
    "bed.toml": 'suite = "tests/readiness"\n',
    ".gitlab-ci.yml": "test:\n  script: [make test]\n",
}


def test_force_never_replaces_a_file_the_user_wrote(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for rel, text in USER_FILES.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    before = snapshot(repo)
    for _ in range(2):
        code, out = init(repo, capsys, "--force", "--ci", "both")
        assert code == 0
        now = snapshot(repo)
        assert {rel: now[rel] for rel in USER_FILES} == {rel: before[rel] for rel in USER_FILES}, "a byte changed"
    for rel in USER_FILES:
        if rel != ".gitlab-ci.yml":
            assert f"skipped   {rel}: you wrote it; bed init never replaces it" in out, rel
    # beside a .gitlab-ci.yml of the user's, bed's jobs go to a file it can include
    assert "skipped   .gitlab-ci.yml: you wrote it; to run bed's jobs, add to it: " \
           "`include: [{local: .gitlab/bed.gitlab-ci.yml}]`" in out
    assert owner((repo / ".gitlab" / "bed.gitlab-ci.yml").read_text()) == "ours"


def test_force_rewrites_only_bed_s_files_that_nobody_changed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    init(repo, capsys)
    fresh = {rel: data for rel, (data, _) in snapshot(repo).items() if rel != "Makefile"}  # Makefile: below
    assert len(fresh) == 7
    assert all(owner(data.decode()) == "ours" for data in fresh.values())
    edited = {rel: data.decode().replace("\n", "\n# changed by hand\n", 2) for rel, data in fresh.items()}
    for rel, text in edited.items():
        (repo / rel).write_text(text)
    code, out = init(repo, capsys, "--force")
    assert code == 0
    assert {rel: (repo / rel).read_text() for rel in fresh} == edited, "an edited file of bed's was replaced"
    assert out.count("you changed it since bed init wrote it") == 7
    # an older bed's file (another version in its mark, digest intact) is bed's: --force rewrites it
    older = {rel: data.decode().replace(f"bed init {__version__} wrote", "bed init 0.0.1 wrote", 1)
             for rel, data in fresh.items()}
    for rel, text in older.items():
        (repo / rel).write_text(text)
    code, out = init(repo, capsys)
    assert out.count("bed's, from another bed version (--force rewrites it)") == 7
    code, out = init(repo, capsys, "--force")
    assert {rel: (repo / rel).read_bytes() for rel in fresh} == fresh
    assert sum(line.startswith("rewrote   ") and "Makefile" not in line for line in out.splitlines()) == 7


def test_a_mark_is_bed_s_only_while_the_text_below_it_is_unchanged() -> None:
    from bed.commands.init_files import marked

    text = marked("a: 1\nb: 2\n")
    assert owner(text) == "ours"
    assert owner(text.replace("\n", "\r\n")) == "ours"  # git's autocrlf is not an edit
    assert owner(text.replace("b: 2", "b: 3")) == "edited"
    assert owner(text.replace("# bed init", "# bed  init", 1)) == "theirs"
    assert owner("a: 1\n") == "theirs"
    assert owner(marked("x\n", markdown=True)) == "ours"


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
    done = ci_tools.actionlint(workflow)  # shellcheck on PATH, or this fails saying how to get it
    assert not done.stdout.strip(), done.stdout
    assert done.returncode == 0, done.stderr
    doc = yaml.safe_load(workflow.read_text())
    assert doc["env"] == {"BED_INSTALL": f"bed-readiness=={__version__}"}
    gates = {}
    for name, job in doc["jobs"].items():
        runs = [s["run"] for s in job["steps"] if "run" in s]
        assert runs[0] == 'python -m pip install "$BED_INSTALL"', name
        words = shlex.split(runs[1].replace("${{ matrix.shard }}", "1/2"))
        assert words[0] == "bed"
        args = parser().parse_args(words[1:])
        gates[name] = (args.gate, args.shard)
    assert gates == {"dev-gate": ("dev", None), "nd-shards": ("core", "1/2"), "deploy-gate": ("deploy", None)}


def test_the_gitlab_file_validates_passes_shellcheck_and_runs_bed_commands(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = init(repo, capsys, "--ci", "gitlab")
    assert code == 0
    assert not (repo / ".github").exists()
    path = repo / ".gitlab-ci.yml"
    done = subprocess.run([ci_tools.tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci",
                           "--data-transform", "gitlab-ci", "--regex-variant", "nonunicode", str(path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    doc = yaml.safe_load(path.read_text())
    assert ci_tools.shellcheck_gitlab(doc) == {}
    assert doc[".bed"]["variables"]["BED_INSTALL"] == f"bed-readiness=={__version__}"
    assert "PIP_INDEX_URL" not in doc[".bed"]["variables"]
    gates = {}
    for name, script in ci_tools.gitlab_scripts(doc).items():
        line = script.strip().splitlines()[-1]
        args = parser().parse_args(shlex.split(line.replace("$SHARD", "1/2"))[1:])
        gates[name] = (args.gate, args.shard)
    assert gates == {"bed-dev-gate": ("dev", None), "bed-nd-shards": ("core", "1/2"),
                     "bed-deploy-gate": ("deploy", None)}
    # GitLab's default stages only, and no top-level keys: it works included beside the user's own file
    assert set(doc) == {".bed", *gates}
    assert {job["stage"] for job in doc.values() if "stage" in job} <= {"test", "deploy"}


def test_ci_is_chosen_from_what_the_repository_shows(repo: Path) -> None:
    assert init_command.ci_kinds("auto", repo) == ("github",)
    (repo / ".git").mkdir()
    (repo / ".git" / "config").write_text('[remote "origin"]\n\turl = git@gitlab.example.com:team/gw.git\n')
    assert init_command.ci_kinds("auto", repo) == ("gitlab",)
    (repo / ".github").mkdir()
    assert init_command.ci_kinds("auto", repo) == ("github", "gitlab")
    assert init_command.ci_kinds("both", repo) == ("github", "gitlab")
    assert init_command.ci_kinds("none", repo) == ()
    with pytest.raises(ConfigError, match="--ci 'jenkins'"):
        init_command.ci_kinds("jenkins", repo)


@pytest.mark.parametrize(("raw", "kinds"), [
    ("github", ("github",)), ("gitlab", ("gitlab",)), (" GitLab , github ,", ("github", "gitlab")),
    ("gitlab,gitlab", ("gitlab",)), (" None ", ()), ("BOTH", ("github", "gitlab")),
], ids=["github", "gitlab", "spaced-and-cased-in-bed-s-order", "twice", "none", "both"])
def test_ci_names_are_read_without_case_or_spaces(raw: str, kinds: tuple[str, ...], repo: Path) -> None:
    assert init_command.ci_kinds(raw, repo) == kinds


@pytest.mark.parametrize(("raw", "says"), [
    ("", "--ci '': nothing is not a CI bed init knows."), (" , ", "--ci ' , ': nothing is not"),
    ("github,jenkins,drone", "--ci 'github,jenkins,drone': jenkins, drone is not"),
    ("none,github", ": none is not"), ("auto,gitlab", ": auto is not"),
], ids=["empty", "only-commas", "two-unknown", "none-among-others", "auto-among-others"])
def test_a_ci_bed_init_does_not_know_is_a_config_error(raw: str, says: str, repo: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        init_command.ci_kinds(raw, repo)
    assert says in caught.value.line()
    assert "use github, gitlab, both, none or auto." in caught.value.line()


def test_auto_finds_gitlab_by_its_file_or_a_remote_url_and_github_by_a_folder_or_a_remote(repo: Path) -> None:
    (repo / ".git").mkdir()
    (repo / ".git" / "config").write_text('[branch "gitlab-sync"]\n\tremote = origin\n')
    assert init_command.ci_kinds("AUTO", repo) == ("github",)  # gitlab, but not in a remote's url
    (repo / ".gitlab-ci.yml").write_text("")
    assert init_command.ci_kinds("auto", repo) == ("gitlab",)
    (repo / ".git" / "config").write_text('[remote "origin"]\n\turl = https://github.com/team/gw.git\n')
    assert init_command.ci_kinds("auto", repo) == ("github", "gitlab")
    (repo / ".gitlab-ci.yml").unlink()
    (repo / ".git" / "config").unlink()
    (repo / ".git" / "config").mkdir()  # not a file: no remotes to read
    assert init_command.ci_kinds("auto", repo) == ("github",)


def test_an_index_of_your_own_goes_into_ci_without_its_credentials(repo: Path, capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    private = Install(f"bed-readiness=={__version__}", "installed from a package index",
                      index_url="https://pkgs.example/simple", warning="PIP_INDEX_URL holds credentials, which "
                      "bed init does not write into CI files: set PIP_INDEX_URL as a CI secret")
    monkeypatch.setattr(init_source, "detect", lambda environ, **_: private)
    code, out = init(repo, capsys, "--ci", "both")
    assert code == 0
    assert "THE FIRST CI RUN MAY FAIL" in out
    assert "PIP_INDEX_URL holds credentials" in out
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "readiness.yml").read_text())
    assert workflow["env"]["PIP_INDEX_URL"] == "https://pkgs.example/simple"
    gitlab = yaml.safe_load((repo / ".gitlab-ci.yml").read_text())
    assert gitlab[".bed"]["variables"]["PIP_INDEX_URL"] == "https://pkgs.example/simple"
    assert not ci_tools.actionlint(repo / ".github" / "workflows" / "readiness.yml").stdout


def test_a_wheel_is_vendored_once_and_only_bed_s_is_replaced(repo: Path, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from tests.unit.commands.test_init_source import wheel_file

    wheel = wheel_file(tmp_path / "dist")
    code, out = init(repo, capsys, "--install", str(wheel), "--ci", "both")
    assert code == 0
    vendored = repo / ".bed" / wheel.name
    assert vendored.read_bytes() == wheel.read_bytes()
    assert f"wrote     .bed/{wheel.name} (the bed CI installs)" in out
    assert f"install   CI runs: pip install './.bed/{wheel.name}'" in out
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "readiness.yml").read_text())
    assert workflow["env"]["BED_INSTALL"] == f"./.bed/{wheel.name}"
    assert yaml.safe_load((repo / ".gitlab-ci.yml").read_text())[".bed"]["variables"]["BED_INSTALL"] == (
        f"./.bed/{wheel.name}")
    assert f"pip install './.bed/{wheel.name}'" in (repo / "Makefile").read_text()  # the Makefile's hint
    _, out = init(repo, capsys, "--install", str(wheel), "--ci", "both")
    assert f"skipped   .bed/{wheel.name}: already this bed" in out
    rebuilt = wheel_file(tmp_path / "rebuilt")
    with zipfile.ZipFile(rebuilt, "a") as more:
        more.writestr("bed/new.py", "")
    _, out = init(repo, capsys, "--install", str(rebuilt), "--ci", "both")
    assert "another build of bed is there (--force replaces it)" in out
    init(repo, capsys, "--install", str(rebuilt), "--ci", "both", "--force")
    assert vendored.read_bytes() == rebuilt.read_bytes()
    vendored.write_bytes(b"not a wheel")  # whatever this is, it is not bed's
    _, out = init(repo, capsys, "--install", str(wheel), "--ci", "both", "--force")
    assert "it is not a wheel of bed; bed init never replaces it" in out
    assert vendored.read_bytes() == b"not a wheel"


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


def test_a_checkout_s_wheel_is_vendored_and_its_build_folder_removed(repo: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.unit.commands.test_init_source import wheel_file

    built: list[tuple[Path, Path]] = []

    def build(source: Path, into: Path, environ: object) -> Path:
        built.append((source, into))
        return wheel_file(into)

    monkeypatch.setattr(init_source, "build_wheel", build)
    checkout = tmp_path / "bed-src"
    checkout.mkdir()
    (checkout / "pyproject.toml").write_text('[project]\nname = "bed-readiness"\n')
    code, out = init(repo, capsys, "--install", str(checkout))
    assert code == 0, out
    assert built[0][0] == checkout
    assert (repo / ".bed" / "bed_readiness-0.2.0-py3-none-any.whl").is_file()
    assert "named with --install: the checkout" in out
    assert not built[0][1].exists(), "the wheel's build folder is left behind"
