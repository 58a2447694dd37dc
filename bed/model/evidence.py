"""A tier's evidence: the records bed's pytest plugin wrote, read back into typed facts.

Nothing here decides anything; ``bed.policy.verdict`` and ``bed.policy.census`` judge the
evidence. What does not fit the record format is kept as a problem (a test may print into the
file; bed does not trust it), and what contradicts itself is kept as a conflict: two processes
writing one session's records (a test forked a child that went on running pytest), records
lost from the middle of a session (a test removed the file), two different outcomes of one
phase of one test, two sessions where one was expected.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..runner import bed_contract as contract

PHASES = ("setup", "call", "teardown")
NO_TESTS = 5  # pytest's exit status when nothing was selected


@dataclasses.dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # a record of a test, not one for pytest to collect

    nodeid: str
    outcome: str  # passed, failed, error (setup/teardown), skipped, xfailed, incomplete (no teardown seen)
    location: str
    message: str
    duration_s: float
    longrepr: str = ""  # the failure's report, as pytest wrote it (bounded)
    output: tuple[tuple[str, str], ...] = ()  # captured sections of a failure ("Captured stdout call", text)
    properties: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # its record_property() pairs


@dataclasses.dataclass(frozen=True)
class CollectError:
    nodeid: str
    location: str
    message: str


@dataclasses.dataclass(frozen=True)
class CollectSkip:
    """A module or package skipped while it was collected: its tests never became items."""

    nodeid: str
    location: str
    message: str
    tiers: tuple[str, ...]  # the tier markers its source names


@dataclasses.dataclass(frozen=True)
class Item:
    """One collected test, as pytest's collectors made it (before any selection)."""

    nodeid: str
    tiers: tuple[str, ...]  # its tier markers
    unknown: tuple[str, ...] = ()  # its markers nobody registered (a typo of a tier marker?)


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
    selected_ids: tuple[str, ...] = ()
    deselected: Mapping[str, str] = dataclasses.field(default_factory=dict)  # node id -> why (DESELECTED_BY)


@dataclasses.dataclass(frozen=True)
class Evidence:
    started: bool
    exitstatus: int | None  # from the finish record; None: the session did not finish
    tests: dict[str, TestOutcome]
    collect_errors: tuple[CollectError, ...] = ()
    selection: Selection | None = None
    problems: tuple[str, ...] = ()
    python: str = ""  # the runner's Python, as the session saw it
    census: tuple[Item, ...] | None = None  # every collected test; None when no collection was recorded
    collect_skips: tuple[CollectSkip, ...] = ()
    conflicts: tuple[str, ...] = ()  # records that contradict each other
    hook_error: str = ""  # a sessionfinish hook of the suite raised
    lost: str = ""  # records missing from the middle or the start of a session: why bed thinks so

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


@dataclasses.dataclass
class _Session:
    """One session's records, as they came."""

    sid: str
    records: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("kind") == kind]

    def controller(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("worker") is None]


def parse(raw: bytes | None, sessions: int = 1) -> Evidence:
    """``sessions``: how many sessions wrote the file (a tier run in parts writes one each)."""
    if not raw:
        return NONE
    by_sid: dict[str, _Session] = {}
    problems: list[str] = []
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        record = _record(line)
        if record is None:
            problems.append(f"line {number} is not a record")
            continue
        by_sid.setdefault(str(record["sid"]), _Session(str(record["sid"]))).records.append(record)
    parsed = [_one(s) for s in by_sid.values()]
    conflicts = [c for p in parsed for c in p.conflicts]
    if len(parsed) > sessions:
        conflicts.append(f"records of {len(parsed)} sessions where {sessions} ran")
    return _joined(parsed, sessions, tuple(problems), tuple(conflicts))


def _record(line: str) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    ok = isinstance(record, dict) and record.get("kind") in contract.KINDS and isinstance(record.get("sid"), str) \
        and isinstance(record.get("pid"), int) and isinstance(record.get("seq"), int)
    return record if ok else None


def _one(session: _Session) -> Evidence:
    starts, finishes = session.of(contract.START), session.of(contract.FINISH)
    conflicts = _process_conflicts(session)
    if len(starts) > 1:
        conflicts.append(f"session {session.sid} started {len(starts)} times")
    if len(finishes) > 1:
        statuses = ", ".join(str(f.get("exitstatus")) for f in finishes)
        conflicts.append(f"session {session.sid} finished {len(finishes)} times (exit {statuses})")
    tests, test_conflicts = _tests(session.of(contract.TEST))
    finish = finishes[0] if finishes else {}
    return Evidence(
        started=bool(starts), exitstatus=_int(finish.get("exitstatus")) if finishes else None, tests=tests,
        collect_errors=_unique(CollectError(str(r.get("nodeid", "")), str(r.get("location", "")),
                                            str(r.get("message", ""))) for r in session.of(contract.COLLECT_ERROR)),
        selection=_selection(session.of(contract.SELECTION)), python=str((starts or [{}])[0].get("python", "")),
        census=_census(session.of(contract.COLLECTED)),
        collect_skips=_unique(CollectSkip(str(r.get("nodeid", "")), str(r.get("location", "")),
                                          str(r.get("message", "")), _strings(r.get("tiers")))
                              for r in session.of(contract.COLLECT_SKIP)),
        conflicts=(*conflicts, *test_conflicts), hook_error=str(finish.get("hook_error") or ""),
        lost=_lost(session))


def _process_conflicts(session: _Session) -> list[str]:
    """Every record of the process that reports outcomes comes from one pid; each worker is one pid."""
    out = []
    pids = list(dict.fromkeys(r["pid"] for r in session.controller()))
    if len(pids) > 1:
        second = next(r for r in session.controller() if r["pid"] == pids[1])
        what = f" ({second.get('nodeid')})" if second.get("nodeid") else ""
        out.append(f"{len(pids)} processes wrote session {session.sid}'s records: process {pids[1]} began with "
                   f"a '{second.get('kind')}' record{what} (a test forked a process that went on running pytest?)")
    workers: dict[str, set[int]] = {}
    for r in session.records:
        if r.get("worker") is not None:
            workers.setdefault(str(r["worker"]), set()).add(r["pid"])
    out += [f"xdist worker {w} of session {session.sid} wrote from {len(p)} processes"
            for w, p in workers.items() if len(p) > 1]
    return out


def _lost(session: _Session) -> str:
    """Records of the reporting process missing from its sequence: the file was removed or truncated."""
    mine = session.controller()
    seqs = sorted(r["seq"] for r in mine if r["pid"] == mine[0]["pid"]) if mine else []
    if seqs and seqs[0] != 1:
        return f"the first {seqs[0] - 1} record(s) of session {session.sid} are missing " \
               "(a test removed or truncated the records file?)"
    gaps = [b for a, b in itertools.pairwise(seqs) if b != a + 1]
    if gaps:
        return f"records of session {session.sid} are missing before its record {gaps[0]} " \
               "(a test removed or truncated the records file?)"
    return ""


def _tests(records: list[dict[str, Any]]) -> tuple[dict[str, TestOutcome], list[str]]:
    phases: dict[str, dict[str, dict[str, Any]]] = {}
    conflicts = []
    for record in records:
        if record.get("outcome") == "rerun":  # pytest-rerunfailures: an attempt before the last
            continue
        nodeid, phase = str(record.get("nodeid", "")), str(record.get("phase", ""))
        seen = phases.setdefault(nodeid, {})
        if phase in seen and seen[phase].get("outcome") != record.get("outcome"):
            conflicts.append(f"{nodeid} has two {phase} outcomes ({seen[phase].get('outcome')}, "
                             f"{record.get('outcome')})")
        seen[phase] = record
    return {nodeid: _outcome(nodeid, seen) for nodeid, seen in phases.items()}, conflicts


def _outcome(nodeid: str, seen: dict[str, dict[str, Any]]) -> TestOutcome:
    """One test's outcome from its phases, the way pytest's summary counts it."""
    duration = sum(float(r.get("duration") or 0) for r in seen.values())
    properties = _properties(seen.values())
    failing = _phase_with(seen, PHASES, "failed")
    if failing is not None:
        output = tuple((str(k), str(v)) for k, v in (failing.get("output") or {}).items())
        return _from(nodeid, "failed" if failing.get("phase") == "call" else "error", failing, duration,
                     properties, longrepr=str(failing.get("longrepr") or ""), output=output)
    skipping = _phase_with(seen, ("setup", "call"), "skipped")
    if skipping is not None:
        return _from(nodeid, "xfailed" if skipping.get("xfail") else "skipped", skipping, duration, properties)
    if "teardown" not in seen or "call" not in seen:
        # It started and never ended: the process died inside it (os._exit, a signal, the OOM killer).
        last = {**(seen.get("call") or seen.get("setup") or {}),
                "message": "started but never finished: the test process ended inside it"}
        return _from(nodeid, "incomplete", last, duration, properties)
    return _from(nodeid, "passed", {**seen["call"], "message": ""}, duration, properties)


def _properties(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The test's record_property() pairs, as its last recorded phase had them (they only grow)."""
    out: dict[str, Any] = {}
    for record in records:
        found = record.get("properties")
        if isinstance(found, dict):
            out.update(found)
    return out


def _phase_with(seen: dict[str, dict[str, Any]], phases: Sequence[str], outcome: str) -> dict[str, Any] | None:
    return next((seen[p] for p in phases if p in seen and seen[p].get("outcome") == outcome), None)


def _from(nodeid: str, outcome: str, record: dict[str, Any], duration: float, properties: Mapping[str, Any],
          **more: Any) -> TestOutcome:
    return TestOutcome(nodeid, outcome, str(record.get("location", "")), str(record.get("message", "")), duration,
                       properties=properties, **more)


def _census(records: list[dict[str, Any]]) -> tuple[Item, ...] | None:
    """Every collected item; xdist workers each collect the same ones (xdist checks that)."""
    if not records:
        return None
    items = records[0].get("items")
    if not isinstance(items, list):
        return ()
    return tuple(Item(str(i.get("nodeid", "")), _strings(i.get("tiers")), _strings(i.get("unknown")))
                 for i in items if isinstance(i, dict))


def _selection(records: list[dict[str, Any]]) -> Selection | None:
    """One selection; xdist workers each write one, and they collect the same tests."""
    if not records:
        return None
    first = max(records, key=lambda r: _int(r.get("collected")) or 0)
    counts = first.get("deselected") or {}
    ids = first.get("deselected_ids") or {}
    deselected = {str(n): str(why) for why in contract.DESELECTED_BY for n in _strings(ids.get(why))}
    return Selection(
        collected=_int(first.get("collected")) or 0,
        selected=_int(first.get("selected")) or 0,
        tier_marked=_int(first.get("tier_marked")),
        unmarked=_strings(first.get("unmarked")),
        by_options=_int(counts.get("options")) or 0,
        by_tier=_int(counts.get("tier")) or 0,
        by_select=_int(counts.get("select")) or 0,
        by_shard=_int(counts.get("shard")) or 0,
        missing=_strings(first.get("missing")),
        selected_ids=_strings(first.get("selected_ids")),
        deselected=deselected,
    )


# --- a tier run in parts: one evidence -------------------------------------------------------------


def _joined(parts: Sequence[Evidence], sessions: int, problems: tuple[str, ...],
            conflicts: tuple[str, ...]) -> Evidence:
    """The parts of one tier (each a session over its share), as one session would have left it:
    started and finished only when every part did; one census; the shares' selections summed."""
    if not parts:
        return dataclasses.replace(NONE, problems=problems)
    if len(parts) == 1 and sessions == 1:
        return dataclasses.replace(parts[0], problems=problems, conflicts=conflicts)
    tests, clash = _join_tests(parts)
    censuses = {p.census for p in parts if p.census is not None}
    if len(censuses) > 1:
        clash.append("the parts of the tier collected different tests")
    complete = len(parts) == sessions
    statuses = [p.exitstatus for p in parts]
    joined = Evidence(
        started=complete and all(p.started for p in parts),
        exitstatus=_join_exit(statuses) if complete and None not in statuses else None, tests=tests,
        selection=_join_selection([p.selection for p in parts if p.selection is not None]), problems=problems,
        census=next(iter(censuses), None), conflicts=(*conflicts, *clash))
    return dataclasses.replace(joined, **_join_details(parts))


def _join_details(parts: Sequence[Evidence]) -> dict[str, Any]:
    """What any part found: its collection's errors and skips, the Python, a hook's error, lost records."""
    return {"collect_errors": _unique(e for p in parts for e in p.collect_errors),
            "collect_skips": _unique(s for p in parts for s in p.collect_skips),
            "python": _first(p.python for p in parts), "hook_error": _first(p.hook_error for p in parts),
            "lost": _first(p.lost for p in parts)}


def _join_tests(parts: Sequence[Evidence]) -> tuple[dict[str, TestOutcome], list[str]]:
    tests: dict[str, TestOutcome] = {}
    clash = []
    for part in parts:
        for nodeid, outcome in part.tests.items():
            if nodeid in tests:
                clash.append(f"{nodeid} ran in two parts of the tier")
            tests[nodeid] = outcome
    return tests, clash


def _first(texts: Iterable[str]) -> str:
    return next((t for t in texts if t), "")


def _join_exit(statuses: Sequence[int | None]) -> int | None:
    """The worst part's status, a part whose share was empty aside."""
    meaningful = [s for s in statuses if s is not None and s != NO_TESTS]
    return max(meaningful) if meaningful else NO_TESTS


def _join_selection(parts: Sequence[Selection]) -> Selection | None:
    """The parts collected the same tests and split them: their shares add up, none is left out."""
    if not parts:
        return None
    widest = max(parts, key=lambda p: p.collected)
    selected = tuple(dict.fromkeys(n for p in parts for n in p.selected_ids))
    chosen = set(selected)
    deselected = {n: why for p in parts for n, why in p.deselected.items() if n not in chosen}
    return dataclasses.replace(widest, selected=sum(p.selected for p in parts), by_shard=0, selected_ids=selected,
                               deselected=deselected)


def _unique(items: Iterable[Any]) -> tuple[Any, ...]:
    first: dict[str, Any] = {}
    for item in items:
        first.setdefault(item.nodeid, item)
    return tuple(first.values())


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(x) for x in value) if isinstance(value, list) else ()


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return None
