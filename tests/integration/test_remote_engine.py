"""The core gate against a remote engine: a second dockerd in its own network namespace, whose
published ports are NOT on this machine (GitLab's docker:dind, a remote DOCKER_HOST)."""

from __future__ import annotations

import re
import time
from pathlib import Path

from .conftest import bed_cli
from .remote_engine import RemoteEngine, remote_engine  # noqa: F401 - the fixture


def _bed_things(engine: RemoteEngine) -> list[str]:
    client = engine.client()
    try:
        names = [c.name for c in client.containers.list(all=True, filters={"label": "bed.run"})]
        names += [n.name for n in client.networks.list(filters={"label": "bed.run"})]
    finally:
        client.close()
    return names


def test_the_core_gate_is_ready_on_a_remote_engine_with_the_nd_tier_really_run(
        remote_engine: RemoteEngine, tmp_path: Path) -> None:  # noqa: F811
    env = {"DOCKER_HOST": remote_engine.docker_host}
    started = time.monotonic()
    done = bed_cli(["run"], tmp_path, env)
    took = time.monotonic() - started
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert "VERDICT: READY" in out
    passed = re.findall(r"all_smokes_nd \| nd/\S+ PASSED", out)
    assert len(passed) >= 10, out[-3000:]  # the ND tests ran for real, through the proxy, on that engine
    assert "SKIPPED  all_smokes_nd" not in out
    assert _bed_things(remote_engine) == []
    print(f"core gate on the remote engine: {took:.1f} s")


def test_doctor_up_down_and_gc_work_there(remote_engine: RemoteEngine, tmp_path: Path) -> None:  # noqa: F811
    env = {"DOCKER_HOST": remote_engine.docker_host}
    doctor = bed_cli(["doctor"], tmp_path, env)
    assert "published ports are not on this machine" in doctor.stdout, doctor.stdout
    up = bed_cli(["up"], tmp_path, env)
    assert up.returncode == 0, up.stdout[-3000:]
    assert "THE ENGINE IS REMOTE" in up.stdout
    assert "# export BED_PROXY_URL=" in up.stdout  # commented out: they do not answer here
    assert re.search(r"docker exec -it bed-[0-9a-f]{8}-runner-shell bash", up.stdout)
    gc = bed_cli(["gc"], tmp_path, env)
    assert gc.returncode == 0
    assert _bed_things(remote_engine) != []  # gc never sweeps a kept stack
    down = bed_cli(["down"], tmp_path, env)
    assert down.returncode == 0
    assert "removed 7 container(s) and 1 network(s)" in down.stdout  # probe, shim, proxy, shell, 3 warm
    assert _bed_things(remote_engine) == []
