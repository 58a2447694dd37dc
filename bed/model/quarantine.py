"""The flake book: every test with a flake history, by node id (``bed.policy.quarantine`` holds
the rules that write it, ``bed.report.flakestore`` keeps it between runs)."""

from __future__ import annotations

import copy
import dataclasses


@dataclasses.dataclass
class Entry:
    check: str
    flakes: list[str] = dataclasses.field(default_factory=list)  # ISO times
    quarantined_since: str | None = None
    clean_runs: int = 0


class Book:
    """Every test with a flake history, by node id."""

    def __init__(self, entries: dict[str, Entry] | None = None) -> None:
        self.entries = entries if entries is not None else {}

    def is_quarantined(self, nodeid: str) -> bool:
        entry = self.entries.get(nodeid)
        return bool(entry and entry.quarantined_since)

    def quarantined(self) -> dict[str, Entry]:
        return {k: v for k, v in self.entries.items() if v.quarantined_since}

    def copy(self) -> Book:
        """A book of its own: a run records into a copy, the one it read stays as it was."""
        return Book(copy.deepcopy(self.entries))
