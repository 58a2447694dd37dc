"""The agent matrix for real: the bed-agents image (five agent clients from npm), the real LiteLLM
proxy, the shim; `bed run --tier agents` as a user runs it, judged from the report it writes.

    - every agent's tool turn passes through every route LiteLLM serves its surface;
    - two versions of one agent in one run are each judged (a version the lock does not pin comes
      from the npm registry, with its integrity);
    - a route that points nowhere fails only its own cell, and CAUSE names the gateway;
    - a version npm does not have is a CONFIG_ERROR naming the nearest ones, before anything starts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import docker
import pytest
import yaml

from bed.config import router
from bed.images.build import ImageRef

from .conftest import bed_cli, leftovers

NETWORK_BASE = "http://mini-agent:8788/v1"
EXPECTED = {  # (agent, surface, route): the cells of bed's generated router config
    ("codex", "responses", "native"), ("codex", "responses", "chat-bridge"),
    ("claude-code", "messages", "native"), ("claude-code", "messages", "chat-bridge"),
    ("claude-code", "messages", "responses-adapter"),
    ("gemini-cli", "gemini", "native"), ("gemini-cli", "gemini", "chat-bridge"),
    ("opencode", "chat", "native"), ("qwen-code", "chat", "native"),
}


def _report(root: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((root / "local/artifacts/mvp/mvp_report.json").read_text())
    return report


def _only(root: Path, **versions: list[str]) -> None:
    """A project whose [tool.bed] agents runs just these agents at these versions."""
    table = ", ".join(f'{a} = {json.dumps(versions.get(a, []))}' for a in
                      ("codex", "claude-code", "gemini-cli", "opencode", "qwen-code"))
    (root / "pyproject.toml").write_text(f"[tool.bed]\nagents = {{ {table} }}\n")


def test_every_agent_finishes_a_tool_turn_through_every_route(images: dict[str, ImageRef], tmp_path: Path,
                                                              client: docker.DockerClient) -> None:
    done = bed_cli(["run", "--tier", "agents"], tmp_path, timeout=1200)
    assert done.returncode == 0, done.stdout[-4000:]
    report = _report(tmp_path)
    cells = report["agent_matrix"]
    assert {(c["agent"], c["surface"], c["route"]) for c in cells} == EXPECTED
    assert {(c["kind"], c["status"]) for c in cells} == {("tool", "passed")}
    assert all(c["seconds"] > 0 for c in cells)
    assert "## Agent matrix" in (tmp_path / "PROJECT_READY.md").read_text()
    junit = (tmp_path / "local/artifacts/mvp/junit/agent_clients.xml").read_text()
    assert 'name="route" value="chat-bridge"' in junit  # the cells' properties reach CI's test report too
    assert leftovers(client, report["run_id"]) == []


def test_two_versions_of_one_agent_are_each_judged(images: dict[str, ImageRef], tmp_path: Path) -> None:
    _only(tmp_path, **{"qwen-code": ["0.24.3", "0.24.4"]})  # 0.24.3 is not in the lock: npm's integrity
    done = bed_cli(["run", "--tier", "agents"], tmp_path, timeout=1200)
    assert done.returncode == 0, done.stdout[-4000:]
    report = _report(tmp_path)
    assert [(c["version"], c["status"]) for c in report["agent_matrix"]] == [("0.24.3", "passed"),
                                                                             ("0.24.4", "passed")]
    assert report["versions"]["agents"] == "qwen-code@0.24.3,qwen-code@0.24.4"
    text = (tmp_path / "PROJECT_READY.md").read_text()
    assert "| qwen-code | 0.24.3 | chat | native | PASS" in text
    assert "| qwen-code | 0.24.4 | chat | native | PASS" in text


def test_a_route_that_points_nowhere_fails_only_its_cell_and_cause_names_the_gateway(
        images: dict[str, ImageRef], tmp_path: Path) -> None:
    config = router.plan(None, "codex-agent-1", NETWORK_BASE, strict=False).config
    for entry in config["model_list"]:
        if entry["model_name"] == router.gemini_group("codex-agent-1"):
            entry["litellm_params"]["api_base"] = "http://127.0.0.1:9/v1"  # nothing listens there
    (tmp_path / "router.yaml").write_text(yaml.safe_dump(config))
    _only(tmp_path, codex=["0.169.0"], **{"gemini-cli": ["0.61.0"]})
    done = bed_cli(["run", "--tier", "agents", "--router-config", "router.yaml"], tmp_path, timeout=1200)
    assert done.returncode == 1, done.stdout[-4000:]
    report = _report(tmp_path)
    cells = {(c["agent"], c["route"]): c for c in report["agent_matrix"]}
    broken = cells.pop(("gemini-cli", "native"))
    assert (broken["status"], broken["side"]) == ("failed", "gateway")
    assert {c["status"] for c in cells.values()} == {"passed"}, cells  # gemini's other route, codex's both
    assert set(cells) == {("gemini-cli", "chat-bridge"), ("codex", "native"), ("codex", "chat-bridge")}
    cause = next(c["cause"] for c in report["checks"] if c["name"] == "agent_clients")
    assert "gemini-cli@0.61.0-gemini-native-tool" in cause["nodeid"]
    assert cause["message"].removeprefix("Failed: ").startswith(
        "the gateway broke it: gemini-cli 0.61.0 gemini/native tool turn through codex-agent-1-gemini")
    assert "straight at the shim the same turn passed" in cause["message"]
    assert "CAUSE agent_clients:" in done.stdout
    assert "the gateway broke it" in (tmp_path / "PROJECT_READY.md").read_text()


@pytest.mark.parametrize("spec", ["claude-code@2.1.999"])
def test_a_version_npm_does_not_have_is_a_config_error_naming_the_nearest(spec: str, tmp_path: Path,
                                                                          client: docker.DockerClient) -> None:
    before = set(leftovers(client))
    done = bed_cli(["run", "--tier", "agents"], tmp_path, env={"BED_AGENTS": spec}, timeout=120)
    assert done.returncode == 2, done.stdout[-2000:]
    line = next(ln for ln in (done.stdout + done.stderr).splitlines() if ln.startswith("CONFIG_ERROR"))
    assert "claude-code 2.1.999 is not on npm" in line
    assert "nearest it has: 2.1." in line
    assert set(leftovers(client)) == before  # nothing was started
