"""The census: every test the suite holds, accounted for after the tiers ran.

READY needs positive evidence, so absence is not enough: each collected node id must have a
fate bed can name. A test ran (passed, failed, skipped, xfailed, flaky), or was deselected for a
reason bed can name (a tier marker of a tier this run does not run, a shard, a re-run's exact
ids, the user's own -k/-m), or carries no tier marker (named; the deploy gate fails on it).
Anything else is unaccounted for and the census check fails naming the ids: a test a tier
selected and never ran, one a hook dropped without saying so, one that only some sessions
collected. A run in which no test ran is never READY (nothing was tested), nor one in which none passed.

The reference is the census session (a project's suite, collected by plain pytest in the runner
before the tiers), or for bed's own tiers each tier session's own collection.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from ..model.census import Account, Fate
from ..model.evidence import Evidence, Item
from ..model.results import Cause, CheckResult, Status

CHECK = "census"
TIER = "census"
SHOWN = 50  # ids listed per kind in the report
RAN = {"passed": "passed", "xfailed": "passed", "failed": "failed", "error": "failed", "incomplete": "failed",
       "skipped": "skipped"}
DESELECTED = {"options": "deselected by your -k/-m/--deselect", "select": "not among the ids asked for",
              "shard": "in another shard"}


@dataclasses.dataclass(frozen=True)
class Session:
    """One tier's first session: its evidence, and whether it is in this run at all."""

    tier: str
    evidence: Evidence
    flaky: frozenset[str] = frozenset()


def account(reference: Sequence[Item] | None, sessions: Mapping[str, Session], *, suite: bool,
            run_tiers: Sequence[str]) -> Account:
    """Each collected test's fate. ``reference``: the census session's items (a project's suite);
    None: bed's own tiers, each collected by its own session."""
    items = [(i, "") for i in reference] if reference is not None else _own_items(sessions)
    fates: list[Fate] = []
    for item, tier in items:
        tiers = item.tiers if suite else ((tier,) if tier else ())
        if not tiers:
            fates.append(Fate(item.nodeid, "unmarked", "carries no tier marker, so no tier runs it", item.unknown))
            continue
        for name in tiers:
            fates.append(_fate(item, name, sessions, run_tiers))
    known = {item.nodeid for item, _ in items}
    for name, session in sessions.items():
        extra = [i.nodeid for i in session.evidence.census or () if i.nodeid not in known]
        fates += [Fate(n, "unaccounted", f"collected by the {name} tier's session, not by the census")
                  for n in extra]
    return Account(collected=len(known), fates=tuple(fates))


def _own_items(sessions: Mapping[str, Session]) -> list[tuple[Item, str]]:
    return [(item, name) for name, s in sessions.items() for item in s.evidence.census or ()]


def _fate(item: Item, tier: str, sessions: Mapping[str, Session], run_tiers: Sequence[str]) -> Fate:
    def fate(kind: str, why: str) -> Fate:
        return Fate(item.nodeid, kind, why, item.unknown, tier)

    if tier not in run_tiers:
        return fate("not_in_run", f"marked {tier}, a tier this run does not run")
    session = sessions.get(tier)
    if session is None or not session.evidence.started or not session.evidence.finished:
        return fate("tier_ended", f"the {tier} tier's session ended before it could run")
    ev = session.evidence
    if item.nodeid in ev.tests:
        outcome = ev.tests[item.nodeid].outcome
        return fate("flaky" if item.nodeid in session.flaky else RAN.get(outcome, "unaccounted"), outcome)
    why = _why_out(item.nodeid, ev)
    if why in DESELECTED:
        return fate("deselected", DESELECTED[why])
    return fate("unaccounted", _lost(item.nodeid, tier, ev))


def _why_out(nodeid: str, ev: Evidence) -> str | None:
    """Why the tier's session did not run it, as bed's plugin recorded it (None when it did not say)."""
    return ev.selection.deselected.get(nodeid) if ev.selection is not None else None


def _lost(nodeid: str, tier: str, ev: Evidence) -> str:
    """What bed can say of a collected test that neither ran nor was deselected for a reason it knows."""
    if ev.census is not None and nodeid not in {i.nodeid for i in ev.census}:
        return f"the census collected it, the {tier} tier's session did not"
    if ev.selection is not None and nodeid in ev.selection.selected_ids:
        return f"selected in the {tier} tier, yet it never ran"
    if _why_out(nodeid, ev) == "tier":
        return f"marked {tier}, yet the {tier} tier deselected it"
    return (f"collected in the {tier} tier, then dropped without a reason (a collection hook removed it without "
            "pytest_deselected?)")


def judge(account_: Account, *, strict: bool, required: bool = True, tiers_failed: bool = False) -> CheckResult:
    """The census as a check: it fails on anything unaccounted for, on a run in which nothing was
    tested (or nothing passed, when no tier's check says why), and, under STRICT (the deploy gate),
    on tests no tier runs. ``tiers_failed``: a tier's check failed already (it names its tests)."""
    base = CheckResult(name=CHECK, tier=TIER, status=Status.PASSED, duration_s=0.0, tests=account_.collected,
                       failures=len(account_.unaccounted), required=required)
    if account_.unaccounted:
        first = account_.unaccounted[0]
        ids = ", ".join(f.nodeid for f in account_.unaccounted[:5])
        why = f"{len(account_.unaccounted)} collected test(s) unaccounted for: {ids}"
        return _failed(base, why, Cause(first.nodeid, "", f"unaccounted for: {first.why}"))
    passed = account_.count("passed") + account_.count("flaky")
    if passed + account_.count("failed") == 0:
        why = f"nothing was tested: {account_.collected} test(s) collected, none ran ({account_.summary()})"
        return _failed(base, why, Cause(CHECK, "", why))
    if passed == 0 and not tiers_failed:  # every test that ran failed, and no check says so (quarantine)
        why = f"no test passed: the {account_.count('failed')} that ran failed ({account_.summary()})"
        return _failed(base, why, Cause(CHECK, "", why))
    loose = account_.unmarked
    if loose and strict:
        first = loose[0]
        why = f"{len(loose)} test(s) no tier runs (no tier marker, or an unknown one): " \
              + ", ".join(f.nodeid for f in loose[:5])
        return _failed(base, why, Cause(first.nodeid, "", f"STRICT: {first.why}{_markers(first)}"))
    return dataclasses.replace(base, reason=f"{account_.collected} collected, {account_.accounted} accounted for")


def _markers(fate: Fate) -> str:
    return f" (unknown marker(s): {', '.join(fate.unknown)})" if fate.unknown else ""


def _failed(base: CheckResult, reason: str, cause: Cause) -> CheckResult:
    return dataclasses.replace(base, status=Status.FAILED, reason=reason, cause=cause)
