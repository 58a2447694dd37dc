"""Your gateway in the bed, from scratch, as a user would do it:

1. build bed's wheel and install it into a fresh venv outside this checkout;
2. make a git repository with a pyproject.toml and run `bed init` there;
3. point `litellm` at a fork: the pinned release's sdist, unpacked, with a patch a smoke of the
   user's suite observes (the proxy's liveliness answer);
4. give the suite one extra dependency (requirements.txt beside it);
5. run `make project-ready-core-only-with-docker` there: READY, the report names the fork's commit.
Then `BED_LITELLM=1.106.12` in the same project: a run whose report names 1.106.12.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

import pytest

from bed.config.gateway import PINNED
from bed.images.build import ImageRef

from .conftest import REPO, clean_env

PATCH_FROM = "I'm alive!"
PATCH_TO = "I'm alive! (acme fork)"


def _sh(argv: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 900,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, cwd=cwd, env={**clean_env(), **(env or {})}, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if check:
        assert done.returncode == 0, f"{argv} -> {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-3000:]}"
    return done


def _timed(times: dict[str, float], step: str, argv: list[str], cwd: Path, **kwargs: object) -> str:
    started = time.monotonic()
    done = _sh(argv, cwd, **kwargs)  # type: ignore[arg-type]
    times[step] = round(time.monotonic() - started, 1)
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def fork(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pinned release's sdist as a git checkout, with one observable change committed."""
    where = tmp_path_factory.mktemp("fork-src")
    # The sdist file itself, from PyPI's simple index (PEP 691): `pip download` would build its
    # metadata, and litellm's build needs cargo and crates.io, which these machines cannot reach.
    index = urllib.request.Request("https://pypi.org/simple/litellm/",
                                   headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(index, timeout=60) as answer:  # noqa: S310 - PyPI
        url = next(f["url"] for f in json.load(answer)["files"] if f["filename"] == f"litellm-{PINNED}.tar.gz")
    sdist = where / url.rsplit("/", 1)[1]
    with urllib.request.urlopen(url, timeout=300) as answer:  # noqa: S310 - PyPI
        sdist.write_bytes(answer.read())
    with tarfile.open(sdist) as archive:
        archive.extractall(where, filter="data")
    checkout = next(p for p in where.iterdir() if p.is_dir() and p.name.startswith("litellm-"))
    target = checkout / "litellm/proxy/health_endpoints/_health_endpoints.py"
    text = target.read_text()
    assert PATCH_FROM in text, "the patch point moved in this release"
    target.write_text(text.replace(PATCH_FROM, PATCH_TO, 1))
    for argv in (["git", "init", "-q"], ["git", "add", "-A"],
                 ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "-qm", "acme fork"]):
        _sh(argv, checkout)
    return checkout


SUITE_TEST = '''
import os

import pytest
import respx  # the suite's own extra dependency (requirements.txt beside the suite)


@pytest.mark.nd
def test_the_gateway_is_the_acme_fork() -> None:
    import httpx

    answer = httpx.get(os.environ["BED_PROXY_URL"] + "/health/liveliness", timeout=10)
    assert answer.status_code == 200
    assert "acme fork" in answer.text, answer.text
    assert respx.__name__ == "respx"
'''


def test_a_user_repo_with_its_fork_its_suite_and_a_dependency_is_ready(images: dict[str, ImageRef], fork: Path,
                                                                      tmp_path: Path) -> None:
    times: dict[str, float] = {}
    wheels = tmp_path / "wheels"
    _timed(times, "wheel", [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
           tmp_path)
    venv = tmp_path / "venv"
    _timed(times, "venv", [sys.executable, "-m", "venv", str(venv)], tmp_path)
    wheel = next(wheels.glob("bed_readiness-*.whl"))
    _timed(times, "install", [str(venv / "bin/python"), "-m", "pip", "install", "-q", "-c",
                              str(REPO / "constraints.txt"), str(wheel)], tmp_path)
    bed = str(venv / "bin/bed")

    repo = tmp_path / "acme"
    repo.mkdir()
    (repo / "pyproject.toml").write_text('[project]\nname = "acme-gateway"\nversion = "1.0"\n\n'
                                         "# our own settings below\n[tool.ruff]\nline-length = 100\n")
    _sh(["git", "init", "-q"], repo)
    out = _timed(times, "init", [bed, "init"], repo)
    assert "pyproject.toml" in out
    with (repo / "pyproject.toml").open("a") as handle:
        handle.write(f'litellm = {{ path = "{fork}" }}\n')  # lands in the [tool.bed] table bed init appended
    suite = repo / "tests" / "readiness"
    (suite / "test_acme.py").write_text(SUITE_TEST)
    (suite / "requirements.txt").write_text("respx==0.22.0\n")

    out = _timed(times, "gate (fork)", ["make", "project-ready-core-only-with-docker", f"BED={bed}"], repo,
                 timeout=1500, check=False)
    report = json.loads((repo / "local/artifacts/mvp/mvp_report.json").read_text())
    assert report["ready"], out[-5000:]
    assert "test_the_gateway_is_the_acme_fork PASSED" in out
    commit = _sh(["git", "rev-parse", "HEAD"], fork).stdout.strip()
    assert report["gateway"]["kind"] == "path"
    assert report["gateway"]["commit"] == commit
    assert report["gateway"]["dirty"] is False
    assert commit[:12] in (repo / "PROJECT_READY.md").read_text()
    assert "bed-suite:" in json.dumps(report["images"])  # the suite's runner, with respx in it

    out = _timed(times, "gate (1.106.12)", ["make", "project-ready-core-only-with-docker", f"BED={bed}"], repo,
                 env={"BED_LITELLM": "1.106.12"}, timeout=1500, check=False)
    report = json.loads((repo / "local/artifacts/mvp/mvp_report.json").read_text())
    # The fork's patch is gone, so the user's own smoke fails: the run names 1.106.12 either way.
    assert report["gateway"] == {**report["gateway"], "kind": "release", "value": "1.106.12"}
    assert report["versions"]["litellm"] == "1.106.12"
    assert not report["ready"]
    assert "test_the_gateway_is_the_acme_fork" in out
    print("times (s):", json.dumps(times))
    os.environ.get("BED_TIMES_OUT") and Path(os.environ["BED_TIMES_OUT"]).write_text(json.dumps(times))
