from __future__ import annotations

import io
from pathlib import Path

from bed.console import Console
from bed.model.results import Cause, CheckResult, RunResult, Status
from bed.report.ci import annotate, error_annotation


def test_annotation_has_file_line_and_escaped_message() -> None:
    line = error_annotation("all_smokes_nd", "nd/test_x.py::test_a", "nd/test_x.py:23", "100% broken\nsecond, line")
    assert line == ("::error file=nd/test_x.py,line=23,title=all_smokes_nd%3A nd/test_x.py%3A%3Atest_a"
                    "::100%25 broken%0Asecond, line")


def test_annotation_without_location_has_only_a_title() -> None:
    assert error_annotation("c", "n", "", "m") == "::error title=c%3A n::m"


def _result(suite: Path | None = None) -> RunResult:
    bad = CheckResult(name="all_smokes_core", tier="deterministic", status=Status.FAILED, duration_s=1.0,
                      cause=Cause("deterministic/test_a.py::test_x", "deterministic/test_a.py:9", "boom sk-secret-1"))
    return RunResult(run_id="0123abcd", gate="dev", ready=False, strict=False, checks=(bad,), bases={}, images={},
                     timings={}, versions={}, repro={"suite": str(suite) if suite else None})


def test_only_on_github_and_summary_appended_and_redacted(tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(out=out)
    annotate(_result(), {}, console, tmp_path)
    assert out.getvalue() == ""
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    console.redact.add("sk-secret-1")
    (tmp_path / "tests" / "deterministic").mkdir(parents=True)
    (tmp_path / "tests" / "deterministic" / "test_a.py").write_text("def test_x(): ...\n")
    annotate(_result(tmp_path / "tests"), {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}, console,
             tmp_path)
    assert out.getvalue().startswith("::error file=tests/deterministic/test_a.py,line=9,")
    text = summary.read_text()
    assert text.startswith("earlier step\n# PROJECT READY: NOT READY")
    assert "sk-secret-1" not in text + out.getvalue()


def test_a_file_outside_the_checkout_gets_no_file_annotation(tmp_path: Path) -> None:
    out = io.StringIO()
    annotate(_result(), {"GITHUB_ACTIONS": "true"}, Console(out=out), tmp_path)
    assert out.getvalue().startswith("::error title=all_smokes_core")
