"""The operator runbook of the old harness, pasted line by line into a shell, works as written.

From SEED-lessons-learned.md, "Operator Runbook (quick)": the two base exports,
LIVE_PROVIDERS=0, the venv on PATH, then the core gate with READINESS_DISABLE_TIMEOUT=1 and
PYTEST_XDIST_AUTO_NUM_WORKERS=6; then the ND shards selected the old way.
"""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import docker
import pytest

from bed.images.build import ImageRef

from .conftest import BED_VARS, REPO, leftovers

SOURCE = REPO

RUNBOOK = """
export MINI_AGENT_API_BASE=http://127.0.0.1:8788; export CODEX_AGENT_API_BASE=$MINI_AGENT_API_BASE
export LIVE_PROVIDERS=0
export PATH="$PWD/.venv/bin:$PATH"; hash -r
READINESS_DISABLE_TIMEOUT=1 PYTEST_XDIST_AUTO_NUM_WORKERS=6 make -s project-ready-core-only-with-docker
"""


def _shell(script: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith((*BED_VARS, "MAKE"))}
    return subprocess.run(["bash", "-c", "set -e\n" + script], cwd=SOURCE, env=env, capture_output=True, text=True,
                          timeout=600, check=False)


def _report() -> dict[str, object]:
    return dict(json.loads((SOURCE / "local/artifacts/mvp/mvp_report.json").read_text()))


@pytest.fixture
def port_8788_free() -> None:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 8788))
        except OSError:
            pytest.fail("the runbook publishes the shim on 127.0.0.1:8788, and something else holds it")


def test_runbook_verbatim(client: docker.DockerClient, images: dict[str, ImageRef], port_8788_free: None) -> None:
    done = _shell(RUNBOOK)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert "VERDICT: READY" in out
    assert "MINI_AGENT_API_BASE=http://mini-agent:8788/v1  (source: MINI_AGENT_API_BASE, " \
           "given http://127.0.0.1:8788)" in out
    assert "CODEX_AGENT_API_BASE=http://mini-agent:8788/v1  (forced to match)" in out
    assert "shim from the host: http://127.0.0.1:8788/v1" in out
    assert "PYTEST_XDIST_AUTO_NUM_WORKERS=6 capped to" in out  # said so, on this 2-core machine
    assert "2 workers [" in out  # pytest-xdist really ran the tiers on the capped worker count
    report = _report()
    names = {c["name"]: c["status"] for c in report["checks"]}  # type: ignore[attr-defined]
    assert names == {"all_smokes_core": "passed", "all_smokes_nd": "passed", "agent_clients": "passed",
                     "release_smokes": "skipped", "census": "passed"}
    ready_md = (SOURCE / "PROJECT_READY.md").read_text()
    for name in names:
        assert f"| {name} |" in ready_md
        assert f'testsuite name="{name}"' in (SOURCE / f"local/artifacts/mvp/junit/{name}.xml").read_text()
    assert leftovers(client, str(report["run_id"])) == []


@pytest.mark.parametrize(("selection", "check", "must_have", "must_not"), [
    ("not shard_b", "all_smokes_nd_shard_a", "test_group_routes_through_proxy", "test_shim_plain"),
    ("shard_b", "all_smokes_nd_shard_b", "test_shim_plain", "test_group_routes_through_proxy"),
])
def test_nd_shards_the_old_way(client: docker.DockerClient, images: dict[str, ImageRef], selection: str,
                               check: str, must_have: str, must_not: str) -> None:
    done = _shell(f"export PATH=\"$PWD/.venv/bin:$PATH\"\nALL_SMOKES_ND_TIMEOUT=1200 make -s "
                  f"project-ready-core-only-with-docker K='{selection}'")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    junit = (SOURCE / f"local/artifacts/mvp/junit/{check}.xml").read_text()
    assert must_have in junit
    assert must_not not in junit
    assert check in {c["name"] for c in _report()["checks"]}  # type: ignore[attr-defined]


def test_balanced_shards_cover_the_nd_tier_once(client: docker.DockerClient, images: dict[str, ImageRef]) -> None:
    seen: list[str] = []
    for index in (1, 2):
        done = _shell(f"export PATH=\"$PWD/.venv/bin:$PATH\"\nmake -s project-ready-core-only-with-docker "
                      f"SHARD={index}/2")
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
        junit = (SOURCE / f"local/artifacts/mvp/junit/all_smokes_nd_shard_{index}of2.xml").read_text()
        seen += [f"{c.get('classname')}::{c.get('name')}" for c in ET.fromstring(junit).iter("testcase")]  # noqa: S314
    assert len(seen) == len(set(seen)) >= 10
    assert Path(SOURCE / "local/artifacts/mvp/durations.json").is_file()
