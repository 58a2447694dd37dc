"""The verdict, rule by rule: READY only on evidence that each required test ran and passed."""

from __future__ import annotations

from typing import Any

import pytest

from bed.pipeline.evidence import Evidence, parse
from bed.policy.verdict import Case, Ending, Rules, judge, ready, required
from bed.report.results import Cause, CheckResult, Status

from ..fakes import raw_records

A, B = "nd/test_a.py::test_a", "nd/test_a.py::test_b"


def records(*tests: tuple[str, str], **kwargs: Any) -> Evidence:
    return parse(raw_records(*tests, **kwargs))


RULES = Rules(check="all_smokes_nd", tier="nd", required=False, budget_s=1200)
REQUIRED = Rules(check="all_smokes_nd", tier="nd", required=True, budget_s=1200)
HERMETIC = Rules(check="all_smokes_core", tier="deterministic", required=False, hermetic=True)
SHARD = Rules(check="all_smokes_nd_shard_2of2", tier="nd", required=True, shard=True)
SUITE = Rules(check="all_smokes_nd", tier="nd", required=False, suite=True)
DOWN = Cause("bed-x-mini-agent", "", "DEPENDENCY DOWN: bed-x-mini-agent is exited (code 3)", "log")
PASSED_TWO = records((A, "passed"), (B, "passed"))
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
