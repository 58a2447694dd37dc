"""Per deployment: against its twin and live, from the checks' own outcomes (bed.report.deployments)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

import bed
from bed.model.results import CheckResult, RunResult, Status
from bed.report.deployments import markdown, table

TWIN = "nd/test_provider_twins.py::test_deployment_against_its_twin"
LIVE = "release/test_live_providers.py::test_live_deployment_through_the_proxy"


def _twin(group: str, index: int, provider: str, skip: str = "") -> dict[str, object]:
    return {"group": group, "index": index, "provider": provider, "model": f"{provider}/m", "skip": skip}


def _check(name: str, tier: str, outcomes: dict[str, str]) -> CheckResult:
    return CheckResult(name=name, tier=tier, status=Status.PASSED, duration_s=1.0, tests=len(outcomes), failures=0,
                       skipped=0, required=False, outcomes=outcomes)


def test_each_deployment_says_how_it_ran_against_its_twin_and_live() -> None:
    nd = _check("all_smokes_nd", "nd", {
        f"{TWIN}[smart#0-anthropic-chat]": "passed", f"{TWIN}[smart#0-anthropic-messages]": "failed",
        f"{TWIN}[fast#0-gemini-chat]": "passed", f"{TWIN}[fast#1-gemini-chat]": "passed",
        f"{TWIN}[c#0-cohere-chat]": "skipped"})
    release = _check("release_smokes", "release", {f"{LIVE}[smart-chat]": "skipped", f"{LIVE}[fast-chat]": "passed",
                                                   f"{LIVE}[old-chat]": "skipped"})
    twins = [_twin("smart", 0, "anthropic"), _twin("fast", 0, "gemini"), _twin("fast", 1, "gemini"),
             _twin("c", 0, "cohere", "NO TWIN: c#0 (cohere/m)")]
    live = [{"group": "smart", "provider": "anthropic", "model": "anthropic/m", "skip": "needs LIVE_PROVIDERS=1"},
            {"group": "fast", "provider": "gemini", "model": "gemini/m", "skip": ""},
            {"group": "old", "provider": "openai", "model": "openai/m", "skip": "needs OPENAI_API_KEY"}]
    rows = table(twins, live, (nd, release))
    assert [(r["group"], r["index"], r["twin"], r["live"]) for r in rows] == [
        ("smart", 0, "failed", "skipped: needs LIVE_PROVIDERS=1"), ("fast", 0, "passed", "passed"),
        ("fast", 1, "passed", "not run"), ("c", 0, "skipped: NO TWIN: c#0 (cohere/m)", "not run"),
        ("old", 0, "not run", "skipped: needs OPENAI_API_KEY")]
    section = markdown(rows)
    assert "| smart#0 | anthropic | `anthropic/m` | failed | skipped: needs LIVE_PROVIDERS=1 |" in section


def test_the_report_carries_them_and_still_meets_its_schema() -> None:
    rows = table([_twin("fast", 0, "gemini")], [], ())
    result = RunResult(run_id="0123abcd", gate="core", ready=True, strict=False, checks=(), bases={}, images={},
                       timings={}, versions={}, deployments=rows)
    schema = json.loads((Path(bed.__file__).parent / "report" / "report.schema.json").read_text())
    jsonschema.validate(result.to_dict()["deployments"], schema["properties"]["deployments"])
    assert RunResult.from_dict(result.to_dict()).deployments == rows
    assert markdown(()) == []
