"""The agent matrix: agent x version x surface/route x (plain, tool) -> passed / failed / skipped,
with seconds, taken from the agent tier's own records.

Each agent test records its cell as user properties (agent, version, surface, route, group, kind,
turn_seconds; on a failure side and control_turn_seconds), which bed's pytest plugin writes beside
the test's outcome. Nothing here parses node ids or rebuilds a cell from anything else: a test
without those properties is not a cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from ..model.matrix import Cell

KEYS = ("agent", "version", "surface", "route", "kind")
STATUS = {"passed": "passed", "xfailed": "passed", "skipped": "skipped", "flaky": "flaky"}  # else failed


class Recorded(Protocol):
    """A test's outcome as bed's plugin recorded it (bed.model.evidence.TestOutcome)."""

    @property
    def outcome(self) -> str: ...

    @property
    def message(self) -> str: ...

    @property
    def properties(self) -> Mapping[str, Any]: ...


def cells(tests: Mapping[str, Recorded], outcomes: Mapping[str, str] | None = None) -> tuple[Cell, ...]:
    """The cells, in the order the tests ran; ``outcomes``: the check's final word per node id
    (a test that failed and then passed on the re-run is "flaky")."""
    out = []
    for nodeid, test in tests.items():
        props = test.properties
        if not all(isinstance(props.get(k), str) for k in KEYS):
            continue
        outcome = (outcomes or {}).get(nodeid, test.outcome)
        status = STATUS.get(outcome, "failed")
        seconds = props.get("turn_seconds")
        out.append(Cell(props["agent"], props["version"], props["surface"], props["route"], props["kind"], status,
                        float(seconds) if isinstance(seconds, int | float) else None, str(props.get("group", "")),
                        str(props.get("side", "")) if status == "failed" else "", nodeid,
                        "" if status == "passed" else test.message.split(" | ")[0][:200]))
    return tuple(out)


def table(found: Iterable[Cell]) -> list[str]:
    """Markdown: one row per agent, version, surface and route; one column per kind of turn."""
    items = list(found)
    kinds = [k for k in ("plain", "tool") if any(c.kind == k for c in items)]
    rows: dict[tuple[str, str, str, str], dict[str, Cell]] = {}
    for cell in items:
        rows.setdefault(cell.row, {})[cell.kind] = cell
    lines = [f"| agent | version | surface | route | {' | '.join(kinds)} |", "|---|---|---|---|" + "---|" * len(kinds)]
    for (agent, version, surface, route), by_kind in rows.items():
        shown = [_shown(by_kind.get(k)) for k in kinds]
        lines.append(f"| {agent} | {version} | {surface} | {route} | {' | '.join(shown)} |")
    return lines


def _shown(cell: Cell | None) -> str:
    if cell is None:
        return "—"
    seconds = f" {cell.seconds:.1f} s" if cell.seconds is not None else ""
    if cell.status == "failed":
        return f"FAIL{seconds}" + (f" ({cell.side} broke it)" if cell.side else "")
    return {"passed": "PASS", "skipped": "SKIP", "flaky": "FLAKY"}[cell.status] + seconds


def summary(found: Iterable[Cell]) -> str:
    """One line: how many cells passed, failed and skipped."""
    items = list(found)
    counts = {s: sum(1 for c in items if c.status == s) for s in ("passed", "failed", "flaky", "skipped")}
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no cells"
