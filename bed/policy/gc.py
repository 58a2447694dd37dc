"""When may bed remove another run's containers? Only when it can prove that run is dead.

A run is provably dead when it was created on this machine, in this PID namespace, and the
process that created it no longer exists (its PID is free, or now belongs to a process that
started at another time). A run from another machine or PID namespace (a CI job sharing the
engine) cannot be proven dead from here, so it is never swept; neither is a kept stack,
unless asked for by `bed down` or `bed gc --all`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..engine.labels import KEEP, Identity

StartedOf = Callable[[int], "str | None"]  # a PID's start time here, or None when no such process


def provably_dead(labels: Mapping[str, str], here: Identity, started_of: StartedOf) -> bool:
    creator = Identity.from_labels(labels)
    if creator is None or creator.machine != here.machine or creator.pidns != here.pidns:
        return False
    return started_of(creator.pid) != creator.started


def sweepable(labels: Mapping[str, str], here: Identity, started_of: StartedOf, *, kept_too: bool) -> bool:
    """What `bed gc` removes: dead runs, and kept stacks only when asked (--all)."""
    if labels.get(KEEP) == "1":
        return kept_too
    return provably_dead(labels, here, started_of)
