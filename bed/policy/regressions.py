"""Which differences between gateways are regressions: pure rules over each gateway's outcomes.

A compare lines the gateways up in the order given and judges each step, from one gateway to
the next, at three levels:

    gateway   it ran, or it is broken (its image could not be built or its proxy never served)
    check     a check's status (passed, failed, error, skipped)
    test      a test's outcome (passed, failed, error, skipped, xfailed, incomplete, flaky)

    regression   good before, bad after: passed/xfailed/flaky -> failed/error/incomplete; a check
                 passed -> failed/error; a gateway that ran -> broken
    fix          bad before, good after
    change       any other difference (passed -> skipped, passed -> flaky, ...): shown, not judged

A broken gateway has no checks or tests, so a step to or from one is judged at the gateway
level only. Tests found under some gateways that ran but not under all are listed apart
(``partial``), never judged. The compare fails (exit 1) when any step has a regression.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

GOOD_TESTS = frozenset({"passed", "xfailed", "flaky"})
BAD_TESTS = frozenset({"failed", "error", "incomplete"})
GOOD_CHECKS = frozenset({"passed"})
BAD_CHECKS = frozenset({"failed", "error"})
RAN, BROKEN = "ran", "broken"
KINDS = ("regression", "fix", "change")  # also the order rows are listed in

Key = tuple[str, str]  # (check, nodeid)
T = TypeVar("T", bound=Hashable)


@dataclasses.dataclass(frozen=True)
class Leg:
    """One gateway's results, as the rules need them."""

    name: str
    broken: bool = False
    checks: Mapping[str, str] = dataclasses.field(default_factory=dict)  # check -> status, in report order
    tests: Mapping[Key, str] = dataclasses.field(default_factory=dict)  # (check, nodeid) -> outcome, as run

    @property
    def state(self) -> str:
        return BROKEN if self.broken else RAN


@dataclasses.dataclass(frozen=True)
class Row:
    """One difference between two consecutive gateways."""

    kind: str  # regression, fix, change
    level: str  # gateway, check, test
    before: str  # the earlier gateway's name
    after: str  # the later gateway's name
    check: str  # "" at the gateway level
    nodeid: str  # "" at the gateway and check levels
    was: str  # the outcome (or status, or state) under the earlier gateway
    now: str  # ... under the later one


@dataclasses.dataclass(frozen=True)
class Partial:
    """A test found under some of the gateways that ran, not under all."""

    check: str
    nodeid: str
    found: tuple[str, ...]
    missing: tuple[str, ...]


def judge(was: str, now: str, good: frozenset[str], bad: frozenset[str]) -> str | None:
    """regression, fix, change, or None when nothing changed."""
    if was == now:
        return None
    if was in good and now in bad:
        return "regression"
    if was in bad and now in good:
        return "fix"
    return "change"


def step(before: Leg, after: Leg) -> list[Row]:
    """Every difference from ``before`` to ``after``: each check, then the tests of that check."""
    if before.broken or after.broken:
        kind = judge(before.state, after.state, frozenset({RAN}), frozenset({BROKEN}))
        return [Row(kind, "gateway", before.name, after.name, "", "", before.state, after.state)] if kind else []
    rows: list[Row] = []
    # In the later gateway's order. A check found under one of the two only is not judged, and
    # neither are its tests (every test of a leg belongs to one of that leg's checks).
    for check in (c for c in after.checks if c in before.checks):
        kind = judge(before.checks[check], after.checks[check], GOOD_CHECKS, BAD_CHECKS)
        if kind:
            rows.append(Row(kind, "check", before.name, after.name, check, "", before.checks[check],
                            after.checks[check]))
        for key in (k for k in after.tests if k[0] == check and k in before.tests):
            kind = judge(before.tests[key], after.tests[key], GOOD_TESTS, BAD_TESTS)
            if kind:
                rows.append(Row(kind, "test", before.name, after.name, check, key[1], before.tests[key],
                                after.tests[key]))
    return rows


def compare(legs: Sequence[Leg]) -> list[Row]:
    """The rows of every step in the order given: regressions first, then fixes, then changes."""
    rows = [row for earlier, later in itertools.pairwise(legs) for row in step(earlier, later)]
    return sorted(rows, key=lambda r: KINDS.index(r.kind))  # stable: steps, then checks, keep their order


def partial(legs: Sequence[Leg]) -> list[Partial]:
    """Tests found under some of the gateways that ran, but not under all of them."""
    ran = [leg for leg in legs if not leg.broken]
    found: list[Partial] = []
    for key in ordered(*(leg.tests for leg in ran)):
        where = tuple(leg.name for leg in ran if key in leg.tests)
        if len(where) < len(ran):
            found.append(Partial(key[0], key[1], where, tuple(leg.name for leg in ran if key not in leg.tests)))
    return found


def regressed(rows: Iterable[Row]) -> bool:
    return any(row.kind == "regression" for row in rows)


def exit_code(rows: Iterable[Row]) -> int:
    """1 when a later gateway regresses from the one before it, else 0."""
    return 1 if regressed(rows) else 0


def ordered(*collections: Iterable[T]) -> list[T]:
    """The items (a mapping's keys) of each collection, first seen first, once each."""
    return list(dict.fromkeys(item for collection in collections for item in collection))
