"""Reading pytest's JUnit XML: counts, and the first failing test as a Cause."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

from ._results import Cause


@dataclasses.dataclass(frozen=True)
class JUnitSummary:
    tests: int
    failures: int
    skipped: int
    first_failure: Cause | None
    skips: tuple[tuple[str, str], ...]  # (nodeid, reason)
    times: dict[str, float]  # nodeid -> seconds
    failed: tuple[str, ...] = ()  # every failing nodeid, in order


def parse(xml_text: str) -> JUnitSummary:
    root = ET.fromstring(xml_text)  # noqa: S314 - see import
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = failures = skipped = 0
    first: Cause | None = None
    skips: list[tuple[str, str]] = []
    times: dict[str, float] = {}
    failed: list[str] = []
    for suite in suites:
        for case in suite.iter("testcase"):
            tests += 1
            nodeid = _nodeid(case)
            times[nodeid] = float(case.get("time") or 0)
            bad = case.find("failure")
            if bad is None:
                bad = case.find("error")
            if bad is not None:
                failures += 1
                failed.append(nodeid)
                if first is None:
                    first = Cause(nodeid=nodeid, location=_location(case, bad.text or ""),
                                  message=_message(bad.get("message") or bad.text or ""))
            skip = case.find("skipped")
            if skip is not None:
                skipped += 1
                skips.append((nodeid, _first_line(skip.get("message") or skip.text or "")))
    return JUnitSummary(tests, failures, skipped, first, tuple(skips), times, tuple(failed))


def _nodeid(case: ET.Element) -> str:
    classname, name = case.get("classname", ""), case.get("name", "")
    parts = classname.split(".")
    # pytest writes "pkg.test_mod.TestClass"; the file is the part named test_*.
    for i, part in enumerate(parts):
        if part.startswith("test_") or part.endswith("_test"):
            path = "/".join(parts[: i + 1]) + ".py"
            rest = parts[i + 1 :]
            return "::".join([path, *rest, name])
    return f"{classname}::{name}" if classname else name


def _location(case: ET.Element, text: str) -> str:
    """file:line of the failing line in the test's own file (not deep inside a library)."""
    file, line = case.get("file"), case.get("line")
    frames = []
    for raw in text.splitlines():
        head = raw.strip().split(": ", 1)[0].split(" ", 1)[0]
        if ".py:" in head and head.rsplit(":", 1)[-1].isdigit():
            frames.append(head)
    own = [f for f in frames if file and f.startswith(file + ":")]
    if own:
        return own[-1]
    if file and line:
        return f"{file}:{int(line) + 1}"
    return frames[-1] if frames else ""


def _message(text: str) -> str:
    """The assertion's message: its first lines, joined, so "did not match" shows what did."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(lines[:4])[:400]


def _first_line(text: str) -> str:
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()[:300]
    return ""
