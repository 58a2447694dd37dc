"""JUnit for CI tools: the runner's own when it tells the truth, never green for a NOT READY check."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bed.report.junit import for_check, synthetic
from bed.report.results import Cause, CheckResult, Status

PASSING = ('<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="all_smokes_core" tests="1" '
           'failures="0"><testcase classname="t" name="ok"/></testsuite></testsuites>')
FAILED = CheckResult(name="all_smokes_core", tier="deterministic", status=Status.FAILED, duration_s=1.0,
                     cause=Cause("all_smokes_core", "", "the pytest session never finished", "tail line"))
PASSED = CheckResult(name="all_smokes_core", tier="deterministic", status=Status.PASSED, duration_s=1.0)


def _cases(text: str) -> list[tuple[str, bool]]:
    root = ET.fromstring(text)  # noqa: S314 - test data
    return [(c.get("name", ""), c.find("failure") is not None) for c in root.iter("testcase")]


def test_a_truthful_runner_junit_is_kept_as_it_is() -> None:
    assert for_check(PASSED, PASSING) == PASSING


def test_a_failed_check_never_leaves_a_green_junit() -> None:
    out = for_check(FAILED, PASSING)
    assert _cases(out) == [("ok", False), ("verdict", True)]
    assert 'failures="1"' in out
    assert "the pytest session never finished" in out


def test_a_junit_that_is_not_xml_is_replaced() -> None:
    out = for_check(FAILED, "<<not xml")
    assert _cases(out) == [("all_smokes_core", True)]
    assert "was not XML" in out


def test_no_runner_junit_gives_a_synthetic_one() -> None:
    skipped = CheckResult(name="release_smokes", tier="release", status=Status.SKIPPED, duration_s=0.0,
                          reason="LIVE_PROVIDERS is not 1")
    text = synthetic(skipped)
    assert "<skipped message=\"LIVE_PROVIDERS is not 1\"/>" in text
    assert _cases(for_check(FAILED, None)) == [("all_smokes_core", True)]
