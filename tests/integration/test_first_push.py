"""The first push is green: a scratch repository gets `bed init`, and its CI runs for real.

With the bed of this checkout (installed editable in the dev venv, so `bed init` builds a wheel
of it and vendors it into .bed/), in a fresh git repository:

1. the generated GitHub workflow passes actionlint with shellcheck on PATH;
2. its install step, `python -m pip install "$BED_INSTALL"`, works in a fresh venv (the step
   as written: nothing downloaded beforehand);
3. the generated .gitlab-ci.yml's dev gate job runs under gitlab-ci-local (shell executor)
   against this machine's engine and ends READY; so does examples/gitlab-ci.yml's dev-gate;
4. `bed init --force` again changes nothing: the repository stays as it was committed.

Bounded: one wheel build (~10 s), two gitlab-ci-local jobs (~40 s each: a venv, pip, the dev
gate's one tier) and one fresh venv; the images are the session's (built once, content-hashed).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import docker
import pytest
import yaml

from bed import __version__
from bed.images.build import ImageRef
from tests.unit import ci_tools

from .conftest import REPO, clean_env, leftovers

WHEEL = f"bed_readiness-{__version__}-py3-none-any.whl"
GITLAB_CI_LOCAL = Path(sys.executable).parent.parent / "ci-tools" / "node_modules" / ".bin" / "gitlab-ci-local"


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env={**clean_env(), **(env or {})}, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _git(repo: Path, *args: str) -> str:
    done = _run(["git", "-c", "user.name=first-push", "-c", "user.email=first@push.local", *args], repo)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new repository after `bed init --ci both`, committed as a user would push it."""
    repo = tmp_path_factory.mktemp("first-push") / "agent-gw"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# agent-gw\n")
    done = _run([str(Path(sys.executable).parent / "bed"), "init", "--ci", "both"], repo, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"wrote     .bed/{WHEEL} (the bed CI installs)" in done.stdout, done.stdout
    assert f"install   CI runs: pip install './.bed/{WHEEL}'" in done.stdout
    assert "installed from the checkout" in done.stdout
    shutil.copy(REPO / "examples" / "gitlab-ci.yml", repo / "example.gitlab-ci.yml")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "bed init")
    return repo


def test_the_generated_workflow_passes_actionlint_with_shellcheck(scratch: Path) -> None:
    done = ci_tools.actionlint(scratch / ".github" / "workflows" / "readiness.yml")
    assert (done.returncode, done.stdout) == (0, ""), done.stdout + done.stderr
    assert ci_tools.shellcheck_gitlab(yaml.safe_load((scratch / ".gitlab-ci.yml").read_text())) == {}


def test_the_generated_install_step_works_in_a_fresh_venv(scratch: Path, tmp_path: Path) -> None:
    workflow = yaml.safe_load((scratch / ".github" / "workflows" / "readiness.yml").read_text())
    step = next(s["run"] for s in workflow["jobs"]["dev-gate"]["steps"] if "pip install" in s.get("run", ""))
    venv = tmp_path / "venv"
    made = _run([shutil.which("python3") or "python3", "-m", "venv", str(venv)], tmp_path)
    assert made.returncode == 0, made.stderr
    # as setup-python leaves it: that python first on PATH; the step's env from the workflow
    env = {**workflow["env"], "PATH": f"{venv / 'bin'}:{os.environ['PATH']}"}
    done = _run(["bash", "-e", "-c", step], scratch, env, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    version = _run([str(venv / "bin" / "bed"), "--version"], scratch)
    assert version.stdout.strip() == f"bed {__version__}"
    valid = _run([str(venv / "bin" / "bed"), "env", "--format", "json"], scratch)
    assert valid.returncode == 0, valid.stderr
    assert '"suite"' in valid.stdout


def _gitlab_job(repo: Path, job: str, *extra: str) -> subprocess.CompletedProcess[str]:
    assert GITLAB_CI_LOCAL.is_file(), f"{GITLAB_CI_LOCAL} is missing. Hint: `make venv` (scripts/ensure-ci-tools.sh)."
    assert shutil.which("rsync"), "rsync is missing (gitlab-ci-local copies the repository with it). Hint: make venv."
    temp = repo.parent / "job-tmp"
    temp.mkdir(exist_ok=True)
    argv = [str(GITLAB_CI_LOCAL), "--force-shell-executor", "--no-color", "--home", str(repo.parent / "gcl-home"),
            # a shell runner has no services: no Docker-in-Docker, this machine's engine instead
            "--variable", "BED_DIND=", "--variable", "DOCKER_HOST=unix:///var/run/docker.sock",
            # the job runs in the checkout, as GitLab's are (gitlab-ci-local would point CI_PROJECT_DIR at
            # /builds/... for a job with an image); its temporary files stay in this test's folder
            "--variable", f"CI_PROJECT_DIR={repo}", "--variable", f"TMPDIR={temp}", *extra, job]
    return _run(argv, repo, timeout=900)


def _left_by(log: str, client: docker.DockerClient) -> list[str]:
    """What the run the job's bed started left on the engine (other runs on a shared engine are not ours)."""
    found = re.search(r"bed \S+: run ([0-9a-f]{8}), gate", log)
    assert found, log[-3000:]
    return leftovers(client, found.group(1))


def test_the_generated_gitlab_dev_gate_runs_green_under_gitlab_ci_local(scratch: Path, client: docker.DockerClient,
                                                                        images: dict[str, ImageRef]) -> None:
    done = _gitlab_job(scratch, "bed-dev-gate")
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-5000:]
    assert _left_by(log, client) == []
    assert f"bed-dev-gate > bed {__version__}" in log  # the vendored wheel, installed in the job's venv
    assert "VERDICT: READY (gate dev" in log, log[-5000:]
    assert "PASS  bed-dev-gate" in log
    ready = scratch / ".gitlab-ci-local" / "artifacts" / "bed-dev-gate" / "PROJECT_READY.md"
    assert ready.read_text().startswith("# PROJECT READY: READY"), ready.read_text()[:500]


def test_the_gitlab_example_dev_gate_runs_green_outside_bed_s_repository(scratch: Path, client: docker.DockerClient,
                                                                         images: dict[str, ImageRef]) -> None:
    done = _gitlab_job(scratch, "dev-gate", "--file", "example.gitlab-ci.yml",
                       "--variable", "CI_PIPELINE_SOURCE=merge_request_event")
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-5000:]
    assert _left_by(log, client) == []
    assert "VERDICT: READY (gate dev" in log, log[-5000:]
    assert "PASS  dev-gate" in log


def test_bed_init_force_again_changes_nothing(scratch: Path) -> None:
    before = _git(scratch, "status", "--porcelain", "--untracked-files=no")
    done = _run([str(Path(sys.executable).parent / "bed"), "init", "--ci", "both", "--force"], scratch, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _git(scratch, "status", "--porcelain", "--untracked-files=no") == before == ""
    assert f"skipped   .bed/{WHEEL}: already this bed" in done.stdout  # the same checkout builds the same wheel
    assert "nothing written" in done.stdout
