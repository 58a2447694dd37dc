"""JUnit for CI tools, written from bed's records: one case per test, never green for a NOT READY check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bed.model.evidence import CollectSkip, TestOutcome
from bed.model.results import Cause, CheckResult, Status
from bed.report.junit import clean, for_check, split
from bed.report.writers import write_text

FAILED = CheckResult(name="all_smokes_core", tier="deterministic", status=Status.FAILED, duration_s=1.0,
                     cause=Cause("all_smokes_core", "", "the pytest session never finished", "tail line"))
PASSED = CheckResult(name="all_smokes_core", tier="deterministic", status=Status.PASSED, duration_s=1.0)
OK = TestOutcome("tests/test_a.py::TestK::test_ok[x]", "passed", "tests/test_a.py:7", "", 0.25,
                 properties={"turn_seconds": 1.5})
BAD = TestOutcome("tests/test_a.py::test_bad", "failed", "tests/test_a.py:12", "assert 1 == 2", 0.1,
                  longrepr="def test_bad():\n>       assert 1 == 2\nE       assert 1 == 2",
                  output=(("Captured stdout call", "hello"),))


def _parse(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - written by the code under test


def _cases(text: str) -> list[tuple[str, str]]:
    """(name, what it holds: failure / error / skipped / "")."""
    out = []
    for case in _parse(text).iter("testcase"):
        kind = next((c.tag for c in case if c.tag in ("failure", "error", "skipped")), "")
        out.append((case.get("name", ""), kind))
    return out


def test_every_test_is_a_case_named_like_pytest_names_it() -> None:
    failed = CheckResult(name="all_smokes_core", tier="deterministic", status=Status.FAILED, duration_s=1.0,
                         cause=Cause(BAD.nodeid, BAD.location, BAD.message))
    text = for_check(failed, (OK, BAD))
    root = _parse(text)
    suite = next(root.iter("testsuite"))
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == ("all_smokes_core", "2", "1")
    ok, bad = list(root.iter("testcase"))
    assert (ok.get("classname"), ok.get("name"), ok.get("file"), ok.get("line")) == \
        ("tests.test_a.TestK", "test_ok[x]", "tests/test_a.py", "7")
    assert ok.find("properties/property").attrib == {"name": "turn_seconds", "value": "1.5"}  # type: ignore[union-attr]
    failure = bad.find("failure")
    assert failure is not None
    assert failure.get("message") == "assert 1 == 2"
    assert "E       assert 1 == 2" in (failure.text or "")
    assert "hello" in (bad.findtext("system-out") or "")


def test_a_failed_check_never_leaves_a_green_junit() -> None:
    out = for_check(FAILED, (OK,))
    assert _cases(out) == [("test_ok[x]", ""), ("verdict", "failure")]
    assert 'failures="1"' in out
    assert "the pytest session never finished" in out


def test_a_check_with_no_test_still_says_what_it_was() -> None:
    skipped = CheckResult(name="release_smokes", tier="release", status=Status.SKIPPED, duration_s=0.0,
                          reason="LIVE_PROVIDERS is not 1")
    assert _cases(for_check(skipped)) == [("release_smokes", "skipped")]
    assert _cases(for_check(FAILED)) == [("verdict", "failure")]
    assert _cases(for_check(PASSED)) == [("all_smokes_core", "")]


def test_flakes_pass_quarantined_failures_are_skipped_and_module_skips_are_cases() -> None:
    check = CheckResult(name="all_smokes_nd", tier="nd", status=Status.PASSED, duration_s=1.0,
                        flaky=(BAD.nodeid,))
    assert _cases(for_check(check, (BAD,))) == [("test_bad", "")]
    held = CheckResult(name="all_smokes_nd", tier="nd", status=Status.PASSED, duration_s=1.0,
                       quarantined=(BAD.nodeid,))
    assert _cases(for_check(held, (BAD,))) == [("test_bad", "skipped")]
    skip = CollectSkip("tests/test_m.py", "tests/test_m.py:3", "could not import 'x'", ("nd",))
    assert _cases(for_check(check, (), (skip,))) == [("test_m.py", "skipped")]


@pytest.mark.parametrize("char", [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]]
                         + ["\ud800", "\udcff", "\ufffe"])
def test_any_control_character_or_lone_surrogate_still_makes_valid_xml(char: str) -> None:
    text = f"before{char}after \x1b[31mred\x1b[0m"
    test = TestOutcome(f"t.py::test[{char}]", "failed", "t.py:1", text, 0.0, longrepr=text,
                       output=(("Captured stdout call", text),), properties={"p": text})
    check = CheckResult(name="c", tier="nd", status=Status.FAILED, duration_s=0.0, cause=Cause("t", "", text, text))
    for out in (for_check(check, (test,)), for_check(check)):
        _parse(out.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))  # parses: valid XML 1.0
        assert "\x1b" not in out
        assert "red" in out


def test_clean_keeps_what_xml_can_hold_and_shows_the_rest() -> None:
    assert clean("tab\tnewline\nok é €") == "tab\tnewline\nok é €"
    assert clean("a\x00b\x1b[1mc\x1b[0m") == "a\\x00bc"
    assert split("a/b/test_c.py::TestD::test_e[1]") == ("a.b.test_c.TestD", "test_e[1]")
    assert split("a/test_m.py") == ("a.test_m", "test_m.py")


# --- text from outside, written to a file and parsed back as a CI tool reads it ---------------------------------------

BANNER = (Path(__file__).parent / "data" / "litellm_banner.txt").read_text()  # docker logs of LiteLLM 1.108.7's proxy
NASTY = [("LiteLLM's banner", BANNER), ("an OSC title and a bell", "\x1b]0;title\x07done \x07"),
         ("lone surrogates", "a \ud800 b \udfff c \udc80")]


def _written(tmp_path: Path, text: str) -> ET.Element:
    path = tmp_path / "all_smokes_core.xml"
    write_text(path, text, lambda s: s)
    return ET.fromstring(path.read_bytes())  # noqa: S314 - test data; expat refuses any character XML 1.0 forbids


@pytest.mark.parametrize(("what", "text"), NASTY, ids=[n[0] for n in NASTY])
def test_text_from_outside_never_makes_the_junit_file_invalid(tmp_path: Path, what: str, text: str) -> None:
    bad = CheckResult(name="all_smokes_core", tier="deterministic", status=Status.FAILED, duration_s=1.0,
                      reason=text, cause=Cause("t.py::test_a", "t.py:3", f"assert {text}", text))
    test = TestOutcome("t.py::test_a", "failed", "t.py:3", text, 0.0, longrepr=text, output=(("out", text),))
    for document in (for_check(bad), for_check(bad, (test,))):
        failure = next(_written(tmp_path, document).iter("failure"))
        assert "\x1b" not in (failure.text or "") + failure.get("message", "")


def test_the_banner_reads_as_its_words() -> None:
    assert "LiteLLM: Proxy initialized with Config, Set models:" in clean(BANNER)
    assert "[1;37m" not in clean(BANNER)
