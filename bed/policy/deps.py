"""A dependency that is not serving: down (bed started it and it failed) or unreachable.

Down is the only reason for a loud SKIP: the container exited, was OOM-killed, was removed, or
froze (paused). A container that runs but cannot be reached is bed's own setup failing and
ends the run with its error instead.
"""

from __future__ import annotations

import enum

from ..engine.protocol import State


class Health(enum.Enum):
    SERVING = "serving"
    DOWN = "down"  # exited, OOM-killed, removed or paused: a SKIP (or a failure when required)
    UNREACHABLE = "unreachable"  # runs, but does not answer where bed looks: a STACK_ERROR
    STARTING = "starting"  # runs, not answering yet, still within its budget


def health(state: State, *, answered: bool, budget_left: bool) -> Health:
    if state.ended or state.status == "paused":  # ended: exited, dead, removed or OOM-killed
        return Health.DOWN
    if answered:
        return Health.SERVING
    return Health.STARTING if budget_left else Health.UNREACHABLE


def is_down(state: State) -> bool:
    """What the watch acts on while a tier runs."""
    return state.status != "running"
