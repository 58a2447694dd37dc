"""JUnit per check, for CI tools. It is an output only: ids and outcomes come from bed's records.

The runner's own JUnit (pytest's, with tracebacks) is kept when it tells the truth. When the
check failed for a reason pytest's file does not show (the session never finished, the evidence
disagreed, a budget ran out), a ``bed::verdict`` case with the cause is added, so a CI tool that
reads only JUnit cannot show green for a run bed judged NOT READY.

Whatever bed itself puts into the XML (a cause, a log tail, a name) goes through
``bed.text.xml_safe`` first: a log tail carries ANSI colours (LiteLLM's banner) and any control
character a test printed, and one of those made the whole file invalid XML exactly when a check
failed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import xml.sax.saxutils as saxutils

from ..text import xml_safe
from .results import CheckResult, Status


def for_check(check: CheckResult, runner_junit: str | None) -> str:
    if runner_junit is None:
        return synthetic(check)
    try:
        root = ET.fromstring(runner_junit)  # noqa: S314 - pytest output from bed's runner; expat bounds entity expansion
    except ET.ParseError:
        return synthetic(check, note="the runner's JUnit was not XML; bed wrote this one instead")
    failed = check.status in (Status.FAILED, Status.ERROR)
    shows_failure = any(case.find("failure") is not None or case.find("error") is not None
                        for case in root.iter("testcase"))
    if not failed or shows_failure:
        return runner_junit
    suite = root if root.tag == "testsuite" else next(root.iter("testsuite"), None)
    if suite is None:
        return synthetic(check)
    case = ET.SubElement(suite, "testcase", classname="bed", name="verdict", time="0")
    cause = check.cause.message if check.cause else check.reason
    failure = ET.SubElement(case, "failure", message=xml_safe(cause or check.status.value))
    failure.text = xml_safe(check.cause.log_tail) if check.cause else ""
    suite.set("failures", str(int(suite.get("failures", "0") or 0) + 1))
    suite.set("tests", str(int(suite.get("tests", "0") or 0) + 1))
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def synthetic(check: CheckResult, note: str = "") -> str:
    """A JUnit document for a check whose runner left none (skipped, or errored before)."""
    name = saxutils.quoteattr(xml_safe(check.name))
    reason = saxutils.quoteattr(xml_safe(check.reason or check.status.value))
    if check.status is Status.SKIPPED:
        body, failures, skipped = f"<skipped message={reason}/>", 0, 1
    elif check.status is Status.PASSED:
        body, failures, skipped = "", 0, 0
    else:
        message = saxutils.quoteattr(xml_safe(check.cause.message if check.cause else check.reason))
        tail = check.cause.log_tail if check.cause else ""
        detail = saxutils.escape(xml_safe("\n".join(x for x in (note, tail) if x)))
        body, failures, skipped = f"<failure message={message}>{detail}</failure>", 1, 0
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<testsuites><testsuite name={name} tests="1" failures="{failures}" errors="0" skipped="{skipped}" '
        f'time="{check.duration_s}"><testcase classname="bed" name={name} time="{check.duration_s}">'
        f"{body}</testcase></testsuite></testsuites>\n"
    )
