from __future__ import annotations

import pytest

from bed.policy import budgets
from bed.policy.budgets import DETERMINISTIC_S, parts, tier_budget, workers


@pytest.mark.parametrize(("tier", "disabled", "expected"), [
    ("deterministic", False, DETERMINISTIC_S), ("release", False, DETERMINISTIC_S), ("nd", False, 900.0),
    ("agents", False, 900.0),
    ("nd", True, None), ("deterministic", True, None),
])
def test_tier_budget(tier: str, disabled: bool, expected: float | None) -> None:
    assert tier_budget(tier, disabled=disabled, nd_budget_s=900.0) == expected


def test_the_deterministic_budget_is_the_seed_s_600_s() -> None:
    assert DETERMINISTIC_S == 600.0


@pytest.mark.parametrize(("requested", "cpus", "live", "expected"), [
    (None, 2, False, (None, False)),
    (6, 2, False, (2, True)),
    (2, 2, False, (2, False)),
    (1, 4, False, (1, False)),
    (None, 2, True, (2, False)),
    (1, 8, True, (2, False)),
    (6, 4, True, (4, True)),
])
def test_workers(requested: int | None, cpus: int, live: bool, expected: tuple[int | None, bool]) -> None:
    assert workers(requested, cpus, live=live) == expected


def test_a_single_requested_worker_is_raised_for_live_smokes() -> None:
    assert workers(1, 8, live=True, live_minimum=3) == (3, False)
    assert workers(None, 8, live=True, live_minimum=1) == (1, False)


@pytest.mark.parametrize(("tier", "configured", "expected"), [
    ("agents", "2g", "4g"),  # three agent clients at once: 2g was OOM-killed mid-turn
    ("agents", "4g", "4g"),
    ("agents", "4096m", "4096m"),
    ("agents", "4095m", "4g"),
    ("agents", "8g", "8g"),
    ("agents", "4294967296", "4294967296"),
    ("agents", "3g", "4g"),
    ("nd", "2g", "2g"),
    ("deterministic", "512m", "512m"),
    ("agents", "", "4g"),
])
def test_the_agents_runner_gets_at_least_its_own_memory(tier: str, configured: str, expected: str) -> None:
    assert budgets.runner_memory(tier, configured) == expected


def test_workers_are_not_live_unless_told() -> None:
    assert workers(1, 8) == (1, False)
    assert workers(None, 8) == (None, False)


def test_no_live_minimum_adds_no_worker() -> None:
    assert workers(None, 8, live=True, live_minimum=0) == (0, False)


@pytest.mark.parametrize(("tier", "warm", "rerun", "sharded", "expected"), [
    ("nd", True, False, False, 3),
    ("agents", True, False, False, 1),
    ("deterministic", True, False, False, 1),
    ("release", True, False, False, 1),
    ("nd", False, False, False, 1),  # a fresh runner per part costs an interpreter each
    ("nd", True, True, False, 1),  # a re-run's few ids
    ("nd", True, False, True, 1),  # a CI shard is a part already
    ("nd", True, True, True, 1),
    ("nd", False, True, True, 1),
], ids=["nd-warm", "agents-warm", "deterministic-warm", "release-warm", "cold", "rerun", "shard", "rerun-shard",
        "cold-rerun-shard"])
def test_parts(tier: str, warm: bool, rerun: bool, sharded: bool, expected: int) -> None:
    assert parts(tier, warm=warm, rerun=rerun, sharded=sharded) == expected
