"""The watch on a tier's dependencies: it looks at once, every poll, and once more at the end."""

from __future__ import annotations

import io
from typing import cast

from bed.console import Console
from bed.engine.protocol import State
from bed.stack.owner import Service
from bed.stack.watch import Watch


class Dep:
    def __init__(self, state: State) -> None:
        self.name, self.current, self.looks = "bed-x-mini-agent", state, 0

    def state(self) -> State:
        self.looks += 1
        return self.current

    def log_tail(self, lines: int) -> str:
        return "the shim's last words"


def watch(dep: Dep, stopped: list[str], poll_s: float = 30) -> Watch:
    return Watch([cast(Service, dep)], lambda: stopped.append("stop"), Console(out=io.StringIO()), poll_s=poll_s)


def test_a_dependency_down_before_the_tier_began_stops_it_at_once() -> None:
    dep, stopped = Dep(State("exited", 137)), []
    with watch(dep, stopped) as w:
        for _ in range(100):  # the first look is at once, not after a poll interval
            if stopped:
                break
            w._done.wait(0.01)
    assert stopped == ["stop"]
    assert w.down is not None
    assert w.down.message == "DEPENDENCY DOWN: bed-x-mini-agent is exited (code 137)"


def test_a_session_that_ended_between_two_looks_gets_one_more() -> None:
    dep, stopped = Dep(State("running")), []
    with watch(dep, stopped) as w:
        w._done.wait(0.05)  # the watch looked once: all well; the tests then fail fast, the shim dies
        dep.current = State("exited", 137)
    assert w.down is not None  # the tier's failures are the dependency's, not the tests'
    assert stopped == []  # the session had ended: nothing to stop


def test_a_healthy_dependency_is_no_cause() -> None:
    dep, stopped = Dep(State("running")), []
    with watch(dep, stopped, poll_s=0.01) as w:
        w._done.wait(0.1)
    assert w.down is None
    assert stopped == []
    assert dep.looks >= 3
