from __future__ import annotations

import pytest

from bed.engine.protocol import GONE, State
from bed.policy.deps import Health, health, is_down

RUNNING = State("running")


@pytest.mark.parametrize(("state", "answered", "left", "expected"), [
    (RUNNING, True, True, Health.SERVING),
    (RUNNING, False, True, Health.STARTING),
    (RUNNING, False, False, Health.UNREACHABLE),
    (State("exited", 3), False, True, Health.DOWN),
    (State("running", None, oom_killed=True), True, True, Health.DOWN),
    (State("paused"), True, True, Health.DOWN),
    (GONE, False, True, Health.DOWN),
    (State("dead", 1), False, False, Health.DOWN),
], ids=["serving", "starting", "unreachable", "exited", "oom", "paused", "removed", "dead"])
def test_health(state: State, answered: bool, left: bool, expected: Health) -> None:
    assert health(state, answered=answered, budget_left=left) is expected


@pytest.mark.parametrize(("state", "down"), [
    (RUNNING, False), (State("paused"), True), (State("exited", 0), True), (GONE, True), (State("restarting"), True)])
def test_is_down(state: State, down: bool) -> None:
    assert is_down(state) is down
