"""The flake rule: only the very same node id, passing in a whole re-run, is a flake."""

from __future__ import annotations

import pytest

from bed.model.evidence import Evidence
from bed.policy.flakes import flaky, trustworthy, worth_rerunning

from .test_verdict import A, B, records

ASKED = (A, B)


@pytest.mark.parametrize(("rerun", "expected"), [
    (records((A, "passed"), (B, "failed"), exitstatus=1), {A}),
    (records((A, "passed"), (B, "passed")), {A, B}),
    (records((A, "failed"), (B, "failed"), exitstatus=1), set()),
    (records((A, "error"), (B, "passed"), exitstatus=1), {B}),  # a setup error on the re-run is no pass
    (records((A, "skipped"), (B, "passed")), {B}),  # skipped is not passed
    (records((A, "passed")), set()),  # B never ran: the re-run ran fewer tests than asked
    (records((A, "passed"), (B, "passed"), exitstatus=None), set()),  # crashed: never finished
    (records((A, "passed"), (B, "passed"), exitstatus=2, collect_errors=("nd/test_a.py",)), set()),
    (records((A, "passed"), (B, "passed"), exitstatus=3), set()),
    (records((A, "passed"), (B, "passed"), extra="forged line\n"), set()),
    (records((A, "passed"), (B, "passed"),
             selection={"collected": 2, "selected": 2, "missing": ["nd/test_a.py::test_c"]}), set()),
    (records((A, "incomplete"), (B, "passed"), exitstatus=None), set()),
    (None, set()),
], ids=["one-passes", "both-pass", "both-fail", "setup-error", "skipped", "fewer-than-asked", "unfinished",
        "collection-error", "internal-error", "forged-records", "missing-ids", "died-inside", "no-rerun"])
def test_flaky(rerun: Evidence | None, expected: set[str]) -> None:
    assert flaky(ASKED, rerun) == expected


def test_nothing_asked_is_nothing_flaky() -> None:
    assert flaky((), records((A, "passed"))) == frozenset()


def test_only_a_trustworthy_first_run_is_re_run() -> None:
    assert worth_rerunning(records((A, "failed"), (B, "passed"), exitstatus=1)) == (A,)
    assert worth_rerunning(records((A, "failed"), exitstatus=None)) == ()
    assert worth_rerunning(records((A, "failed"), exitstatus=2, collect_errors=("x.py",))) == ()
    assert worth_rerunning(records((A, "passed"))) == ()


@pytest.mark.parametrize("status", [0, 1])
def test_trustworthy_exit_statuses(status: int) -> None:
    assert trustworthy(records((A, "passed"), exitstatus=status))


@pytest.mark.parametrize("status", [2, 3, 4, 5, None])
def test_untrustworthy_exit_statuses(status: int | None) -> None:
    assert not trustworthy(records((A, "passed"), exitstatus=status))
