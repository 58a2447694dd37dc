from __future__ import annotations

import io
from pathlib import Path

from bed._ci import annotate, error_annotation
from bed._console import Console
from bed._results import Cause, CheckResult, RunResult, Status


def test_annotation_has_file_line_and_escaped_message() -> None:
    line = error_annotation("all_smokes_nd", "nd/test_x.py::test_a", "nd/test_x.py:23", "100% broken\nsecond, line")
    assert line == ("::error file=tests/tiers/nd/test_x.py,line=23,title=all_smokes_nd%3A nd/test_x.py%3A%3Atest_a"
                    "::100%25 broken%0Asecond, line")


def test_annotation_without_location_has_only_a_title() -> None:
    assert error_annotation("c", "n", "", "m") == "::error title=c%3A n::m"


def _result() -> RunResult:
    bad = CheckResult(name="all_smokes_core", tier="deterministic", status=Status.FAILED, duration_s=1.0,
                      cause=Cause("deterministic/test_a.py::test_x", "deterministic/test_a.py:9", "boom sk-secret-1"))
    return RunResult(run_id="0123abcd", gate="dev", ready=False, strict=False, checks=(bad,), bases={}, images={},
                     timings={}, versions={})


def test_only_on_github_and_summary_appended_and_redacted(tmp_path: Path) -> None:
    out = io.StringIO()
    console = Console(out=out)
    annotate(_result(), {}, console)
    assert out.getvalue() == ""
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    console.redact.add("sk-secret-1")
    annotate(_result(), {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}, console)
    assert out.getvalue().startswith("::error file=tests/tiers/deterministic/test_a.py,line=9,")
    text = summary.read_text()
    assert text.startswith("earlier step\n# PROJECT READY: NOT READY")
    assert "sk-secret-1" not in text + out.getvalue()
