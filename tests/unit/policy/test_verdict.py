"""The verdict, rule by rule: READY only on evidence that each required test ran and passed."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bed.model.evidence import CollectSkip, Evidence, Selection, TestOutcome, parse
from bed.model.results import Cause, CheckResult, Status
from bed.policy.verdict import Case, Ending, Rules, health, judge, module_skips, ready, required

from ..fakes import raw_records

A, B = "nd/test_a.py::test_a", "nd/test_a.py::test_b"


def records(*tests: tuple[str, str], **kwargs: Any) -> Evidence:
    return parse(raw_records(*tests, **kwargs))


RULES = Rules(check="all_smokes_nd", tier="nd", required=False, budget_s=1200)
REQUIRED = Rules(check="all_smokes_nd", tier="nd", required=True, budget_s=1200)
HERMETIC = Rules(check="all_smokes_core", tier="deterministic", required=False, hermetic=True)
SHARD = Rules(check="all_smokes_nd_shard_2of2", tier="nd", required=True, shard=True)
SUITE = Rules(check="all_smokes_nd", tier="nd", required=False, suite=True)
NO_BUDGET = Rules(check="all_smokes_nd", tier="nd", required=False)
NARROWED = Rules(check="all_smokes_core", tier="deterministic", required=False, narrowed="-k chat")
DOWN = Cause("bed-x-mini-agent", "", "DEPENDENCY DOWN: bed-x-mini-agent is exited (code 3)", "log")
PASSED_TWO = records((A, "passed"), (B, "passed"))
HOOK_RAISED = dataclasses.replace(records((A, "passed"), exitstatus=0), hook_error="ValueError: boom in sessionfinish")
NONE_SELECTED = {"collected": 4, "selected": 0, "deselected": {"options": 4}}

CASES = [
    # id, rules, ending, evidence, status, cause nodeid (or None), reason fragment
    ("all-passed", RULES, Ending(0), PASSED_TWO, Status.PASSED, None, ""),
    ("a-failure", RULES, Ending(1), records((A, "passed"), (B, "failed"), exitstatus=1), Status.FAILED, B, "1 test"),
    ("setup-error", RULES, Ending(1), records((A, "error"), exitstatus=1), Status.FAILED, A, "failed"),
    ("dependency-down-skips", RULES, Ending(137, down=DOWN), records(exitstatus=None), Status.SKIPPED,
     "bed-x-mini-agent", "DEPENDENCY DOWN"),
    ("dependency-down-required-fails", REQUIRED, Ending(137, down=DOWN), records(exitstatus=None), Status.FAILED,
     "bed-x-mini-agent", "DEPENDENCY DOWN"),
    ("over-budget", RULES, Ending(None), PASSED_TWO, Status.ERROR, "all_smokes_nd (budget)", "1200 s budget"),
    ("oom", RULES, Ending(137, oom_killed=True), records(exitstatus=None), Status.ERROR, "all_smokes_nd",
     "OOM-killed"),
    ("never-started", RULES, Ending(1, log_tail="exec failed"), records(start=False, exitstatus=None),
     Status.ERROR, "all_smokes_nd", "before pytest started"),
    ("usage-error", RULES, Ending(4, log_tail="ERROR: file or directory not found: nd/x"),
     records(start=False, exitstatus=None), Status.FAILED, "all_smokes_nd", "refused its arguments"),
    ("session-never-finished", RULES, Ending(0), records((A, "passed"), exitstatus=None), Status.FAILED,
     "all_smokes_nd", "never finished"),
    ("died-inside-a-test", RULES, Ending(137), records((A, "passed"), (B, "incomplete"), exitstatus=None),
     Status.FAILED, B, "ended inside"),
    ("exit-code-disagrees", RULES, Ending(0), records((A, "passed"), exitstatus=1), Status.FAILED, "all_smokes_nd",
     "disagrees"),
    ("zero-with-failures", RULES, Ending(0), records((A, "failed"), exitstatus=0), Status.FAILED, "all_smokes_nd",
     "yet 1 test(s) failed"),
    ("one-without-failures", RULES, Ending(1), records((A, "passed"), exitstatus=1), Status.FAILED, "all_smokes_nd",
     "no failing test was recorded"),
    ("foreign-lines", RULES, Ending(0), records((A, "passed"), extra="I am not a record\n"), Status.FAILED,
     "all_smokes_nd", "did not write"),
    ("collection-error", RULES, Ending(2), records(exitstatus=2, collect_errors=("nd/test_c.py",)), Status.FAILED,
     "nd/test_c.py", "collecting"),
    ("interrupted", RULES, Ending(2), records(exitstatus=2), Status.FAILED, "all_smokes_nd", "interrupted"),
    ("internal-error", RULES, Ending(3), records(exitstatus=3), Status.FAILED, "all_smokes_nd", "internal error"),
    ("selects-nothing", RULES, Ending(5), records(exitstatus=5, selection=NONE_SELECTED), Status.FAILED,
     "all_smokes_nd", "selects none of the 4"),
    ("collects-nothing", RULES, Ending(5), records(exitstatus=5, selection={"collected": 0, "selected": 0}),
     Status.FAILED, "all_smokes_nd", "no test was collected"),
    ("empty-shard-skips", SHARD, Ending(5),
     records(exitstatus=5, selection={"collected": 1, "selected": 0, "deselected": {"shard": 1}}), Status.SKIPPED,
     None, "nothing left"),
    ("suite-without-tier-tests", SUITE, Ending(5),
     records(exitstatus=5, selection={"collected": 3, "selected": 0, "tier_marked": 0, "deselected": {"tier": 3}}),
     Status.SKIPPED, None, "marked nd"),
    ("hermetic-skip-fails", HERMETIC, Ending(0), records((A, "passed"), (B, "skipped")), Status.FAILED, B,
     "may not skip"),
    ("all-skipped-skips", RULES, Ending(0), records((A, "skipped"), (B, "skipped")), Status.SKIPPED, None, "why"),
    ("all-skipped-required-fails", REQUIRED, Ending(0), records((A, "skipped")), Status.FAILED, A, "why"),
    ("some-skipped-passes", RULES, Ending(0), records((A, "passed"), (B, "skipped")), Status.PASSED, None, ""),
    ("records-gone-yet-it-ran", RULES, Ending(0, log_tail="collected 2 items\n===== 2 passed in 0.03s =====\n"),
     records(start=False, exitstatus=None), Status.FAILED, "all_smokes_nd", "records of this session are gone"),
    ("ended-in-a-state", RULES, Ending(1, state="exited (code 1)", log_tail="boom"),
     records(start=False, exitstatus=None), Status.ERROR, "all_smokes_nd", "before pytest started"),
    ("failed-then-ended-between-tests", RULES, Ending(137), records((A, "passed"), (B, "failed"), exitstatus=None),
     Status.FAILED, B, "before that"),
    ("failed-then-died-inside-a-test", RULES, Ending(137),
     records((A, "failed"), (B, "incomplete"), exitstatus=None), Status.FAILED, B, "ended inside"),
    ("a-hook-raised", RULES, Ending(1), HOOK_RAISED, Status.FAILED, "all_smokes_nd", "disagrees"),
    ("no-budget-stopped", NO_BUDGET, Ending(None), PASSED_TWO, Status.ERROR, "all_smokes_nd (budget)", "0 s budget"),
]


@pytest.mark.parametrize(("rules", "ending", "evidence", "status", "nodeid", "reason"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_each_rule(rules: Rules, ending: Ending, evidence: Evidence, status: Status, nodeid: str | None,
                   reason: str) -> None:
    check = judge(Case(rules, ending, evidence))
    assert check.status is status, check
    assert (check.cause.nodeid if check.cause else None) == nodeid
    assert reason in check.reason
    assert check.required is rules.required


def test_flaky_and_quarantined_failures_do_not_gate_but_are_named() -> None:
    evidence = records((A, "failed"), (B, "failed"), exitstatus=1)
    check = judge(Case(RULES, Ending(1), evidence, flaky=frozenset({A}), quarantined=frozenset({B})))
    assert check.status is Status.PASSED
    assert (check.flaky, check.quarantined) == ((A,), (B,))
    assert check.reason == "1 flaky test(s) passed on re-run; 1 quarantined failure(s) do not gate"


def test_every_tests_outcome_is_kept_in_run_order_and_a_flake_says_so() -> None:
    C = "nd/test_a.py::test_c"
    evidence = records((B, "failed"), (A, "passed"), (C, "skipped"), ("nd/test_d.py::test_d", "error"), exitstatus=1)
    check = judge(Case(RULES, Ending(1), evidence, flaky=frozenset({B})))
    assert check.outcomes == {B: "flaky", A: "passed", C: "skipped", "nd/test_d.py::test_d": "error"}
    assert list(check.outcomes) == [B, A, C, "nd/test_d.py::test_d"]
    assert judge(Case(RULES, Ending(1), evidence)).outcomes[B] == "failed"


def test_a_failure_that_is_neither_flaky_nor_quarantined_gates() -> None:
    evidence = records((A, "failed"), (B, "failed"), exitstatus=1)
    check = judge(Case(RULES, Ending(1), evidence, flaky=frozenset({A})))
    assert check.status is Status.FAILED
    assert check.cause is not None
    assert check.cause.nodeid == B


def _check(status: Status, required: bool = False) -> CheckResult:
    return CheckResult(name="c", tier="nd", status=status, duration_s=0, required=required)


@pytest.mark.parametrize(("statuses", "expected"), [
    ([], False),
    ([(Status.PASSED, False)], True),
    ([(Status.PASSED, False), (Status.SKIPPED, False)], True),
    ([(Status.PASSED, False), (Status.SKIPPED, True)], False),
    ([(Status.PASSED, False), (Status.FAILED, False)], False),
    ([(Status.ERROR, False)], False),
], ids=["nothing-ran", "passed", "optional-skip", "required-skip", "failed", "error"])
def test_ready_needs_every_check_to_pass_or_skip_unrequired(statuses: list[tuple[Status, bool]],
                                                            expected: bool) -> None:
    assert ready([_check(s, r) for s, r in statuses]) is expected


@pytest.mark.parametrize(("tier", "needs", "strict", "expect", "expected"), [
    ("nd", ("shim", "proxy"), False, (), False),
    ("nd", ("shim", "proxy"), True, (), True),
    ("nd", ("shim", "proxy"), False, ("nd",), True),
    ("nd", ("shim", "proxy"), False, ("proxy",), True),
    ("release", (), False, ("proxy",), False),
    ("release", (), False, ("release", "nd"), True),
])
def test_required(tier: str, needs: tuple[str, ...], strict: bool, expect: tuple[str, ...], expected: bool) -> None:
    assert required(tier, needs, strict=strict, expect=expect) is expected


# id: (exact reason, exact cause message, cause location, (tests, failures, skipped))
EXACT = {
    'all-passed': ('',
        None, None, (2, 0, 0)),
    'a-failure': ('1 test(s) failed',
        'why', 'nd/test_a.py:7', (2, 1, 0)),
    'setup-error': ('1 test(s) failed',
        'why', 'nd/test_a.py:7', (1, 1, 0)),
    'dependency-down-skips': ('DEPENDENCY DOWN: bed-x-mini-agent is exited (code 3)',
        'DEPENDENCY DOWN: bed-x-mini-agent is exited (code 3)', '', (0, 0, 0)),
    'dependency-down-required-fails': ('DEPENDENCY DOWN: bed-x-mini-agent is exited (code 3)',
        'DEPENDENCY DOWN: bed-x-mini-agent is exited (code 3)', '', (0, 0, 0)),
    'over-budget': ('over its 1200 s budget',
        'stopped after 1200 s', '', (2, 0, 0)),
    'oom': ('the runner was OOM-killed (BED_RUNNER_MEMORY=2g; raise it)',
        'the runner was OOM-killed (BED_RUNNER_MEMORY=2g; raise it)', '', (0, 0, 0)),
    'never-started': ('the runner ended with exit code 1 before pytest started a session: exec failed',
        'the runner ended with exit code 1 before pytest started a session: exec failed', '', (0, 0, 0)),
    'usage-error': ('pytest refused its arguments (exit 4): ERROR: file or directory not found: nd/x',
        'pytest refused its arguments (exit 4): ERROR: file or directory not found: nd/x', '', (0, 0, 0)),
    'session-never-finished': ('the pytest session never finished (the runner exited 0): it ended between tests (os._exit, a signal?)',  # noqa: E501 - exact messages
        'the pytest session never finished (the runner exited 0): it ended between tests (os._exit, a signal?)', '', (1, 0, 0)),  # noqa: E501 - exact messages
    'died-inside-a-test': ('the pytest session never finished (the runner exited 137): the process ended inside nd/test_a.py::test_b',  # noqa: E501 - exact messages
        'the pytest session never finished (the runner exited 137): the process ended inside nd/test_a.py::test_b', 'nd/test_a.py:7', (2, 1, 0)),  # noqa: E501 - exact messages
    'exit-code-disagrees': ('the evidence disagrees: pytest finished with exit 1, but the runner exited 0',
        'the evidence disagrees: pytest finished with exit 1, but the runner exited 0', '', (1, 0, 0)),
    'zero-with-failures': ('the evidence disagrees: pytest exited 0, yet 1 test(s) failed (nd/test_a.py::test_a)',
        'the evidence disagrees: pytest exited 0, yet 1 test(s) failed (nd/test_a.py::test_a)', '', (1, 1, 0)),
    'one-without-failures': ('the evidence disagrees: pytest exited 1 (tests failed), yet no failing test was recorded',
        'the evidence disagrees: pytest exited 1 (tests failed), yet no failing test was recorded', '', (1, 0, 0)),
    'foreign-lines': ("the evidence disagrees: the records hold 1 line(s) bed's plugin did not write (line 7 is not a record)",  # noqa: E501 - exact messages
        "the evidence disagrees: the records hold 1 line(s) bed's plugin did not write (line 7 is not a record)", '', (1, 0, 0)),  # noqa: E501 - exact messages
    'collection-error': ('1 error(s) while collecting tests',
        'collection error: SyntaxError', 'nd/test_c.py:3', (0, 0, 0)),
    'interrupted': ('pytest was interrupted (exit 2): (no output)',
        'pytest was interrupted (exit 2): (no output)', '', (0, 0, 0)),
    'internal-error': ('pytest hit an internal error (exit 3): (no output)',
        'pytest hit an internal error (exit 3): (no output)', '', (0, 0, 0)),
    'selects-nothing': ('the selection (PYTEST_ADDOPTS: -k/-m) selects none of the 4 collected tests',
        'the selection (PYTEST_ADDOPTS: -k/-m) selects none of the 4 collected tests', '', (0, 0, 0)),
    'collects-nothing': ('no test was collected',
        'no test was collected', '', (0, 0, 0)),
    'empty-shard-skips': ('this shard has nothing left to run',
        None, None, (0, 0, 0)),
    'suite-without-tier-tests': ('no test of the suite is marked nd',
        None, None, (0, 0, 0)),
    'hermetic-skip-fails': ('the deterministic tier may not skip',
        'skipped in a hermetic tier: why', 'nd/test_a.py:7', (2, 0, 1)),
    'all-skipped-skips': ('why',
        None, None, (2, 0, 2)),
    'all-skipped-required-fails': ('why',
        'required (STRICT / READINESS_EXPECT) but skipped: why', '', (1, 0, 1)),
    'some-skipped-passes': ('',
        None, None, (2, 0, 1)),
    'records-gone-yet-it-ran': ("bed's records of this session are gone, yet pytest's output says it ran (===== 2 passed in 0.03s =====): did a test remove them?",  # noqa: E501 - exact messages
        "bed's records of this session are gone, yet pytest's output says it ran (===== 2 passed in 0.03s =====): did a test remove them?", '', (0, 0, 0)),  # noqa: E501 - exact messages
    'ended-in-a-state': ('the runner ended exited (code 1) before pytest started a session: boom',
        'the runner ended exited (code 1) before pytest started a session: boom', '', (0, 0, 0)),
    'failed-then-ended-between-tests': ('the pytest session never finished (the runner exited 137): it ended between tests (os._exit, a signal?); before that, nd/test_a.py::test_b failed',  # noqa: E501 - exact messages
        'why', 'nd/test_a.py:7', (2, 1, 0)),
    'failed-then-died-inside-a-test': ('the pytest session never finished (the runner exited 137): the process ended inside nd/test_a.py::test_b',  # noqa: E501 - exact messages
        'the pytest session never finished (the runner exited 137): the process ended inside nd/test_a.py::test_b', 'nd/test_a.py:7', (2, 2, 0)),  # noqa: E501 - exact messages
    'a-hook-raised': ("the evidence disagrees: ValueError: boom in sessionfinish (pytest's exit 0, the runner's 1)",
        "the evidence disagrees: ValueError: boom in sessionfinish (pytest's exit 0, the runner's 1)", '', (1, 0, 0)),
    'no-budget-stopped': ('over its 0 s budget',
        'stopped after 0 s', '', (2, 0, 0)),
}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_each_rule_says_exactly_what_and_counts(case: tuple[object, ...]) -> None:
    name, rules, ending, evidence = case[:4]
    check = judge(Case(rules, ending, evidence))  # type: ignore[arg-type]
    reason, message, location, counts = EXACT[name]  # type: ignore[index]
    assert check.reason == reason
    assert (check.cause.message if check.cause else None) == message
    assert (check.cause.location if check.cause else None) == location
    assert (check.tests, check.failures, check.skipped) == counts
    assert (check.name, check.tier) == (rules.check, rules.tier)  # type: ignore[attr-defined]


def test_the_check_carries_its_duration_rounded() -> None:
    check = judge(Case(RULES, Ending(0, duration_s=3.14159), PASSED_TWO))
    assert check.duration_s == 3.14
    assert judge(Case(RULES, Ending(None, log_tail="last words"), PASSED_TWO)).cause.log_tail == "last words"  # type: ignore[union-attr]


@pytest.mark.parametrize(("flaky", "held", "reason"), [
    ({A}, set(), "1 flaky test(s) passed on re-run; 0 quarantined failure(s) do not gate"),
    (set(), {A}, "0 flaky test(s) passed on re-run; 1 quarantined failure(s) do not gate"),
], ids=["only-flaky", "only-quarantined"])
def test_a_pass_by_flake_or_quarantine_alone_says_so(flaky: set[str], held: set[str], reason: str) -> None:
    check = judge(Case(RULES, Ending(1), records((A, "failed"), exitstatus=1), frozenset(flaky), frozenset(held)))
    assert (check.status, check.reason) == (Status.PASSED, reason)


def test_the_last_line_of_a_long_log_is_cut_at_300() -> None:
    tail = "first\n\n" + "x" * 400 + "\n  \n"
    check = judge(Case(RULES, Ending(4, log_tail=tail), records(start=False, exitstatus=None)))
    assert check.reason == "pytest refused its arguments (exit 4): " + "x" * 300


@pytest.mark.parametrize("case", [c for c in CASES if c[4] in (Status.FAILED, Status.ERROR)
                                  and c[5] in ("all_smokes_nd", "all_smokes_nd (budget)")], ids=lambda c: c[0])
def test_a_cause_about_the_runner_carries_its_last_lines(case: tuple[object, ...]) -> None:
    ending = case[2]
    check = judge(Case(case[1], Ending(ending.exit_code, oom_killed=ending.oom_killed,  # type: ignore[attr-defined]
                                       log_tail="the runner's last words"), case[3]))  # type: ignore[arg-type]
    assert check.cause is not None
    assert check.cause.log_tail == "the runner's last words"


@pytest.mark.parametrize(("selection", "rules", "status", "reason"), [
    ({"collected": 1, "selected": 1}, RULES, Status.FAILED, "1 test(s) were selected, yet none ran"),
    (None, RULES, Status.FAILED, "no test ran"),
    ({"collected": 1, "selected": 0, "deselected": {"options": 1}}, RULES, Status.FAILED,
     "the selection (PYTEST_ADDOPTS: -k/-m) selects none of the 1 collected tests"),
    ({"collected": 1, "selected": 0, "deselected": {"tier": 1}}, RULES, Status.FAILED, "no test ran"),
    ({"collected": 2, "selected": 0, "deselected": {"shard": 0, "options": 2}}, SHARD, Status.FAILED,
     "the selection (PYTEST_ADDOPTS: -k/-m) selects none of the 2 collected tests"),
    ({"collected": 1, "selected": 0, "deselected": {"shard": 1}}, RULES, Status.FAILED, "no test ran"),
    ({"collected": 3, "selected": 0, "tier_marked": 1, "deselected": {"options": 1, "tier": 2}}, SUITE,
     Status.FAILED, "the selection (PYTEST_ADDOPTS: -k/-m) selects none of the 3 collected tests"),
    ({"collected": 3, "selected": 0, "tier_marked": 0, "deselected": {"tier": 3}}, RULES, Status.FAILED,
     "no test ran"),  # bed's own tier: markers do not choose its tests
    ({"collected": 2, "selected": 2, "tier_marked": 0}, SUITE, Status.FAILED,
     "2 test(s) were selected, yet none ran"),  # a selection is not a suite without the tier's tests
    ({"collected": 3, "selected": 2, "deselected": {"shard": 1}}, SHARD, Status.FAILED,
     "2 test(s) were selected, yet none ran"),  # nor a shard with nothing left
    (None, SUITE, Status.FAILED, "no test ran"),
    (None, SHARD, Status.FAILED, "no test ran"),
    (None, NARROWED, Status.FAILED, "no test ran"),
], ids=["selected-but-unrecorded", "no-selection-record", "one-deselected", "tier-outside-a-suite",
        "shard-but-deselected-by-options", "shard-rule-off", "suite-with-marked-tests-deselected",
        "tier-marked-zero-outside-a-suite", "suite-selected-but-unrecorded", "shard-selected-but-unrecorded",
        "no-selection-record-of-a-suite", "no-selection-record-of-a-shard", "no-selection-record-narrowed"])
def test_nothing_ran_is_judged_by_why(selection: dict[str, Any] | None, rules: Rules, status: Status,
                                      reason: str) -> None:
    check = judge(Case(rules, Ending(5, log_tail="tail"), records(exitstatus=5, selection=selection)))
    assert (check.status, check.reason) == (status, reason)
    assert check.cause is not None
    assert (check.cause.nodeid, check.cause.log_tail) == (rules.check, "tail")


def test_a_suite_without_tier_tests_names_the_check_when_required() -> None:
    rules = Rules(check="all_smokes_nd", tier="nd", required=True, suite=True)
    check = judge(Case(rules, Ending(5), records(exitstatus=5, selection={
        "collected": 1, "selected": 0, "tier_marked": 0, "deselected": {"tier": 1}})))
    assert check.status is Status.FAILED
    assert check.cause is not None
    assert check.cause.nodeid == "all_smokes_nd"


def test_a_quarantined_test_that_was_also_flaky_is_listed_once_as_flaky() -> None:
    evidence = records((A, "failed"), (B, "failed"), exitstatus=1)
    check = judge(Case(RULES, Ending(1), evidence, flaky=frozenset({A}), quarantined=frozenset({A, B})))
    assert (check.flaky, check.quarantined) == ((A,), (B,))


def test_exit_status_1_is_not_a_pytest_error() -> None:
    check = judge(Case(RULES, Ending(1), records((A, "failed"), exitstatus=1)))
    assert check.reason == "1 test(s) failed"


@pytest.mark.parametrize(("selection", "rules", "status", "reason"), [
    ({"collected": 3, "selected": 0, "deselected": {"options": 3}}, NARROWED, Status.SKIPPED,
     "`-- -k chat` selects none of its 3 tests"),
    ({"collected": 3, "selected": 0, "deselected": {"options": 3}},
     Rules(check="all_smokes_core", tier="deterministic", required=True, narrowed="-k chat"), Status.FAILED,
     "`-- -k chat` selects none of its 3 tests"),  # STRICT / READINESS_EXPECT: a tier that must run
    ({"collected": 3, "selected": 0, "tier_marked": 1, "deselected": {"options": 3}}, NARROWED, Status.SKIPPED,
     "`-- -k chat` selects none of its 1 tests"),  # a suite: the tests marked for this tier
    ({"collected": 0, "selected": 0}, NARROWED, Status.FAILED, "no test was collected"),
    ({"collected": 3, "selected": 3}, NARROWED, Status.FAILED, "3 test(s) were selected, yet none ran"),
    ({"collected": 3, "selected": 2, "deselected": {"options": 1}}, NARROWED, Status.FAILED,
     "2 test(s) were selected, yet none ran"),
    ({"collected": 0, "selected": 0, "deselected": {"options": 2}}, NARROWED, Status.FAILED,
     "no test was collected"),
    ({"collected": 3, "selected": 0, "deselected": {"tier": 3}}, NARROWED, Status.FAILED,
     "no test ran"),  # the arguments deselected none of them: not theirs to explain
    ({"collected": 1, "selected": 0, "deselected": {"options": 1}}, NARROWED, Status.SKIPPED,
     "`-- -k chat` selects none of its 1 tests"),
], ids=["selects-none-here", "required-tier", "a-suite-s-tier", "nothing-collected", "selected-not-run",
        "some-selected-not-run", "nothing-collected-yet-deselected", "deselected-by-the-tier-not-the-arguments",
        "its-one-test-deselected"])
def test_pytest_args_that_select_nothing_in_a_tier(selection: dict[str, Any], rules: Rules, status: Status,
                                                   reason: str) -> None:
    check = judge(Case(rules, Ending(5), records(exitstatus=5, selection=selection)))
    assert (check.status, check.reason) == (status, reason)
    if status is Status.FAILED:
        assert check.cause is not None
        assert check.cause.nodeid == rules.check


@pytest.mark.parametrize(("tests", "narrowed", "expected"), [
    ((0, 0), True, False),  # `bed run -- -k tset`: a typo that selects nothing anywhere is never READY
    ((1, 0), True, True),
    ((0, 0), False, True),  # without arguments of the user's, skipped optional checks stay as they were
], ids=["selected-nothing-anywhere", "selected-somewhere", "not-narrowed"])
def test_a_narrowed_run_is_ready_only_when_a_test_ran(tests: tuple[int, int], narrowed: bool,
                                                      expected: bool) -> None:
    checks = [CheckResult(name=f"c{i}", tier="nd", status=Status.PASSED if n else Status.SKIPPED, duration_s=0,
                          tests=n) for i, n in enumerate(tests)]
    assert ready(checks, narrowed=narrowed) is expected


# --- records that contradict themselves ------------------------------------------------------------

LOST = "records of session s1 are missing before its record 4 (a test removed or truncated the records file?)"


@pytest.mark.parametrize(("lost", "conflicts", "what"), [
    ("", ("c1",), "c1"),
    ("", ("c1", "c2"), "c1 (and 1 more)"),
    ("", ("c1", "c2", "c3"), "c1 (and 2 more)"),
    (LOST, (), LOST),
    (LOST, ("c1",), f"{LOST} (and 1 more)"),
    (LOST, ("c1", "c2"), f"{LOST} (and 2 more)"),
], ids=["one-conflict", "two-conflicts", "three-conflicts", "lost", "lost-and-a-conflict", "lost-and-two"])
def test_records_that_contradict_themselves_fail_naming_the_first_and_counting_the_rest(
        lost: str, conflicts: tuple[str, ...], what: str) -> None:
    evidence = dataclasses.replace(PASSED_TWO, lost=lost, conflicts=conflicts)
    check = judge(Case(REQUIRED, Ending(0, log_tail="tail"), evidence))
    why = f"the records contradict themselves: {what}"
    assert (check.status, check.reason) == (Status.FAILED, why)
    assert check.cause == Cause("all_smokes_nd", "", why, "tail")


def test_records_of_a_session_too_many_are_a_contradiction_not_a_session_that_never_started() -> None:
    """A test that ran pytest again in-process: its session's records beside the tier's own."""
    evidence = parse(raw_records((A, "passed"), census=[A, B]) + raw_records((B, "passed"), census=[A, B], sid="s2"))
    assert not evidence.started  # joined, the sessions are not one that started
    for tail in ("== 2 passed in 0.10s ==", "exec failed"):
        check = judge(Case(REQUIRED, Ending(0, log_tail=tail), evidence))
        why = "the records contradict themselves: records of 2 sessions where 1 ran"
        assert (check.status, check.reason) == (Status.FAILED, why)


def test_a_hook_error_with_exits_that_agree_does_not_disagree() -> None:
    check = judge(Case(RULES, Ending(0), HOOK_RAISED))
    assert (check.status, check.reason) == (Status.PASSED, "")


def test_a_failure_before_the_session_ended_without_a_message_names_its_outcome() -> None:
    evidence = Evidence(started=True, exitstatus=None, tests={A: TestOutcome(A, "error", "nd/test_a.py:3", "", 0.1)})
    check = judge(Case(RULES, Ending(137, log_tail="tail"), evidence))
    assert check.cause == Cause(A, "nd/test_a.py:3", "error", "tail")
    assert check.reason.endswith(f"; before that, {A} failed")


def test_a_failure_without_a_message_names_its_outcome() -> None:
    evidence = Evidence(started=True, exitstatus=1, tests={A: TestOutcome(A, "error", "nd/test_a.py:3", "", 0.1)})
    assert judge(Case(RULES, Ending(1), evidence)).cause == Cause(A, "nd/test_a.py:3", "error")


def test_nothing_collected_wins_over_options_that_deselected() -> None:
    sel = Selection(collected=0, selected=0, tier_marked=None, unmarked=(), by_options=2, by_tier=0, by_select=0,
                    by_shard=0, missing=())
    check = judge(Case(RULES, Ending(5), Evidence(started=True, exitstatus=5, tests={}, selection=sel)))
    assert check.reason == "no test was collected"


def test_every_test_skipped_names_each_reason_once_sorted_and_cut_at_500() -> None:
    evidence = Evidence(started=True, exitstatus=0, tests={
        n: TestOutcome(n, "skipped", "nd/test_a.py:3", why, 0.0)
        for n, why in ((A, "no key"), (B, "a db"), ("nd/test_a.py::test_c", "no key"))})
    assert judge(Case(RULES, Ending(0), evidence)).reason == "a db; no key"
    long = Evidence(started=True, exitstatus=0, tests={A: TestOutcome(A, "skipped", "", "x" * 600, 0.0)})
    assert judge(Case(RULES, Ending(0), long)).reason == "x" * 500


# --- modules skipped at import ----------------------------------------------------------------------

MOD_ND = CollectSkip("nd/test_m.py", "nd/test_m.py:1", "no module named x", ("nd",))
MOD_DET = CollectSkip("d/test_m.py", "d/test_m.py:1", "no db", ("deterministic",))
MOD_ANY = CollectSkip("test_m.py", "test_m.py:1", "old python", ())
MOD_BOTH = CollectSkip("test_b.py", "test_b.py:1", "later", ("deterministic", "nd"))


@pytest.mark.parametrize(("suite", "expected"), [
    (False, (MOD_ND, MOD_DET, MOD_ANY, MOD_BOTH)),  # bed's own tier: a tier is a folder, every one is its own
    (True, (MOD_ND, MOD_ANY, MOD_BOTH)),  # a suite: those marked nd, and those no tier names
])
def test_modules_skipped_at_import_that_belong_to_the_tier(suite: bool, expected: tuple[CollectSkip, ...]) -> None:
    evidence = Evidence(started=True, exitstatus=0, tests={}, collect_skips=(MOD_ND, MOD_DET, MOD_ANY, MOD_BOTH))
    assert module_skips(evidence, "nd", suite=suite) == expected


def test_a_module_skipped_at_import_counts_as_tests_and_skips() -> None:
    evidence = dataclasses.replace(records((A, "passed"), (B, "skipped")), collect_skips=(MOD_ND, MOD_DET))
    check = judge(Case(SUITE, Ending(0), evidence))
    assert (check.status, check.tests, check.skipped) == (Status.PASSED, 3, 2)
    check = judge(Case(HERMETIC, Ending(0), dataclasses.replace(PASSED_TWO, collect_skips=(MOD_DET,))))
    assert (check.status, check.tests, check.skipped) == (Status.FAILED, 3, 1)
    assert check.cause == Cause("d/test_m.py", "d/test_m.py:1", "skipped in a hermetic tier: skipped at import: no db")


def test_a_tier_whose_only_module_skipped_at_import_is_not_empty_but_skipped() -> None:
    evidence = dataclasses.replace(records(exitstatus=5), collect_skips=(MOD_ND,))
    check = judge(Case(RULES, Ending(5), evidence))
    assert (check.status, check.reason, check.tests) == (Status.SKIPPED, "skipped at import: no module named x", 1)


# --- a session's health alone (the census's --collect-only) ----------------------------------------

CENSUS = Rules(check="census", tier="census", required=True, budget_s=60)


def test_a_healthy_session_has_no_health_result_even_with_failures_or_nothing_run() -> None:
    assert health(Case(CENSUS, Ending(0), records(exitstatus=0))) is None
    assert health(Case(CENSUS, Ending(5), records(exitstatus=5))) is None
    assert health(Case(CENSUS, Ending(1), records((A, "failed"), exitstatus=1))) is None
    assert health(Case(CENSUS, Ending(0), records((A, "skipped")))) is None


@pytest.mark.parametrize(("ending", "evidence", "status", "reason", "cause"), [
    (Ending(2, duration_s=1.234), records(exitstatus=2, collect_errors=("t/test_c.py",)), Status.FAILED,
     "1 error(s) while collecting tests", Cause("t/test_c.py", "t/test_c.py:3", "collection error: SyntaxError")),
    (Ending(None, duration_s=1.234, log_tail="tail"), records(exitstatus=None), Status.ERROR, "over its 60 s budget",
     Cause("census (budget)", "", "stopped after 60 s", "tail")),
    (Ending(3, duration_s=1.234), records(exitstatus=3), Status.FAILED, "pytest hit an internal error (exit 3): "
     "(no output)", Cause("census", "", "pytest hit an internal error (exit 3): (no output)")),
    (Ending(1, duration_s=1.234), records(exitstatus=1), Status.FAILED,
     "the evidence disagrees: pytest exited 1 (tests failed), yet no failing test was recorded",
     Cause("census", "", "the evidence disagrees: pytest exited 1 (tests failed), yet no failing test was recorded")),
], ids=["collection-error", "over-budget", "internal-error", "disagrees"])
def test_a_broken_session_says_why_as_the_check_would(ending: Ending, evidence: Evidence, status: Status,
                                                      reason: str, cause: Cause) -> None:
    assert health(Case(CENSUS, ending, evidence)) == CheckResult(
        name="census", tier="census", status=status, duration_s=1.23, required=True, reason=reason, cause=cause)


def test_a_dependency_down_skips_the_session_unless_required() -> None:
    rules = dataclasses.replace(CENSUS, required=False)
    assert health(Case(rules, Ending(137, down=DOWN), records(exitstatus=None))) == CheckResult(
        name="census", tier="census", status=Status.SKIPPED, duration_s=0.0, reason=DOWN.message, cause=DOWN)


def test_records_gone_from_a_session_that_ran_carry_the_runner_s_output() -> None:
    tail = "collected 1 item\n== 1 passed in 0.01s =="
    check = judge(Case(RULES, Ending(0, log_tail=tail), records(start=False, exitstatus=None)))
    assert check.cause is not None
    assert (check.cause.nodeid, check.cause.log_tail) == ("all_smokes_nd", tail)
