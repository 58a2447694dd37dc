"""Typed comparison: what `bed compare` found, gateway by gateway and step by step.

``Comparison.to_dict()`` is the ``compare.json`` document (schema: bed/report/compare.schema.json);
``Comparison.from_dict()`` reads one back. bed/compare/merge.py builds a Comparison from the
legs; the writers in bed/report/compare.py only read it.

A leaf: it imports nothing from bed, so the compare package and the report writers both may.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

SCHEMA_VERSION = 1
ROW_KINDS = ("regression", "fix", "change")  # also the order the report lists them in
PLURAL = {"regression": "regressions", "fix": "fixes", "change": "changes"}


@dataclasses.dataclass(frozen=True)
class Latency:
    """One surface and mode of one gateway's bench; p50/p99 are None when nothing answered 2xx."""

    p50_ms: float | None
    p99_ms: float | None
    requests: int
    errors: int

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Latency:
        return cls(data["p50_ms"], data["p99_ms"], int(data["requests"]), int(data["errors"]))


LatencyMap = dict[str, dict[str, Latency]]  # surface -> mode -> Latency


@dataclasses.dataclass(frozen=True)
class Measured:
    """What a leg measured: boot time, latencies and timings (volatile: differs run to run)."""

    boot_s: float | None = None
    latency: LatencyMap | None = None  # None: not benched (bench_note says why)
    bench_note: str = ""
    bench_s: float | None = None
    images_s: float | None = None
    leg_s: float = 0.0

    def pairs(self) -> list[tuple[str, str]]:
        """(surface, mode) in the order the bench ran them."""
        return [(s, m) for s, modes in (self.latency or {}).items() for m in modes]

    def at(self, surface: str, mode: str) -> Latency | None:
        return (self.latency or {}).get(surface, {}).get(mode)

    def to_dict(self) -> dict[str, Any]:
        latency = None if self.latency is None else {
            s: {m: dataclasses.asdict(v) for m, v in modes.items()} for s, modes in self.latency.items()}
        return {"boot_s": self.boot_s, "latency": latency, "bench_note": self.bench_note, "bench_s": self.bench_s,
                "images_s": self.images_s, "leg_s": self.leg_s}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Measured:
        raw = data.get("latency")
        latency = None if raw is None else {
            s: {m: Latency.from_dict(v) for m, v in modes.items()} for s, modes in raw.items()}
        return cls(data.get("boot_s"), latency, data.get("bench_note", ""), data.get("bench_s"),
                   data.get("images_s"), float(data.get("leg_s", 0.0)))


@dataclasses.dataclass(frozen=True)
class ProxyImage:
    tag: str
    id: str
    size_mb: float


@dataclasses.dataclass(frozen=True)
class GatewayEntry:
    """One gateway as the comparison shows it."""

    name: str
    spec: str  # as BED_LITELLM takes it
    describe: str
    kind: str  # release, path, image
    commit: str
    dirty: bool
    status: str  # ran, broken
    verdict: str | None  # the leg's verdict line; None when broken
    error: str | None  # why it is broken: the error's one line
    litellm: str
    image: ProxyImage | None
    packages: int | None  # distributions in the proxy image
    measured: Measured
    folder: str
    report: str | None
    repro: str

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["measured"] = self.measured.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GatewayEntry:
        image = data.get("image")
        return cls(**{**data, "image": ProxyImage(**image) if image else None,
                      "measured": Measured.from_dict(data["measured"])})


@dataclasses.dataclass(frozen=True)
class DependencyChange:
    name: str
    before: str | None  # None: absent under the earlier gateway
    after: str | None


@dataclasses.dataclass(frozen=True)
class Delta:
    """One measure under two consecutive gateways, and its change in percent."""

    measure: str  # boot_s, image_mb, packages, or latency:<surface>:<mode>:p50 / :p99
    before: float | None
    after: float | None

    @property
    def change_pct(self) -> float | None:
        """(after - before) / before in percent; None when either is missing or before is 0."""
        if self.before is None or self.after is None or self.before == 0:
            return None
        return round((self.after - self.before) / self.before * 100, 1)

    def to_dict(self) -> dict[str, Any]:
        return {"measure": self.measure, "before": self.before, "after": self.after, "change_pct": self.change_pct}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Delta:
        return cls(data["measure"], data["before"], data["after"])


def deltas(before: GatewayEntry, after: GatewayEntry) -> tuple[Delta, ...]:
    """Boot time, image size and every bench latency (p50 and p99) of two gateways, side by side.

    A latency pair is listed when either gateway measured it, so a surface that stopped answering
    shows (with no percentage) rather than vanishing."""
    out = [Delta("boot_s", before.measured.boot_s, after.measured.boot_s),
           Delta("image_mb", before.image.size_mb if before.image else None,
                 after.image.size_mb if after.image else None)]
    pairs = dict.fromkeys([*before.measured.pairs(), *after.measured.pairs()])
    for surface, mode in pairs:
        was, now = before.measured.at(surface, mode), after.measured.at(surface, mode)
        for point in ("p50", "p99"):
            out.append(Delta(f"latency:{surface}:{mode}:{point}", _ms(was, point), _ms(now, point)))
    return tuple(out)


def _ms(latency: Latency | None, point: str) -> float | None:
    if latency is None:
        return None
    return latency.p50_ms if point == "p50" else latency.p99_ms


@dataclasses.dataclass(frozen=True)
class Step:
    """One gateway against the next: how many rows of each kind, packages and measured deltas."""

    before: str
    after: str
    regressions: int
    fixes: int
    changes: int
    dependencies: tuple[DependencyChange, ...] | None  # None: a freeze could not be read
    deltas: tuple[Delta, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"before": self.before, "after": self.after, "regressions": self.regressions, "fixes": self.fixes,
                "changes": self.changes,
                "dependencies": None if self.dependencies is None else [
                    dataclasses.asdict(d) for d in self.dependencies],
                "deltas": [d.to_dict() for d in self.deltas]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Step:
        deps = data["dependencies"]
        return cls(data["before"], data["after"], data["regressions"], data["fixes"], data["changes"],
                   None if deps is None else tuple(DependencyChange(**d) for d in deps),
                   tuple(Delta.from_dict(d) for d in data.get("deltas", ())))


@dataclasses.dataclass(frozen=True)
class Row:
    """One difference between two consecutive gateways, with what explains it and how to re-run it."""

    kind: str  # regression, fix, change
    level: str  # gateway, check, test
    before: str
    after: str
    check: str
    nodeid: str
    was: str
    now: str
    cause: str  # the CAUSE line (or SKIP reason, or the error that broke the gateway) of the side that explains it
    repro: str


@dataclasses.dataclass(frozen=True)
class OnlyInSome:
    """A test found under some gateways that ran, not under all (listed, never judged)."""

    check: str
    nodeid: str
    found_under: tuple[str, ...]
    missing_under: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class CheckLine:
    name: str
    outcomes: dict[str, str | None]  # gateway -> status (None: not there)


@dataclasses.dataclass(frozen=True)
class TestLine:
    __test__ = False  # not a pytest test class, whatever its name

    check: str
    nodeid: str
    outcomes: dict[str, str | None]  # gateway -> outcome (None: not there)

    @property
    def differs(self) -> bool:
        return len(set(self.outcomes.values())) > 1


@dataclasses.dataclass(frozen=True)
class RunInfo:
    """How the comparison was made (volatile): legs run here, or legs from elsewhere merged."""

    mode: str  # local, merge
    jobs: int | None
    seconds: float
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Comparison:
    gate: str
    tiers: tuple[str, ...]
    verdict: str  # REGRESSED, NO REGRESSION
    exit_code: int
    gateways: tuple[GatewayEntry, ...]
    steps: tuple[Step, ...]
    regressions: tuple[Row, ...]
    fixes: tuple[Row, ...]
    changes: tuple[Row, ...]
    only_in_some: tuple[OnlyInSome, ...]
    checks: tuple[CheckLine, ...]
    tests: tuple[TestLine, ...]
    notes: tuple[str, ...]
    run: RunInfo | None = None

    @property
    def names(self) -> list[str]:
        return [g.name for g in self.gateways]

    def rows(self, kind: str) -> tuple[Row, ...]:
        rows: tuple[Row, ...] = getattr(self, PLURAL[kind])
        return rows

    def with_run(self, run: RunInfo) -> Comparison:
        return dataclasses.replace(self, run=run)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION, "kind": "bed-compare", "gate": self.gate, "tiers": list(self.tiers),
            "verdict": self.verdict, "exit_code": self.exit_code,
            "gateways": [g.to_dict() for g in self.gateways], "steps": [s.to_dict() for s in self.steps],
            **{PLURAL[k]: [dataclasses.asdict(r) for r in self.rows(k)] for k in ROW_KINDS},
            "only_in_some": [{**dataclasses.asdict(p), "found_under": list(p.found_under),
                              "missing_under": list(p.missing_under)} for p in self.only_in_some],
            "checks": [dataclasses.asdict(c) for c in self.checks],
            "tests": [dataclasses.asdict(t) for t in self.tests],
            "notes": list(self.notes),
        }
        if self.run is not None:
            out["run"] = dataclasses.asdict(self.run)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Comparison:
        run = data.get("run")
        return cls(
            gate=data["gate"], tiers=tuple(data["tiers"]), verdict=data["verdict"], exit_code=data["exit_code"],
            gateways=tuple(GatewayEntry.from_dict(g) for g in data["gateways"]),
            steps=tuple(Step.from_dict(s) for s in data["steps"]),
            regressions=tuple(Row(**r) for r in data["regressions"]),
            fixes=tuple(Row(**r) for r in data["fixes"]),
            changes=tuple(Row(**r) for r in data["changes"]),
            only_in_some=tuple(OnlyInSome(p["check"], p["nodeid"], tuple(p["found_under"]),
                                          tuple(p["missing_under"])) for p in data["only_in_some"]),
            checks=tuple(CheckLine(**c) for c in data["checks"]),
            tests=tuple(TestLine(**t) for t in data["tests"]),
            notes=tuple(data["notes"]),
            run=RunInfo(**run) if run else None,
        )
