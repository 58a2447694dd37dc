"""The agent matrix: cells from the agent tier's own records (their properties), in the report, its
schema, PROJECT_READY.md and the CI step summary."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bed.console import Console
from bed.model import evidence
from bed.model.results import RunResult
from bed.report import ci, matrix
from bed.report.writers import project_ready_md

from ..fakes import raw_records
from .test_writers import SCHEMA, _result

PASSED = "agents/test_agent_clients.py::test_agent_turn[codex@0.169.0-responses-native-tool]"
FAILED = "agents/test_agent_clients.py::test_agent_turn[gemini-cli@0.61.0-gemini-native-tool]"
SKIPPED = "agents/test_agent_clients.py::test_agent_turn[claude-code@2.1.328-messages-native-tool]"
FLAKY = "agents/test_agent_clients.py::test_agent_turn[qwen-code@0.24.4-chat-native-plain]"
OTHER = "agents/test_agent_clients.py::test_helper"


def _props(agent: str, version: str, surface: str, route: str, kind: str, **more: Any) -> dict[str, Any]:
    return {"agent": agent, "version": version, "surface": surface, "route": route, "group": "g", "kind": kind,
            **more}


def _evidence() -> evidence.Evidence:
    raw = raw_records((PASSED, "passed"), (FAILED, "failed"), (SKIPPED, "skipped"), (FLAKY, "failed"),
                      (OTHER, "passed"))
    props = {PASSED: _props("codex", "0.169.0", "responses", "native", "tool", turn_seconds=1.25),
             FAILED: _props("gemini-cli", "0.61.0", "gemini", "native", "tool", turn_seconds=3.5, side="gateway",
                            control_turn_seconds=2.0),
             SKIPPED: _props("claude-code", "2.1.328", "messages", "native", "tool"),
             FLAKY: _props("qwen-code", "0.24.4", "chat", "native", "plain", turn_seconds=4.0)}
    lines = []
    for line in raw.decode().splitlines():
        record = json.loads(line)
        if record.get("kind") == "test" and record["nodeid"] in props and record["phase"] == "call":
            record["properties"] = props[record["nodeid"]]
        if record.get("kind") == "test" and record["nodeid"] == SKIPPED and record["phase"] == "setup":
            record["properties"] = props[SKIPPED]
        lines.append(json.dumps(record))
    return evidence.parse(("\n".join(lines) + "\n").encode())


def test_cells_come_from_the_tests_own_properties() -> None:
    ev = _evidence()
    cells = matrix.cells(ev.tests, {FLAKY: "flaky"})
    assert [c.nodeid for c in cells] == [PASSED, FAILED, SKIPPED, FLAKY]  # the helper test is no cell
    by = {c.nodeid: c for c in cells}
    assert (by[PASSED].status, by[PASSED].seconds, by[PASSED].kind) == ("passed", 1.25, "tool")
    assert (by[FAILED].status, by[FAILED].side, by[FAILED].route) == ("failed", "gateway", "native")
    assert by[FAILED].note == "why"  # the test's own message
    assert (by[SKIPPED].status, by[SKIPPED].seconds) == ("skipped", None)
    assert by[FLAKY].status == "flaky"


def test_the_table_has_a_row_per_route_and_a_column_per_kind() -> None:
    cells = matrix.cells(_evidence().tests, {FLAKY: "flaky"})
    table = matrix.table(cells)
    assert table[0] == "| agent | version | surface | route | plain | tool |"
    assert "| codex | 0.169.0 | responses | native | — | PASS 1.2 s |" in table
    assert "| gemini-cli | 0.61.0 | gemini | native | — | FAIL 3.5 s (gateway broke it) |" in table
    assert "| claude-code | 2.1.328 | messages | native | — | SKIP |" in table
    assert "| qwen-code | 0.24.4 | chat | native | FLAKY 4.0 s | — |" in table
    assert matrix.summary(cells) == "1 passed, 1 failed, 1 flaky, 1 skipped"


def test_the_report_holds_the_matrix_validates_and_round_trips() -> None:
    result = dataclasses.replace(_result(), agent_matrix=matrix.cells(_evidence().tests))
    data = json.loads(json.dumps(result.to_dict()))
    jsonschema.validate(data, SCHEMA)
    assert RunResult.from_dict(data) == result
    assert data["agent_matrix"][1]["side"] == "gateway"
    data["agent_matrix"][0]["kind"] = "sideways"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


def test_project_ready_md_and_the_ci_summary_show_the_matrix(tmp_path: Path) -> None:
    result = dataclasses.replace(_result(), agent_matrix=matrix.cells(_evidence().tests))
    text = project_ready_md(result)
    assert "## Agent matrix" in text
    assert "| gemini-cli | 0.61.0 | gemini | native | — | FAIL 3.5 s (gateway broke it) |" in text
    assert f"- `{FAILED}`: why" in text
    summary = tmp_path / "summary.md"
    ci.annotate(result, {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}, Console(out=io.StringIO()),
                tmp_path)
    assert "| codex | 0.169.0 | responses | native | — | PASS 1.2 s |" in summary.read_text()


def test_a_run_without_the_agents_tier_has_no_matrix_section() -> None:
    assert "Agent matrix" not in project_ready_md(_result())
