from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bed.commands.repro import load, plan
from bed.errors import ConfigError


def _report(checks: list[dict[str, Any]], failing: dict[str, list[str]]) -> dict[str, Any]:
    return {"schema_version": 1, "checks": checks,
            "repro": {"tiers": ["deterministic", "nd", "release"], "failing": failing}}


def test_only_failing_checks_and_their_failing_tests_are_planned() -> None:
    data = _report([{"name": "all_smokes_core", "tier": "deterministic", "status": "passed"},
                    {"name": "all_smokes_nd_shard_b", "tier": "nd", "status": "failed"},
                    {"name": "release_smokes", "tier": "release", "status": "error"}],
                   {"all_smokes_nd_shard_b": ["nd/test_a.py::test_x", "nd/test_a.py::test_y"]})
    tiers, select = plan(data)
    assert tiers == ("nd", "release")
    assert select == {"nd": ("nd/test_a.py::test_x", "nd/test_a.py::test_y")}  # release errored: whole tier


def test_a_green_report_reruns_its_tiers() -> None:
    tiers, select = plan(_report([{"name": "all_smokes_core", "tier": "deterministic", "status": "passed"}], {}))
    assert tiers == ("deterministic", "nd", "release")
    assert select == {}


@pytest.mark.parametrize(("content", "says"), [
    (None, "cannot read report"),
    ("{not json", "is not JSON"),
    (json.dumps({"schema_version": 99}), "schema version 2"),
])
def test_bad_reports_are_config_errors(tmp_path: Path, content: str | None, says: str) -> None:
    path = tmp_path / "mvp_report.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=says):
        load(path)
