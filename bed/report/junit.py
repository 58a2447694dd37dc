"""JUnit per check, for CI tools, written from bed's own records (never from pytest's JUnit file,
which crashes on a folder whose name is not UTF-8 and can disagree with what bed judged).

One ``testcase`` per test (pytest's node id split into classname and name, its file and line,
its outcome with message, report and captured output, its ``record_property`` pairs), one per
module skipped at import, and a ``bed::verdict`` case with the cause whenever the check failed
for a reason no test case shows (the session never finished, the records disagree, a budget ran
out), so a CI tool that reads only JUnit can never show green for a run bed judged NOT READY.
Every text goes through ``bed.text.xml_safe`` first: a log tail carries ANSI colours (LiteLLM's
banner) and any control character a test printed; one of those made the file invalid XML.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from ..model.evidence import CollectSkip, TestOutcome
from ..model.results import CheckResult, Status
from ..text import xml_safe

FAILED = {"failed": "failure", "incomplete": "failure", "error": "error"}
clean = xml_safe  # every text bed puts into the XML


def for_check(check: CheckResult, tests: Sequence[TestOutcome] = (),
              module_skips: Sequence[CollectSkip] = ()) -> str:
    root = ET.Element("testsuites")
    suite = ET.SubElement(root, "testsuite", name=clean(check.name), time=f"{check.duration_s:.3f}")
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for test in tests:
        _case(suite, _as_judged(test, check), counts)
    for skip in module_skips:
        case = _element(suite, skip.nodeid, skip.location, 0.0, counts)
        ET.SubElement(case, "skipped", message=clean(f"skipped at import: {skip.message}"))
        counts["skipped"] += 1
    if counts["failures"] + counts["errors"] == 0 or check.status not in (Status.FAILED, Status.ERROR):
        _check_case(suite, check, counts, empty=not tests and not module_skips)
    for key, value in counts.items():
        suite.set(key, str(value))
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _check_case(suite: ET.Element, check: CheckResult, counts: dict[str, int], *, empty: bool) -> None:
    """The check itself as a case: its cause when it failed for a reason no test case shows; when no
    test ran, what it was (skipped, or a pass with nothing behind it)."""
    if check.status in (Status.FAILED, Status.ERROR):
        case = ET.SubElement(suite, "testcase", classname="bed", name="verdict", time="0")
        message = check.cause.message if check.cause else check.reason or check.status.value
        failure = ET.SubElement(case, "failure", message=clean(message))
        failure.text = clean(check.cause.log_tail if check.cause else "")
        counts["failures"] += 1
    elif not empty:
        return
    else:
        case = ET.SubElement(suite, "testcase", classname="bed", name=clean(check.name), time="0")
        if check.status is Status.SKIPPED:
            ET.SubElement(case, "skipped", message=clean(check.reason or "skipped"))
            counts["skipped"] += 1
    counts["tests"] += 1


def _as_judged(test: TestOutcome, check: CheckResult) -> TestOutcome:
    """A flaky test passed on its re-run, and a quarantined failure does not gate: JUnit says so, so a
    READY run never shows a red case."""
    if test.nodeid in check.flaky:
        return TestOutcome(test.nodeid, "passed", test.location, "", test.duration_s,
                           properties={**test.properties, "bed": f"flaky: {test.message}"[:500]})
    if test.nodeid in check.quarantined:
        return TestOutcome(test.nodeid, "skipped", test.location, f"quarantined, does not gate: {test.message}",
                           test.duration_s, properties=test.properties)
    return test


def _case(suite: ET.Element, test: TestOutcome, counts: dict[str, int]) -> None:
    case = _element(suite, test.nodeid, test.location, test.duration_s, counts)
    if test.properties:
        props = ET.SubElement(case, "properties")
        for name, value in test.properties.items():
            ET.SubElement(props, "property", name=clean(str(name)), value=clean(str(value)))
    tag = FAILED.get(test.outcome)
    if tag is not None:
        counts["failures" if tag == "failure" else "errors"] += 1
        element = ET.SubElement(case, tag, message=clean(test.message or test.outcome))
        element.text = clean(test.longrepr or test.message)
        if test.output:
            out = ET.SubElement(case, "system-out")
            out.text = clean("\n".join(f"--- {name} ---\n{text}" for name, text in test.output))
    elif test.outcome == "skipped":
        counts["skipped"] += 1
        ET.SubElement(case, "skipped", message=clean(test.message))


def _element(suite: ET.Element, nodeid: str, location: str, duration: float, counts: dict[str, int]) -> ET.Element:
    counts["tests"] += 1
    classname, name = split(nodeid)
    file, _, line = location.rpartition(":")
    attributes = {"classname": clean(classname), "name": clean(name), "time": f"{duration:.3f}"}
    if file and line.isdigit():
        attributes |= {"file": clean(file), "line": line}
    return ET.SubElement(suite, "testcase", attributes)


def split(nodeid: str) -> tuple[str, str]:
    """pytest's node id as JUnit's (classname, name): ``a/test_b.py::TestC::test_d[x]`` ->
    (``a.test_b.TestC``, ``test_d[x]``), the way pytest's own JUnit writer names them."""
    path, *rest = nodeid.split("::")
    module = path.removesuffix(".py").replace("/", ".")
    if not rest:
        return module, path.rsplit("/", 1)[-1]
    return ".".join([module, *rest[:-1]]), rest[-1]
