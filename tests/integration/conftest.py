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
from bed._config import SOURCE, Config
from bed._console import Console
from bed._engine import connect
from bed._images import ImageRef, ensure_images

# A project's own suite that `bed run --suite` mounts into the runner: data for a test here,
# not tests of bed.
collect_ignore_glob = ["flaky_suite/*"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def client() -> docker.DockerClient:
    return connect(os.environ)


@pytest.fixture(scope="session")
def images(client: docker.DockerClient) -> dict[str, ImageRef]:
    # Builds on first use (cold), then it is a cached no-op; the output goes to the terminal.
    return ensure_images(client, Config.from_env(os.environ, root=SOURCE), Console())


def bed_cli(args: list[str], cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run `python -m bed` as a user would, from ``cwd``, with a clean bed environment."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("BED_", "MINI_AGENT", "CODEX_AGENT", "STRICT",
                                                                      "READINESS", "LIVE_PROVIDERS", "PYTEST_"))}
    return subprocess.run([sys.executable, "-m", "bed", *args], cwd=cwd, env={**base, **(env or {})},
                          capture_output=True, text=True, timeout=timeout, check=False)


def leftovers(client: docker.DockerClient, run_id: str | None = None) -> list[str]:
    label = f"bed.run={run_id}" if run_id else "bed.project=bed"
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
