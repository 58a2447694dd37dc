"""Running a list of named stages over one state, the way nox runs its tasks.

The runner times every stage (and is the only code that does), and the owner it holds
(an ExitStack) unwinds on every way out, so what a stage started is torn down even when a
later stage fails or a signal arrives.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar


class Timed(Protocol):
    timings: dict[str, float]
    owner: contextlib.ExitStack


S = TypeVar("S", bound=Timed)


@dataclasses.dataclass(frozen=True)
class Stage(Generic[S]):
    name: str
    run: Callable[[S], None]


def execute(stages: Sequence[Stage[S]], state: S, clock: Callable[[], float] = time.monotonic) -> S:
    """Each stage in order; the state's owner is unwound when the last one ends or one fails."""
    started = clock()
    with state.owner:
        for stage in stages:
            mark = clock()
            try:
                stage.run(state)
            finally:
                now = clock()
                state.timings[stage.name] = round(now - mark, 3)
                state.timings["total"] = round(now - started, 3)  # so far: the report stage reads it
    return state
