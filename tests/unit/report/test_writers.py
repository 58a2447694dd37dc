from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import bed
from bed.model.results import Cause, CheckResult, RunResult, Status
from bed.redact import Redactor
from bed.report.junit import for_check
from bed.report.writers import cause_lines, project_ready_md, write_all, write_text

SCHEMA = json.loads((Path(bed.__file__).parent / "report" / "report.schema.json").read_text())

def _result(*checks: CheckResult, ready: bool = False) -> RunResult:
    return RunResult(
        run_id="0123abcd", gate="core", ready=ready, strict=False, checks=checks,
        bases={"MINI_AGENT_API_BASE": "http://mini-agent:8788/v1", "CODEX_AGENT_API_BASE": "http://mini-agent:8788/v1",
               "host": "http://127.0.0.1:1234/v1", "source": "default"},
        images={"shim": {"tag": "bed-shim:abc", "id": "sha256:0123456789abcdef0123", "size_mb": 300.0,
                         "built": False}},
        timings={"total": 12.5}, versions={"bed": "0.1.0", "litellm": "1.108.7"},
        started_at="2026-11-24T00:00:00+00:00",
        repro={"command": "bed repro local/artifacts/mvp/mvp_report.json",
               "images": {"shim": {"tag": "bed-shim:abc", "id": "sha256:0123"}}, "router_yaml": "model_list: []\n",
               "tiers": ["nd"], "shard": None, "shim_seed": "bed", "env": {"STRICT": "0"},
               "failing": {"all_smokes_nd": ["nd/test_x.py::test_bad"]}},
    )


FAILED = CheckResult(name="all_smokes_nd", tier="nd", status=Status.FAILED, duration_s=2.0, tests=3, failures=1,
                     cause=Cause("nd/test_x.py::test_bad", "nd/test_x.py:23", "AssertionError", "proxy | boom"),
                     junit="local/artifacts/mvp/junit/all_smokes_nd.xml")
SKIPPED = CheckResult(name="release_smokes", tier="release", status=Status.SKIPPED, duration_s=0.0,
                      reason="LIVE_PROVIDERS is not 1", junit="local/artifacts/mvp/junit/release_smokes.xml")


def test_report_round_trips_and_validates_against_the_schema() -> None:
    result = _result(FAILED, SKIPPED)
    data = json.loads(json.dumps(result.to_dict()))
    jsonschema.validate(data, SCHEMA)
    assert RunResult.from_dict(data) == result


def test_schema_rejects_a_wrong_report() -> None:
    data = _result(FAILED).to_dict()
    data["checks"][0]["status"] = "kinda"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


def test_cause_line_names_first_failing_test_with_location() -> None:
    assert cause_lines(_result(FAILED, SKIPPED)) == [
        "CAUSE all_smokes_nd: nd/test_x.py::test_bad (nd/test_x.py:23): AssertionError"
        " -> repro: bed repro local/artifacts/mvp/mvp_report.json"]


def test_project_ready_md_has_verdict_checks_causes_skips_and_versions() -> None:
    text = project_ready_md(_result(FAILED, SKIPPED))
    assert text.startswith("# PROJECT READY: NOT READY")
    assert "**VERDICT: NOT READY (1 check failed: all_smokes_nd; 1 check skipped: release_smokes - LIVE_PROVIDERS" \
           " is not 1)**" in text
    for needle in ("| all_smokes_nd | nd | FAIL |", "| release_smokes | release | SKIP |", "CAUSE all_smokes_nd",
                   "proxy | boom", "LIVE_PROVIDERS is not 1", "litellm: 1.108.7", "bed-shim:abc",
                   "MINI_AGENT_API_BASE = `http://mini-agent:8788/v1`"):
        assert needle in text


def test_writers_redact_and_write_atomically(tmp_path: Path) -> None:
    secret = "sk-planted-secret-42"
    check = CheckResult(name="all_smokes_core", tier="deterministic", status=Status.FAILED, duration_s=1.0,
                        cause=Cause("t::x", "", f"saw {secret}", f"log {secret}"))
    redact = Redactor([secret])
    write_all(_result(check), report=tmp_path / "r/mvp_report.json", ready_md=tmp_path / "PROJECT_READY.md",
              redact=redact)
    write_text(tmp_path / "junit.xml", for_check(check), redact)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(), path
    assert not list(tmp_path.rglob(".*.tmp"))


def test_unwritable_artifacts_dir_is_an_artifact_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(bed.ArtifactError) as caught:
        write_text(blocker / "sub" / "report.json", "{}", Redactor())
    assert "BED_ARTIFACTS_DIR" in caught.value.line()


@pytest.mark.parametrize(("checks", "line"), [
    ((), "NOT READY"),
    ((FAILED,), "NOT READY (1 check failed: all_smokes_nd)"),
    ((SKIPPED,), "READY (1 check skipped: release_smokes - LIVE_PROVIDERS is not 1)"),
], ids=["nothing", "failed", "skipped"])
def test_the_verdict_line_names_what_did_not_run(checks: tuple[CheckResult, ...], line: str) -> None:
    from bed.policy.verdict import ready

    assert _result(*checks, ready=ready(checks)).verdict_line() == line


def test_password_in_a_url_never_reaches_an_artifact(tmp_path: Path) -> None:
    check = CheckResult(name="all_smokes_core", tier="deterministic", status=Status.FAILED, duration_s=1.0,
                        cause=Cause("t::x", "", "could not reach http://alice:hunter2hunter2@mirror:8080/simple"))
    write_all(_result(check), report=tmp_path / "r.json", ready_md=tmp_path / "P.md", redact=Redactor())
    for path in (tmp_path / "r.json", tmp_path / "P.md"):
        text = path.read_text()
        assert "hunter2hunter2" not in text
        assert "http://***@mirror:8080/simple" in text
