"""A tier split into parts that run at once, joined back into what one session would have left.

On a kept stack each part is a session of the same tier forked in the same warm runner, with
``BED_SHARD=I/N``: bed's plugin keeps that part's share of the tests (balanced by recorded
durations), so the parts together run every test exactly once. The join is strict: it has one
start and one finish record only when every part has them (one part that crashed makes the
whole tier a crash), every test record, and one selection that sums the parts'.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

NO_TESTS = 5  # pytest's exit status when a part's share was empty


def join_exit(codes: Sequence[int | None]) -> int | None:
    """None when any part did not end (its budget); else the worst part's, an empty share aside."""
    if any(code is None for code in codes):
        return None
    meaningful = [code for code in codes if code is not None and code != NO_TESTS]
    return max(meaningful) if meaningful else NO_TESTS


def join_records(parts: Sequence[bytes | None]) -> bytes | None:
    starts: list[str] = []
    finishes: list[int | None] = []
    selections: list[dict[str, Any]] = []
    body: list[str] = []
    for raw in parts:
        for line in (raw or b"").decode("utf-8", "replace").splitlines():
            record = _record(line)
            kind = record.get("kind")
            if kind == "start":
                starts.append(line)
            elif kind == "finish":
                finishes.append(_exitstatus(record))
            elif kind == "selection":
                selections.append(record)
            elif line.strip():
                body.append(line)  # tests, collection errors, and anything that is not a record
    if not any(parts):
        return None
    out = starts[:1] if len(starts) == len(parts) else []
    if selections:
        out.append(json.dumps(_selection(selections)))
    out += body
    if len(finishes) == len(parts):
        out.append(json.dumps({"kind": "finish", "exitstatus": join_exit(finishes)}))
    return ("\n".join(out) + "\n").encode()


def _record(line: str) -> dict[str, Any]:
    """The line's record; {} when it is not one."""
    try:
        record = json.loads(line)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _exitstatus(record: dict[str, Any]) -> int | None:
    status = record.get("exitstatus")
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def _selection(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The parts collected the same tests and split them: their shares add up, none is left out."""
    widest: dict[str, Any] = max(parts, key=lambda p: int(p.get("collected") or 0))
    joined = dict(widest)
    joined["selected"] = sum(int(p.get("selected") or 0) for p in parts)
    joined["deselected"] = {**(joined.get("deselected") or {}), "shard": 0}
    return joined


def join_junit(documents: Sequence[str | None]) -> str | None:
    """One JUnit document holding every part's test cases (the first part's suite, summed);
    the first document as it is when none holds a suite."""
    parsed = []  # (the document's root, its suite)
    for text in filter(None, documents):
        try:
            root = ET.fromstring(text)  # noqa: S314 - pytest output from bed's runner
        except ET.ParseError:
            continue
        suite = root if root.tag == "testsuite" else next(root.iter("testsuite"), None)
        if suite is not None:
            parsed.append((root, suite))
    if not parsed:
        return next((d for d in documents if d is not None), None)
    (top, base), *others = parsed
    for _, suite in others:
        for case in suite.findall("testcase"):
            base.append(case)
        for field in ("tests", "failures", "errors", "skipped"):
            base.set(field, str(int(base.get(field, "0") or 0) + int(suite.get(field, "0") or 0)))
        base.set("time", f"{max(float(base.get('time', '0') or 0), float(suite.get('time', '0') or 0)):.3f}")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="unicode") + "\n"
