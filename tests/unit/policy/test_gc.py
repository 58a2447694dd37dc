"""gc's rule: a run is swept only when it is provably dead; a live run and a kept stack never are."""

from __future__ import annotations

import pytest

from bed.engine.labels import KEEP, Identity
from bed.policy.gc import provably_dead, sweepable

HERE = Identity("machine-1", "pid:[4026531836]", 100, "5000")
ALIVE = {100: "5000", 200: "6000"}


def started_of(pid: int) -> str | None:
    return ALIVE.get(pid)


def labels(machine: str = "machine-1", pidns: str = "pid:[4026531836]", pid: int = 200, started: str = "6000",
           **extra: str) -> dict[str, str]:
    return {**Identity(machine, pidns, pid, started).labels(), **extra}


@pytest.mark.parametrize(("given", "dead"), [
    (labels(), False),  # its process runs, since the same start time
    (labels(pid=300), True),  # no such process here
    (labels(started="5999"), True),  # the PID was reused by a newer process
    (labels(machine="machine-2", pid=300), False),  # another machine: cannot tell
    (labels(pidns="pid:[4026532999]", pid=300), False),  # another PID namespace (a CI container): cannot tell
    ({"bed.pid": "300"}, False),  # an older bed's labels: not enough to prove anything
    ({}, False),
], ids=["alive", "gone", "pid-reused", "other-machine", "other-pid-namespace", "old-labels", "no-labels"])
def test_provably_dead(given: dict[str, str], dead: bool) -> None:
    assert provably_dead(given, HERE, started_of) is dead


def test_a_kept_stack_is_swept_only_when_asked() -> None:
    kept = labels(pid=300, **{KEEP: "1"})
    assert not sweepable(kept, HERE, started_of, kept_too=False)
    assert sweepable(kept, HERE, started_of, kept_too=True)


def test_a_dead_run_is_swept_and_a_live_one_never() -> None:
    assert sweepable(labels(pid=300), HERE, started_of, kept_too=False)
    assert not sweepable(labels(), HERE, started_of, kept_too=True)
