"""Flake quarantine, as the old harness's rule has it.

Two flakes of the same test within 7 days put it in quarantine: it still runs and is reported,
in its own section, but its failures no longer gate. It is re-promoted after a number of
consecutive clean runs (BED_REPROMOTE_AFTER, 5 by default); a failure resets that count. The
book is plain data (``bed.model.quarantine``); ``bed.report.flakestore`` keeps it between runs.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable
from typing import Any

from ..model.quarantine import Book, Entry

WINDOW = datetime.timedelta(days=7)
THRESHOLD = 2


@dataclasses.dataclass(frozen=True)
class Changes:
    quarantined: tuple[str, ...] = ()  # newly quarantined this run
    repromoted: tuple[str, ...] = ()


def record(book: Book, check: str, *, flaky: Iterable[str], failed: Iterable[str], passed: Iterable[str],
           now: datetime.datetime, repromote_after: int) -> Changes:
    """Apply one run's outcome to ``book``: flaky tests (failed, then passed on re-run), tests that
    failed for good, and tests that passed at once."""
    newly: list[str] = []
    back: list[str] = []
    for nodeid in flaky:
        entry = book.entries.setdefault(nodeid, Entry(check=check))
        entry.flakes = [t for t in entry.flakes if now - _parse(t) <= WINDOW] + [now.isoformat()]
        entry.clean_runs = 0
        if not entry.quarantined_since and len(entry.flakes) >= THRESHOLD:
            entry.quarantined_since = now.isoformat()
            newly.append(nodeid)
    for nodeid in failed:
        if nodeid in book.entries:
            book.entries[nodeid].clean_runs = 0
    for nodeid in passed:
        held = book.entries.get(nodeid)
        if held is None or not held.quarantined_since:
            continue
        held.clean_runs += 1
        if held.clean_runs >= repromote_after:
            held.quarantined_since = None
            held.flakes = []
            held.clean_runs = 0
            back.append(nodeid)
    return Changes(tuple(newly), tuple(back))


def issue_text(nodeid: str, entry: Entry, repromote_after: int) -> str:
    """A ready-to-file issue for a newly quarantined test."""
    flakes = "\n".join(f"- {t}" for t in entry.flakes)
    return (f"# Quarantined flaky test: `{nodeid}`\n\n"
            f"Check: `{entry.check}`. It failed and then passed on an immediate re-run "
            f"{len(entry.flakes)} times within 7 days:\n\n{flakes}\n\n"
            "It still runs and is reported, but no longer gates readiness. It is re-promoted "
            f"automatically after {repromote_after} consecutive clean runs (the count is in PROJECT_READY.md).\n\n"
            "To do: find the race or the dependency on timing, fix it, and link the evidence here.\n")


def _parse(stamp: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(stamp)


def as_report(book: Book, repromote_after: int) -> list[dict[str, Any]]:
    return [{"nodeid": k, "check": v.check, "flakes": len(v.flakes), "since": v.quarantined_since,
             "clean_runs": v.clean_runs, "repromote_after": repromote_after}
            for k, v in sorted(book.quarantined().items())]
