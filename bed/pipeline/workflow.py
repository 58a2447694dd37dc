"""One readiness run: the stages in order, each handed what the ones before produced (the way nox
runs its tasks), timed, under one owner that tears down whatever was started on every way out.

A run that fails past its configuration (an image that will not build, a gateway that never
becomes healthy, an engine that refuses a call) still writes its reports: NOT READY, the error as
the cause, the failing container's last lines with it. Then the error ends the run with its own
exit code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import TypeVar

from ..errors import BedError, ConfigError
from ..model.results import RunResult
from .stages import images, judge, prepare, report, stack, tiers
from .stages.images import Built
from .stages.prepare import Inputs, Prepared
from .stages.stack import Running

T = TypeVar("T")
# Run while the stack is still up, after the tiers (a compare leg benches its proxy then).
AfterTiers = Callable[[Inputs, Prepared, Built, Running, tiers.TierOutcomes], None]


class Timer:
    """The run's clock: each stage's seconds, and the total so far (the report stage reads it)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.started = clock()
        self.timings: dict[str, float] = {}

    def __call__(self, name: str, stage: Callable[..., T], *args: object) -> T:
        mark = self.clock()
        try:
            return stage(*args)
        finally:
            now = self.clock()
            self.timings[name] = round(now - mark, 3)
            self.timings["total"] = round(now - self.started, 3)


def run(inputs: Inputs, *, after_tiers: Sequence[AfterTiers] = ()) -> RunResult:
    timed = Timer(inputs.clock)
    with contextlib.ExitStack() as owner:
        prepared = timed("prepare", prepare.prepare, inputs)
        facts = report.Facts(prepared)
        try:
            built = timed("images", images.build, inputs, prepared)
            facts = report.Facts(prepared, built)
            running = timed("stack", stack.up, inputs, prepared, built, owner)
            facts = report.Facts(prepared, built, running)
            outcomes = timed("tiers", tiers.run_tiers, inputs, prepared, built, running)
            facts = report.Facts(prepared, built, running, outcomes)
            for extra in after_tiers:
                extra(inputs, prepared, built, running, outcomes)
            timed("teardown", stack.down, inputs, built, running, outcomes.services)
        except ConfigError:
            raise
        except BedError as exc:  # the reports still say what happened; then the error ends the run
            found = judge.setup_failed(_stage_of(timed.timings), exc, prepared.book)
            timed("report", report.report, inputs, facts, found, timed.timings)
            raise
        found = timed("judge", judge.judge, inputs.config, prepared.book, outcomes, inputs.now())
        written = timed("report", report.report, inputs, facts, found, timed.timings)
    return written.result


def _stage_of(timings: dict[str, float]) -> str:
    """The stage that was running when the run failed: the last one timed."""
    return next(reversed([k for k in timings if k != "total"]), "prepare")
