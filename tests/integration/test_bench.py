"""`bed bench` on the real stack: the core gate against its floor, and the dev loop on a kept stack.

Times are recorded, never asserted: these tests prove that each bench measures READY runs and
the floor it claims (the very proxy bed starts, booted alone), and leaves nothing behind.
"""

from __future__ import annotations

import json
from pathlib import Path

import docker
import pytest

from bed.images.build import ImageRef

from .conftest import bed_cli, leftovers


def test_bench_core_times_ready_runs_against_a_floor_it_really_measured(
        client: docker.DockerClient, images: dict[str, ImageRef], tmp_path: Path) -> None:
    done = bed_cli(["bench", "--runs", "1"], tmp_path, timeout=900)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert "run 1/1: READY" in out
    report = json.loads((tmp_path / "local/artifacts/bench/core.json").read_text())
    assert report["ready"] is True
    floor = report["floor"]
    assert floor["proxy_bare_s"] > 1  # a real proxy boot (litellm's import alone takes seconds)
    assert floor["served_direct_s"] > 1  # the ND and agent tiers really ran against it
    # Each part is rounded on its own and the floor from the unrounded ones: 5.78 + 8.27 may be 14.06.
    assert floor["floor_s"] == pytest.approx(max(floor["proxy_bare_s"], floor["hermetic_direct_s"])
                                             + floor["served_direct_s"], abs=0.015)
    assert report["ratio"] > 0
    assert {"tier all_smokes_nd", "tier agent_clients", "wall (in-process)"} <= set(report["phases"])
    assert leftovers(client) == []


def test_bench_reuse_times_the_dev_loop_on_the_kept_stack(
        client: docker.DockerClient, images: dict[str, ImageRef], tmp_path: Path) -> None:
    up = bed_cli(["up"], tmp_path)
    assert up.returncode == 0, up.stdout[-3000:]
    try:
        done = bed_cli(["bench", "reuse", "--runs", "2"], tmp_path, timeout=900)
        out = done.stdout + done.stderr
        assert done.returncode == 0, out[-3000:]
        kept = json.loads((tmp_path / ".artifacts/kept.json").read_text())["run_id"]
        assert f"on the stack kept by `bed up` (run {kept}), 2 runs" in out
        report = json.loads((tmp_path / "local/artifacts/bench/reuse.json").read_text())
        assert report["kept_run"] == kept
        assert report["ready"] is True
        assert 0 < report["best_s"] <= report["median_s"]
        assert "bed run --reuse: best" in out
        # The kept stack is still the only bed stack: the runs left nothing of their own.
        assert {c.labels.get("bed.run") for c in client.containers.list(all=True, filters={"label": "bed.run"})} \
            == {kept}
    finally:
        assert bed_cli(["down"], tmp_path).returncode == 0
    assert leftovers(client) == []
