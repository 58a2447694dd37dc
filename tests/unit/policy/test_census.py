"""The census: every collected test's fate, named exactly, and the census as a check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from bed.model.census import Account, Fate
from bed.model.evidence import Evidence, Item, Selection, TestOutcome, parse
from bed.model.results import Cause, CheckResult, Status
from bed.policy.census import Session, account, judge

from ..fakes import raw_records

A, B, C = "t/test_a.py::test_a", "t/test_a.py::test_b", "t/test_a.py::test_c"
ALL = ("deterministic", "nd")


def outcome(nodeid: str, result: str) -> TestOutcome:
    return TestOutcome(nodeid, result, "t/test_a.py:7", "", 0.1)


def selection(*, selected: Sequence[str] = (), deselected: Mapping[str, str] | None = None) -> Selection:
    return Selection(collected=3, selected=len(selected), tier_marked=None, unmarked=(), by_options=0, by_tier=0,
                     by_select=0, by_shard=0, missing=(), selected_ids=tuple(selected),
                     deselected=dict(deselected or {}))


def evidence(*tests: tuple[str, str], census: Sequence[str] | None = (A,), sel: Selection | None = None,
             started: bool = True, exitstatus: int | None = 0) -> Evidence:
    return Evidence(started=started, exitstatus=exitstatus, tests={n: outcome(n, o) for n, o in tests},
                    selection=sel, census=None if census is None else tuple(Item(n, ()) for n in census))


def session(tier: str, ev: Evidence, flaky: frozenset[str] = frozenset()) -> Session:
    return Session(tier, ev, flaky)


def one(ev: Evidence, *, tier: str = "nd", run: Sequence[str] = ALL, item: Item | None = None,
        flaky: frozenset[str] = frozenset()) -> Fate:
    """The one fate of A (or ``item``), marked ``tier``, in a suite whose census collected it."""
    item = item or Item(A, (tier,))
    found = account([item], {tier: session(tier, ev, flaky)}, suite=True, run_tiers=run)
    assert len(found.fates) == 1, found
    return found.fates[0]


# --- each fate, exactly ---------------------------------------------------------------------------

RAN = [("passed", "passed"), ("xfailed", "passed"), ("failed", "failed"), ("error", "failed"),
       ("incomplete", "failed"), ("skipped", "skipped"), ("something-new", "unaccounted")]


@pytest.mark.parametrize(("result", "kind"), RAN, ids=[r for r, _ in RAN])
def test_a_test_that_ran_is_counted_by_its_outcome(result: str, kind: str) -> None:
    assert one(evidence((A, result))) == Fate(A, kind, result, (), "nd")


def test_a_flaky_test_is_flaky_whatever_its_first_outcome_was() -> None:
    assert one(evidence((A, "failed")), flaky=frozenset({A})) == Fate(A, "flaky", "failed", (), "nd")
    assert one(evidence((A, "failed")), flaky=frozenset({B})) == Fate(A, "failed", "failed", (), "nd")


def test_a_tier_this_run_does_not_run_accounts_for_its_tests() -> None:
    found = one(evidence((A, "passed")), run=("deterministic",))
    assert found == Fate(A, "not_in_run", "marked nd, a tier this run does not run", (), "nd")


@pytest.mark.parametrize("ev", [
    evidence((A, "passed"), started=False),
    evidence((A, "passed"), exitstatus=None),
    evidence((A, "passed"), started=False, exitstatus=None),
], ids=["never-started", "never-finished", "neither"])
def test_a_session_that_ended_early_accounts_for_its_tests(ev: Evidence) -> None:
    assert one(ev) == Fate(A, "tier_ended", "the nd tier's session ended before it could run", (), "nd")


def test_a_tier_in_the_run_without_a_session_ended_early() -> None:
    found = account([Item(A, ("nd",))], {}, suite=True, run_tiers=ALL)
    assert found.fates == (Fate(A, "tier_ended", "the nd tier's session ended before it could run", (), "nd"),)


@pytest.mark.parametrize(("why", "said"), [
    ("options", "deselected by your -k/-m/--deselect"),
    ("select", "not among the ids asked for"),
    ("shard", "in another shard"),
])
def test_a_test_deselected_for_a_known_reason_is_accounted_for(why: str, said: str) -> None:
    assert one(evidence(sel=selection(deselected={A: why}))) == Fate(A, "deselected", said, (), "nd")


LOST = [
    ("the-census-only", evidence(census=(), sel=selection(selected=(A,))),
     "the census collected it, the nd tier's session did not"),
    ("selected-never-ran", evidence(sel=selection(selected=(A,))), "selected in the nd tier, yet it never ran"),
    ("selected-no-census", evidence(census=None, sel=selection(selected=(A,))),
     "selected in the nd tier, yet it never ran"),
    ("tier-deselected-its-own", evidence(sel=selection(deselected={A: "tier"})),
     "marked nd, yet the nd tier deselected it"),
    ("dropped-silently", evidence(sel=selection(deselected={B: "options"})),
     "collected in the nd tier, then dropped without a reason (a collection hook removed it without "
     "pytest_deselected?)"),
    ("no-selection-record", evidence(census=None),
     "collected in the nd tier, then dropped without a reason (a collection hook removed it without "
     "pytest_deselected?)"),
]


@pytest.mark.parametrize(("ev", "why"), [c[1:] for c in LOST], ids=[c[0] for c in LOST])
def test_a_test_that_neither_ran_nor_was_deselected_is_unaccounted_for_and_says_why(ev: Evidence, why: str) -> None:
    assert one(ev) == Fate(A, "unaccounted", why, (), "nd")


def test_a_test_marked_for_two_tiers_has_a_fate_in_each() -> None:
    item = Item(A, ("deterministic", "nd"), ("nd_typo",))
    sessions = {"deterministic": session("deterministic", evidence((A, "passed"))),
                "nd": session("nd", evidence(sel=selection(deselected={A: "shard"})))}
    found = account([item], sessions, suite=True, run_tiers=ALL)
    assert found == Account(1, (Fate(A, "passed", "passed", ("nd_typo",), "deterministic"),
                                Fate(A, "deselected", "in another shard", ("nd_typo",), "nd")))


# --- whose collection is the reference ------------------------------------------------------------

def test_a_suite_s_unmarked_test_is_named_with_its_unknown_markers_and_the_next_one_still_counts() -> None:
    found = account([Item(A, (), ("nd_typo", "slow")), Item(B, ("nd",))], {}, suite=True, run_tiers=("deterministic",))
    assert found == Account(2, (Fate(A, "unmarked", "carries no tier marker, so no tier runs it",
                                     ("nd_typo", "slow"), ""),
                                Fate(B, "not_in_run", "marked nd, a tier this run does not run", (), "nd")))


def test_a_tier_session_collecting_what_the_census_did_not_is_unaccounted_for() -> None:
    sessions = {"nd": session("nd", evidence((A, "passed"), (C, "passed"), census=(A, C))),
                "deterministic": session("deterministic", evidence(census=None))}
    found = account([Item(A, ("nd",))], sessions, suite=True, run_tiers=ALL)
    assert found == Account(1, (Fate(A, "passed", "passed", (), "nd"),
                                Fate(C, "unaccounted", "collected by the nd tier's session, not by the census")))


def test_bed_s_own_tiers_account_against_each_session_s_own_collection() -> None:
    det = evidence((A, "passed"), census=(A, B), sel=selection(selected=(A, B)))
    nd = evidence((C, "skipped"), census=(C,))
    found = account(None, {"deterministic": session("deterministic", det), "nd": session("nd", nd),
                           "agents": session("agents", evidence(census=None))}, suite=False, run_tiers=ALL)
    assert found == Account(3, (Fate(A, "passed", "passed", (), "deterministic"),
                                Fate(B, "unaccounted", "selected in the deterministic tier, yet it never ran", (),
                                     "deterministic"),
                                Fate(C, "skipped", "skipped", (), "nd")))


def test_bed_s_own_tiers_ignore_the_markers_a_test_carries() -> None:
    ev = Evidence(started=True, exitstatus=0, tests={A: outcome(A, "passed")},
                  census=(Item(A, ("release",), ("odd",)),))
    found = account(None, {"nd": session("nd", ev)}, suite=False, run_tiers=("nd",))
    assert found.fates == (Fate(A, "passed", "passed", ("odd",), "nd"),)


def test_a_reference_outside_a_suite_marks_no_tier() -> None:
    found = account([Item(A, ("nd",))], {"nd": session("nd", evidence((A, "passed")))}, suite=False,
                    run_tiers=ALL)
    assert found.fates == (Fate(A, "unmarked", "carries no tier marker, so no tier runs it", (), ""),)


def test_collected_counts_distinct_ids_once() -> None:
    sessions = {"deterministic": session("deterministic", evidence((A, "passed"), census=(A, B))),
                "nd": session("nd", evidence((A, "passed"), (B, "passed"), census=(A, B)))}
    found = account(None, sessions, suite=False, run_tiers=ALL)
    assert found.collected == 2
    assert [(f.nodeid, f.kind, f.tier) for f in found.fates] == [
        (A, "passed", "deterministic"), (B, "unaccounted", "deterministic"), (A, "passed", "nd"),
        (B, "passed", "nd")]


def test_records_as_the_plugin_writes_them_account_for_every_test() -> None:
    raw = raw_records((A, "passed"), (B, "failed"), census=[A, B, C],
                      selection={"collected": 3, "selected": 2, "selected_ids": [A, B],
                                 "deselected": {"options": 1}, "deselected_ids": {"options": [C]}}, exitstatus=1)
    found = account(None, {"nd": session("nd", parse(raw))}, suite=False, run_tiers=("nd",))
    assert [(f.nodeid, f.kind, f.why) for f in found.fates] == [
        (A, "passed", "passed"), (B, "failed", "failed"), (C, "deselected", "deselected by your -k/-m/--deselect")]


# --- the census as a check ------------------------------------------------------------------------

def fates(*kinds: tuple[str, str], why: str = "w", unknown: tuple[str, ...] = ()) -> tuple[Fate, ...]:
    return tuple(Fate(n, k, why, unknown, "nd") for n, k in kinds)


def check(found: Account, *, strict: bool = False, required: bool = True) -> CheckResult:
    return judge(found, strict=strict, required=required)


def test_a_census_that_accounts_for_everything_passes_and_counts() -> None:
    found = Account(3, fates((A, "passed"), (B, "flaky"), (C, "unmarked"), (C, "skipped")))
    assert check(found) == CheckResult(name="census", tier="census", status=Status.PASSED, duration_s=0.0, tests=3,
                                       failures=0, reason="3 collected, 3 accounted for", required=True)
    assert check(found, required=False).required is False
    assert judge(found, strict=False).required is True  # the census gates unless told otherwise


def test_unaccounted_tests_fail_it_naming_the_first_five() -> None:
    ids = [f"t/test_u.py::test_{i}" for i in range(6)]
    found = Account(7, (*fates((A, "passed")), *(Fate(n, "unaccounted", f"lost {n[-1]}") for n in ids)))
    result = check(found, strict=True)
    assert result == CheckResult(
        name="census", tier="census", status=Status.FAILED, duration_s=0.0, tests=7, failures=6, required=True,
        reason="6 collected test(s) unaccounted for: " + ", ".join(ids[:5]),
        cause=Cause(ids[0], "", "unaccounted for: lost 0"))


def test_a_census_in_which_nothing_ran_fails_saying_so() -> None:
    found = Account(3, fates((A, "skipped"), (B, "deselected"), (C, "not_in_run")))
    why = "nothing was tested: 3 test(s) collected, none ran (1 skipped, 1 deselected, 1 not in run)"
    expected = CheckResult(name="census", tier="census", status=Status.FAILED, duration_s=0.0, tests=3,
                           required=True, reason=why, cause=Cause("census", "", why))
    assert check(found) == expected
    assert judge(found, strict=False, tiers_failed=True) == expected  # a failed tier is no test that ran


def test_a_census_in_which_every_test_that_ran_failed() -> None:
    found = Account(3, fates((A, "skipped"), (B, "failed"), (C, "deselected"), (C, "not_in_run")))
    why = "no test passed: the 1 that ran failed (1 skipped, 1 failed, 1 deselected, 1 not in run)"
    # No tier's check failed (the failures were quarantined, say): the census says it.
    assert check(found) == CheckResult(name="census", tier="census", status=Status.FAILED, duration_s=0.0, tests=3,
                                       required=True, reason=why, cause=Cause("census", "", why))
    # A tier's check failed already and names its tests: the census does not say it twice.
    assert judge(found, strict=False, tiers_failed=True).status is Status.PASSED


@pytest.mark.parametrize("kinds", [(("passed", 1), ("flaky", 0)), (("passed", 0), ("flaky", 1)),
                                   (("passed", 1), ("flaky", 1)), (("passed", 2), ("flaky", 1))],
                         ids=["one-passed", "one-flaky", "one-each", "more-passed"])
def test_one_passed_or_flaky_test_is_something_tested(kinds: tuple[tuple[str, int], ...]) -> None:
    found = Account(4, tuple(Fate(f"t::{k}{i}", k, "w") for k, n in kinds for i in range(n)))
    assert check(found).status is Status.PASSED


def test_tests_no_tier_runs_fail_only_under_strict_naming_the_first_five() -> None:
    loose = [f"t/test_l.py::test_{i}" for i in range(6)]
    found = Account(7, (*fates((A, "passed")), *(Fate(n, "unmarked", "no marker", ("nd_typo", "slo")) for n in loose)))
    assert check(found).status is Status.PASSED
    assert check(found).reason == "7 collected, 7 accounted for"
    result = check(found, strict=True)
    assert result == CheckResult(
        name="census", tier="census", status=Status.FAILED, duration_s=0.0, tests=7, failures=0, required=True,
        reason="6 test(s) no tier runs (no tier marker, or an unknown one): " + ", ".join(loose[:5]),
        cause=Cause(loose[0], "", "STRICT: no marker (unknown marker(s): nd_typo, slo)"))


def test_an_unmarked_test_without_unknown_markers_says_only_why() -> None:
    found = Account(2, (*fates((A, "passed")), Fate(B, "unmarked", "no marker")))
    result = check(found, strict=True)
    assert result.cause == Cause(B, "", "STRICT: no marker")
    assert result.reason == f"1 test(s) no tier runs (no tier marker, or an unknown one): {B}"


def test_unaccounted_comes_before_nothing_tested_and_before_strict() -> None:
    found = Account(2, (Fate(A, "unaccounted", "lost"), Fate(B, "unmarked", "no marker")))
    assert check(found, strict=True).reason == f"1 collected test(s) unaccounted for: {A}"
    found = Account(1, (Fate(B, "unmarked", "no marker"),))
    assert check(found, strict=True).reason.startswith("nothing was tested: 1 test(s) collected")


def test_accounted_counts_ids_with_every_fate_accounted_for() -> None:
    found = Account(3, (*fates((A, "passed"), (B, "passed"), (C, "passed")), Fate(B, "unaccounted", "lost")))
    assert check(found).reason == f"1 collected test(s) unaccounted for: {B}"
    assert found.accounted == 2
