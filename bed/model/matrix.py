"""One cell of the agent matrix: an agent at a version, on a surface and route, one kind of turn, and
how it went (``bed.report.matrix`` takes the cells from the agents tier's records)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


@dataclasses.dataclass(frozen=True)
class Cell:
    agent: str
    version: str
    surface: str
    route: str
    kind: str  # plain or tool
    status: str  # passed, failed, skipped or flaky (failed, then passed on the re-run)
    seconds: float | None  # the turn's wall time through the gateway; None when it did not run
    group: str = ""
    side: str = ""  # a failed turn: "gateway" or "agent", the side that broke it
    nodeid: str = ""
    note: str = ""  # why it failed or skipped (the first line of the test's message)

    @property
    def row(self) -> tuple[str, str, str, str]:
        return (self.agent, self.version, self.surface, self.route)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cell:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})
