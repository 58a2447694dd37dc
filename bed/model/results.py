"""Typed results: what each check did, and the run as a whole. Reports only read these.

``RunResult.to_dict()`` is the ``mvp_report.json`` document (schema: bed/report/report.schema.json);
``RunResult.from_dict()`` reads one back (for `bed repro` and the tests).
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from .matrix import Cell

SCHEMA_VERSION = 2  # 2: node ids come from pytest itself (bed's plugin), not from JUnit
# What a test's entry in CheckResult.outcomes can say: pytest's outcome as bed's plugin recorded
# it, or "flaky" (it failed, then passed on the immediate re-run).
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "incomplete", "flaky")


class Status(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"  # the check could not run at all (a container died, a budget ran out)


@dataclasses.dataclass(frozen=True)
class Cause:
    """The first failing test of a check: where it is and what it said."""

    nodeid: str
    location: str  # file:line, or "" when unknown
    message: str
    log_tail: str = ""  # the involved container's last lines, when a container was involved

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class CheckResult:
    name: str  # all_smokes_core, all_smokes_nd, release_smokes
    tier: str
    status: Status
    duration_s: float
    tests: int = 0
    failures: int = 0
    skipped: int = 0
    reason: str = ""  # why it was skipped or errored, for humans
    cause: Cause | None = None
    junit: str = ""  # path of its JUnit XML, relative to the project root
    required: bool = False  # named by READINESS_EXPECT or STRICT: a skip fails the gate
    flaky: tuple[str, ...] = ()  # failed, then passed on the immediate re-run
    quarantined: tuple[str, ...] = ()  # failed, but quarantined: reported, not gating
    # Every test's outcome ({nodeid: one of OUTCOMES}, in the order they ran): what `bed compare`
    # lines up between gateways. Absent from reports written before it existed.
    outcomes: dict[str, str] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["status"] = self.status.value
        out["cause"] = self.cause.to_dict() if self.cause else None
        out["flaky"], out["quarantined"] = list(self.flaky), list(self.quarantined)
        out["outcomes"] = dict(self.outcomes)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        cause = Cause(**data["cause"]) if data.get("cause") else None
        return cls(**{**data, "status": Status(data["status"]), "cause": cause,
                      "flaky": tuple(data.get("flaky", ())), "quarantined": tuple(data.get("quarantined", ())),
                      "outcomes": dict(data.get("outcomes", {}))})


@dataclasses.dataclass(frozen=True)
class RunResult:
    run_id: str
    gate: str
    ready: bool
    strict: bool
    checks: tuple[CheckResult, ...]
    bases: dict[str, str]
    images: dict[str, dict[str, Any]]
    timings: dict[str, float]
    versions: dict[str, str]
    expect: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    started_at: str = ""
    repro: dict[str, Any] = dataclasses.field(default_factory=dict)  # what `bed repro` needs
    quarantine: tuple[dict[str, Any], ...] = ()  # the tests in quarantine after this run
    gateway: dict[str, Any] = dataclasses.field(default_factory=dict)  # the gateway under test (kind, value, ...)
    reused_from: str = ""  # `bed run --reuse`: the run id of the stack kept by `bed up`
    census: dict[str, Any] = dataclasses.field(default_factory=dict)  # every collected test's fate, counted
    deployments: tuple[dict[str, Any], ...] = ()  # per deployment: against its twin, and live (deployments.py)
    agent_matrix: tuple[Cell, ...] = ()  # the agents tier's cells (bed.report.matrix)

    @property
    def verdict(self) -> str:
        return "READY" if self.ready else "NOT READY"

    def verdict_line(self) -> str:
        """The verdict, naming what did not run, so a green with skips never reads as a full green:
        ``READY (1 check skipped: all_smokes_nd - shim exited 3)``."""
        skipped = [c for c in self.checks if c.status is Status.SKIPPED]
        failed = [c for c in self.checks if c.status in (Status.FAILED, Status.ERROR)]
        parts = []
        if failed:
            parts.append(f"{len(failed)} check{'s' * (len(failed) > 1)} failed: "
                         + ", ".join(c.name for c in failed))
        if skipped:
            parts.append(f"{len(skipped)} check{'s' * (len(skipped) > 1)} skipped: "
                         + "; ".join(f"{c.name} - {c.reason}" if c.reason else c.name for c in skipped))
        return self.verdict + (f" ({'; '.join(parts)})" if parts else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "gate": self.gate,
            "verdict": self.verdict,
            "verdict_line": self.verdict_line(),
            "ready": self.ready,
            "strict": self.strict,
            "expect": list(self.expect),
            "started_at": self.started_at,
            "bases": dict(self.bases),
            "checks": [c.to_dict() for c in self.checks],
            "images": self.images,
            "timings": self.timings,
            "versions": self.versions,
            "notes": list(self.notes),
            "repro": self.repro,
            "quarantine": list(self.quarantine),
            "gateway": dict(self.gateway),
            "reused_from": self.reused_from,
            **({"census": dict(self.census)} if self.census else {}),
            "deployments": list(self.deployments),
            "agent_matrix": [c.to_dict() for c in self.agent_matrix],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        return cls(
            run_id=data["run_id"], gate=data["gate"], ready=data["ready"], strict=data["strict"],
            checks=tuple(CheckResult.from_dict(c) for c in data["checks"]), bases=data["bases"],
            images=data["images"], timings=data["timings"], versions=data["versions"],
            expect=tuple(data.get("expect", ())), notes=tuple(data.get("notes", ())),
            started_at=data.get("started_at", ""), repro=data.get("repro", {}),
            quarantine=tuple(data.get("quarantine", ())), gateway=dict(data.get("gateway", {})),
            reused_from=data.get("reused_from", ""), census=dict(data.get("census") or {}),
            deployments=tuple(data.get("deployments", ())),
            agent_matrix=tuple(Cell.from_dict(c) for c in data.get("agent_matrix", ())),
        )
