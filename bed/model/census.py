"""What became of each collected test: the census's account (judged by ``bed.policy.census``)."""

from __future__ import annotations

import collections
import dataclasses
from typing import Any

ACCOUNTED = ("passed", "failed", "skipped", "flaky", "deselected", "not_in_run", "tier_ended", "unmarked")


@dataclasses.dataclass(frozen=True)
class Fate:
    """One collected test in one tier: what happened to it, in a word (``kind``) and in a phrase."""

    nodeid: str
    kind: str  # one of ACCOUNTED, or "unaccounted"
    why: str
    unknown: tuple[str, ...] = ()  # its markers nobody registered
    tier: str = ""


@dataclasses.dataclass(frozen=True)
class Account:
    collected: int  # distinct node ids
    fates: tuple[Fate, ...]

    def count(self, kind: str) -> int:
        return sum(1 for f in self.fates if f.kind == kind)

    @property
    def unaccounted(self) -> tuple[Fate, ...]:
        return tuple(f for f in self.fates if f.kind not in ACCOUNTED)

    @property
    def unmarked(self) -> tuple[Fate, ...]:
        return tuple(f for f in self.fates if f.kind == "unmarked")

    @property
    def accounted(self) -> int:
        """Distinct node ids with every fate accounted for."""
        bad = {f.nodeid for f in self.unaccounted}
        return len({f.nodeid for f in self.fates} - bad)

    def summary(self) -> str:
        counts = collections.Counter(f.kind for f in self.fates)
        return ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.most_common())

    def to_dict(self, shown: int = 50) -> dict[str, Any]:
        counts = collections.Counter(f.kind for f in self.fates)
        return {
            "collected": self.collected, "accounted": self.accounted, "fates": dict(sorted(counts.items())),
            "unaccounted": [{"nodeid": f.nodeid, "why": f.why} for f in self.unaccounted[:shown]],
            "unmarked": [{"nodeid": f.nodeid, "unknown": list(f.unknown)} for f in self.unmarked[:shown]],
        }
