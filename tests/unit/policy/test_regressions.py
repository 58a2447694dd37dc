"""The rules that call a difference between two gateways a regression, a fix or a change."""

from __future__ import annotations

import pytest

from bed.policy.regressions import (
    BAD_CHECKS,
    BAD_TESTS,
    GOOD_CHECKS,
    GOOD_TESTS,
    Leg,
    Partial,
    Row,
    compare,
    exit_code,
    judge,
    ordered,
    partial,
    regressed,
    step,
)

ND = "all_smokes_nd"
CORE = "all_smokes_core"
A, B, C = "nd/t.py::test_a", "nd/t.py::test_b", "nd/t.py::test_c"


def leg(name: str, tests: dict[str, str], checks: dict[str, str] | None = None, check: str = ND) -> Leg:
    status = checks or {check: "failed" if any(o in BAD_TESTS for o in tests.values()) else "passed"}
    return Leg(name, checks=status, tests={(check, n): o for n, o in tests.items()})


@pytest.mark.parametrize(("was", "now", "kind"), [
    ("passed", "failed", "regression"), ("passed", "error", "regression"), ("passed", "incomplete", "regression"),
    ("xfailed", "failed", "regression"), ("flaky", "error", "regression"),
    ("failed", "passed", "fix"), ("error", "xfailed", "fix"), ("incomplete", "flaky", "fix"),
    ("passed", "skipped", "change"), ("skipped", "failed", "change"), ("passed", "flaky", "change"),
    ("failed", "error", "change"), ("skipped", "passed", "change"),
    ("passed", "passed", None), ("failed", "failed", None), ("skipped", "skipped", None),
])
def test_a_tests_outcome_before_and_after_decides_its_kind(was: str, now: str, kind: str | None) -> None:
    assert judge(was, now, GOOD_TESTS, BAD_TESTS) == kind


@pytest.mark.parametrize(("was", "now", "kind"), [
    ("passed", "failed", "regression"), ("passed", "error", "regression"), ("error", "passed", "fix"),
    ("failed", "passed", "fix"), ("passed", "skipped", "change"), ("skipped", "failed", "change"),
    ("failed", "error", "change"), ("passed", "passed", None),
])
def test_a_checks_status_before_and_after_decides_its_kind(was: str, now: str, kind: str | None) -> None:
    assert judge(was, now, GOOD_CHECKS, BAD_CHECKS) == kind


def test_the_outcome_sets_are_what_pytest_and_bed_write() -> None:
    assert {"passed", "xfailed", "flaky"} == GOOD_TESTS
    assert {"failed", "error", "incomplete"} == BAD_TESTS
    assert {"passed"} == GOOD_CHECKS
    assert {"failed", "error"} == BAD_CHECKS


def test_a_step_lists_each_check_then_its_tests_in_the_later_gateways_order() -> None:
    before = Leg("1.0", checks={CORE: "passed", ND: "passed"},
                 tests={(CORE, "d::x"): "passed", (ND, A): "passed", (ND, B): "failed", (ND, C): "passed"})
    after = Leg("2.0", checks={ND: "failed", CORE: "failed"},
                tests={(ND, C): "failed", (ND, A): "failed", (ND, B): "passed", (CORE, "d::x"): "error"})
    assert step(before, after) == [
        Row("regression", "check", "1.0", "2.0", ND, "", "passed", "failed"),
        Row("regression", "test", "1.0", "2.0", ND, C, "passed", "failed"),
        Row("regression", "test", "1.0", "2.0", ND, A, "passed", "failed"),
        Row("fix", "test", "1.0", "2.0", ND, B, "failed", "passed"),
        Row("regression", "check", "1.0", "2.0", CORE, "", "passed", "failed"),
        Row("regression", "test", "1.0", "2.0", CORE, "d::x", "passed", "error"),
    ]


def test_nothing_changed_is_no_row() -> None:
    same = leg("1.0", {A: "passed", B: "failed"})
    assert step(same, leg("2.0", {A: "passed", B: "failed"})) == []


def test_a_check_or_test_under_only_one_gateway_is_not_judged() -> None:
    before = Leg("1.0", checks={ND: "passed"}, tests={(ND, A): "passed"})
    after = Leg("2.0", checks={"agent_clients": "failed"}, tests={("agent_clients", B): "failed"})
    assert step(before, after) == []


def test_a_test_that_moved_to_another_check_is_not_the_same_test() -> None:
    before = Leg("1.0", checks={ND: "passed", CORE: "passed"}, tests={(ND, A): "passed"})
    after = Leg("2.0", checks={ND: "passed", CORE: "failed"}, tests={(CORE, A): "failed"})
    assert [r.level for r in step(before, after)] == ["check"]


def test_a_gateway_that_breaks_is_one_regression_at_the_gateway_level() -> None:
    ran, broken = leg("1.0", {A: "passed"}), Leg("2.0", broken=True)
    assert step(ran, broken) == [Row("regression", "gateway", "1.0", "2.0", "", "", "ran", "broken")]
    assert step(broken, ran) == [Row("fix", "gateway", "2.0", "1.0", "", "", "broken", "ran")]
    assert step(broken, Leg("3.0", broken=True)) == []


def test_rows_of_every_step_come_regressions_first_then_fixes_then_changes_each_in_the_order_given() -> None:
    legs = [leg("1", {A: "failed", B: "passed", C: "passed"}), leg("2", {A: "passed", B: "failed", C: "skipped"}),
            leg("3", {A: "failed", B: "passed", C: "passed"})]
    rows = compare(legs)
    # The check fails under every gateway (a different test each time): no check row.
    assert [(r.kind, r.before, r.after, r.level, r.nodeid) for r in rows] == [
        ("regression", "1", "2", "test", B), ("regression", "2", "3", "test", A),
        ("fix", "1", "2", "test", A), ("fix", "2", "3", "test", B),
        ("change", "1", "2", "test", C), ("change", "2", "3", "test", C),
    ]


def test_steps_are_consecutive_pairs_not_each_against_the_first() -> None:
    # 1 -> 2 regresses, 2 -> 3 fixes it: 1 -> 3 alone would show nothing, the steps show both.
    legs = [leg("1", {A: "passed"}), leg("2", {A: "failed"}), leg("3", {A: "passed"})]
    assert [(r.kind, r.level, r.before, r.after) for r in compare(legs)] == [
        ("regression", "check", "1", "2"), ("regression", "test", "1", "2"),
        ("fix", "check", "2", "3"), ("fix", "test", "2", "3")]
    assert compare(legs[:1]) == []


def test_the_exit_code_is_1_only_when_some_step_regresses() -> None:
    fixed = compare([leg("1", {A: "failed"}), leg("2", {A: "passed"})])
    changed = compare([leg("1", {A: "passed"}), leg("2", {A: "skipped"})])
    broke = compare([leg("1", {A: "passed"}), leg("2", {A: "passed"}), Leg("3", broken=True)])
    assert (exit_code(fixed), exit_code(changed), exit_code(broke), exit_code([])) == (0, 0, 1, 0)
    assert not regressed(fixed)
    assert regressed(broke)


def test_tests_found_under_only_some_gateways_that_ran_are_listed_with_where() -> None:
    legs = [leg("1", {A: "passed", B: "passed"}), Leg("2", broken=True), leg("3", {A: "failed", C: "passed"}),
            leg("4", {A: "passed", B: "skipped", C: "passed"})]
    assert partial(legs) == [Partial(ND, B, ("1", "4"), ("3",)), Partial(ND, C, ("3", "4"), ("1",))]
    assert partial([leg("1", {A: "passed"}), Leg("2", broken=True)]) == []


def test_ordered_keeps_first_sight_order_once() -> None:
    assert ordered(["b", "a"], {"c": 1, "a": 2}, ("b", "d")) == ["b", "a", "c", "d"]
    assert ordered() == []
