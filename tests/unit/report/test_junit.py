"""JUnit for CI tools: the runner's own when it tells the truth, never green for a NOT READY check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bed.report.junit import for_check, synthetic
from bed.report.results import Cause, CheckResult, Status
from bed.report.writers import write_text
from bed.text import xml_safe

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


# --- text from outside: ANSI colours, control characters, lone surrogates --------------------------------------------

BANNER = (Path(__file__).parent / "data" / "litellm_banner.txt").read_text()  # docker logs of LiteLLM 1.108.7's proxy
CONTROLS = "".join(chr(c) for c in [*range(0x00, 0x20), 0x7F])
NASTY = [("every control character", f"before {CONTROLS} after"), ("lone surrogates", "a \ud800 b \udfff c \udc80"),
         ("LiteLLM's banner", BANNER), ("an OSC title and a bell", "\x1b]0;title\x07done \x07"),
         ("U+FFFE and U+FFFF", "x\ufffey\uffff")]


def _written(tmp_path: Path, text: str) -> ET.Element:
    """The document as a CI tool reads it: written by bed's writer, parsed from the file's bytes."""
    path = tmp_path / "all_smokes_core.xml"
    write_text(path, text, lambda s: s)
    return ET.fromstring(path.read_bytes())  # noqa: S314 - test data; expat refuses any character XML 1.0 forbids


@pytest.mark.parametrize(("what", "text"), NASTY, ids=[n[0] for n in NASTY])
def test_text_from_outside_never_makes_the_junit_invalid(tmp_path: Path, what: str, text: str) -> None:
    bad = CheckResult(name="all_smokes_core", tier="deterministic", status=Status.FAILED, duration_s=1.0,
                      reason=text, cause=Cause("t.py::test_a", "t.py:3", f"assert {text}", text))
    for document in (for_check(bad, PASSING), for_check(bad, None), synthetic(bad)):
        root = _written(tmp_path, document)
        failure = next(root.iter("failure"))
        assert "\x1b" not in (failure.text or "") + failure.get("message", "")
    skipped = CheckResult(name="release_smokes", tier="release", status=Status.SKIPPED, duration_s=0.0, reason=text)
    _written(tmp_path, synthetic(skipped))


def test_control_characters_are_shown_not_dropped_and_colours_are_removed(tmp_path: Path) -> None:
    bad = CheckResult(name="c", tier="nd", status=Status.FAILED, duration_s=1.0,
                      cause=Cause("t.py::a", "t.py:1", "boom\x00\x1b[1;31mred\x1b[0m\ttab", "line1\nline2\x08"))
    failure = next(_written(tmp_path, for_check(bad, PASSING)).iter("failure"))
    assert failure.get("message") == "boom\\x00red\ttab"
    assert failure.text == "line1\nline2\\x08"


def test_the_banner_reads_as_its_words() -> None:
    clean = xml_safe(BANNER)
    assert "\x1b" not in clean
    assert "LiteLLM: Proxy initialized with Config, Set models:" in clean
    assert "[1;37m" not in clean
