"""A tier's evidence: the records bed's pytest plugin wrote, read back into typed facts.

Nothing here decides anything; ``bed.policy.verdict`` judges the evidence. A line that is
not a record is kept as a problem (a test may print into the file; bed does not trust it).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

PHASES = ("setup", "call", "teardown")


@dataclasses.dataclass(frozen=True)
class TestOutcome:
    nodeid: str
    outcome: str  # passed, failed, error (setup/teardown), skipped, xfailed, incomplete (no teardown seen)
    location: str
    message: str
    duration_s: float
    properties: dict[str, Any] = dataclasses.field(default_factory=dict)  # the test's own user properties


@dataclasses.dataclass(frozen=True)
class CollectError:
    nodeid: str
    location: str
    message: str


@dataclasses.dataclass(frozen=True)
class Selection:
    collected: int
    selected: int
    tier_marked: int | None  # a project suite: tests marked for this tier (None: bed's own tiers)
    unmarked: tuple[str, ...]  # a project suite: tests with no tier marker at all
    by_options: int  # deselected by -k / -m / --deselect (PYTEST_ADDOPTS)
    by_tier: int
    by_select: int
    by_shard: int
    missing: tuple[str, ...]  # ids asked for (a re-run) that were not collected


@dataclasses.dataclass(frozen=True)
class Evidence:
    started: bool
    exitstatus: int | None  # from the finish record; None: the session did not finish
    tests: dict[str, TestOutcome]
    collect_errors: tuple[CollectError, ...] = ()
    selection: Selection | None = None
    problems: tuple[str, ...] = ()
    python: str = ""  # the runner's Python, as the session saw it

    @property
    def finished(self) -> bool:
        return self.exitstatus is not None

    @property
    def failed(self) -> tuple[str, ...]:
        """Every test that failed or errored (or never finished), in the order they ran."""
        return tuple(n for n, t in self.tests.items() if t.outcome in ("failed", "error", "incomplete"))

    @property
    def passed(self) -> tuple[str, ...]:
        return tuple(n for n, t in self.tests.items() if t.outcome in ("passed", "xfailed"))

    @property
    def skipped(self) -> tuple[tuple[str, str], ...]:
        return tuple((n, t.message) for n, t in self.tests.items() if t.outcome == "skipped")

    @property
    def durations(self) -> dict[str, float]:
        return {n: t.duration_s for n, t in self.tests.items()}


NONE = Evidence(started=False, exitstatus=None, tests={})


def parse(raw: bytes | None) -> Evidence:
    if not raw:
        return NONE
    phases: dict[str, dict[str, dict[str, Any]]] = {}
    collect_errors: list[CollectError] = []
    selections: list[dict[str, Any]] = []
    problems: list[str] = []
    started = False
    python = ""
    exitstatus: int | None = None
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            kind = record["kind"]
        except (ValueError, TypeError, KeyError):
            problems.append(f"line {number} is not a record")
            continue
        if kind == "start":
            started = True
            python = str(record.get("python", ""))
        elif kind == "finish":
            exitstatus = _int(record.get("exitstatus"))
        elif kind == "collect_error":
            collect_errors.append(CollectError(str(record.get("nodeid", "")), str(record.get("location", "")),
                                               str(record.get("message", ""))))
        elif kind == "selection":
            selections.append(record)
        elif kind == "test":
            phases.setdefault(str(record.get("nodeid", "")), {})[str(record.get("phase", ""))] = record
    tests = {nodeid: _outcome(nodeid, seen) for nodeid, seen in phases.items()}
    return Evidence(started, exitstatus, tests, _unique(collect_errors), _selection(selections), tuple(problems),
                    python)


def _outcome(nodeid: str, seen: dict[str, dict[str, Any]]) -> TestOutcome:
    """One test's outcome from its phases, the way pytest's summary counts it."""
    failing = next((seen[p] for p in PHASES if p in seen and seen[p].get("outcome") == "failed"), None)
    skipping = next((seen[p] for p in ("setup", "call") if p in seen and seen[p].get("outcome") == "skipped"), None)
    duration = sum(float(r.get("duration") or 0) for r in seen.values())
    properties = _properties(seen)
    if failing is not None:
        outcome = "failed" if failing.get("phase") == "call" else "error"
        return TestOutcome(nodeid, outcome, str(failing.get("location", "")), str(failing.get("message", "")),
                           duration, properties)
    if skipping is not None:
        outcome = "xfailed" if skipping.get("xfail") else "skipped"
        return TestOutcome(nodeid, outcome, str(skipping.get("location", "")), str(skipping.get("message", "")),
                           duration, properties)
    if "teardown" not in seen or "call" not in seen:
        # It started and never ended: the process died inside it (os._exit, a signal, the OOM killer).
        last = seen.get("call") or seen.get("setup") or {}
        return TestOutcome(nodeid, "incomplete", str(last.get("location", "")),
                           "started but never finished: the test process ended inside it", duration, properties)
    call = seen["call"]
    return TestOutcome(nodeid, "passed", str(call.get("location", "")), "", duration, properties)


def _properties(seen: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The test's user properties as its last recorded phase had them (they only grow)."""
    out: dict[str, Any] = {}
    for phase in PHASES:
        found = (seen.get(phase) or {}).get("properties")
        if isinstance(found, dict):
            out.update(found)
    return out


def _selection(records: list[dict[str, Any]]) -> Selection | None:
    """One selection; xdist workers each write one, and they collect the same tests."""
    if not records:
        return None
    first = max(records, key=lambda r: _int(r.get("collected")) or 0)
    deselected = first.get("deselected") or {}
    return Selection(
        collected=_int(first.get("collected")) or 0,
        selected=_int(first.get("selected")) or 0,
        tier_marked=_int(first.get("tier_marked")),
        unmarked=tuple(str(x) for x in first.get("unmarked") or ()),
        by_options=_int(deselected.get("options")) or 0,
        by_tier=_int(deselected.get("tier")) or 0,
        by_select=_int(deselected.get("select")) or 0,
        by_shard=_int(deselected.get("shard")) or 0,
        missing=tuple(str(x) for x in first.get("missing") or ()),
    )


def _unique(errors: list[CollectError]) -> tuple[CollectError, ...]:
    first: dict[str, CollectError] = {}
    for error in errors:
        first.setdefault(error.nodeid, error)
    return tuple(first.values())


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return None
