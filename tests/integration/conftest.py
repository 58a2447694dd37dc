"""Integration fixtures: a real Docker engine and the real bed images.

No engine is a failure here, not a skip: `make test` starts one first (scripts/ensure-engine.sh).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from bed.config.settings import Config
from bed.console import Console
from bed.engine.docker import DockerEngine, connect
from bed.images.build import ImageRef, Recipe, ensure_images

REPO = Path(__file__).resolve().parents[2]
# Everything bed reads from the environment: a test starts from none of it.
BED_VARS = ("BED_", "MINI_AGENT", "CODEX_AGENT", "STRICT", "READINESS", "LIVE_PROVIDERS", "PYTEST_", "ALL_SMOKES_")

# A project's own suite that `bed run --suite` mounts into the runner: data for a test here,
# not tests of bed.
collect_ignore_glob = ["flaky_suite/*"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def client() -> docker.DockerClient:
    """The docker SDK, for tests that inspect or break containers themselves."""
    return docker.from_env()


@pytest.fixture(scope="session")
def engine() -> DockerEngine:
    return connect(os.environ)


@pytest.fixture(scope="session")
def images(engine: DockerEngine) -> dict[str, ImageRef]:
    # Builds on first use (cold), then it is a cached no-op; the output goes to the terminal.
    config = Config.from_env(clean_env(), root=REPO)
    return ensure_images(engine, Recipe.of(config), Console())


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(BED_VARS)}


def bed_cli(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600, *,
            streams: bool = False) -> subprocess.CompletedProcess[str]:
    """Run `python -m bed` as a user would, from ``cwd``, with a clean bed environment.

    Its stdout (results) and stderr (progress, banners, errors) in one, as a CI log shows them
    (``stderr`` is ""); ``streams=True`` keeps them apart."""
    argv = [sys.executable, "-m", "bed", *args]
    environ = {**clean_env(), **(env or {})}
    if streams:
        return subprocess.run(argv, cwd=cwd, env=environ, capture_output=True, text=True, timeout=timeout, check=False)
    done = subprocess.run(argv, cwd=cwd, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout, check=False)
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout, "")


def leftovers(client: docker.DockerClient, run_id: str | None = None) -> list[str]:
    label = f"bed.run={run_id}" if run_id else "bed.run"  # what bed's runs start (not what its images run)
    names = [c.name for c in client.containers.list(all=True, filters={"label": label})]
    names += [n.name for n in client.networks.list(filters={"label": label})]
    return names


@pytest.fixture
def no_leftovers(client: docker.DockerClient) -> Iterator[None]:
    before = set(leftovers(client))
    yield
    after = set(leftovers(client)) - before
    assert not after, f"left behind: {sorted(after)}"


@pytest.fixture
def quiet() -> Console:
    return Console(out=io.StringIO())
