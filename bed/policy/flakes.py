"""What a flake is: a failed test whose very same node id ran again and passed.

The re-run is trusted only when it is whole: its session finished with pytest's own exit
status 0 or 1, nothing failed to collect, and every id it was asked for ran. Anything else
(not found, deselected, a setup or teardown error, a crash, fewer tests than asked) keeps
every failure a failure.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..model.evidence import Evidence


def flaky(asked: Iterable[str], rerun: Evidence | None) -> frozenset[str]:
    asked = tuple(asked)
    if rerun is None or not trustworthy(rerun) or not asked:
        return frozenset()
    if any(nodeid not in rerun.tests for nodeid in asked):
        return frozenset()  # it ran fewer tests than it was asked to: nothing it says counts
    return frozenset(n for n in asked if rerun.tests[n].outcome == "passed")


def trustworthy(evidence: Evidence) -> bool:
    """A session that finished normally and collected cleanly: its per-test outcomes can be used."""
    selection = evidence.selection
    return (evidence.finished and evidence.exitstatus in (0, 1) and not evidence.collect_errors
            and not evidence.conflicts and not evidence.lost
            and not evidence.problems and (selection is None or not selection.missing))


def worth_rerunning(first: Evidence) -> tuple[str, ...]:
    """The failures to run once more, or none when the first run cannot be trusted at all."""
    return first.failed if trustworthy(first) else ()
