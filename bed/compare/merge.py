"""Legs -> one comparison document: compare.json (schema: bed/report/compare.schema.json).

The legs are read from their folders: the ones a local compare has just written, or the ones
CI jobs wrote with ``bed compare --leg`` and a merge job downloaded. Both ways go through this
one function, so a merged comparison is the local one, apart from what VOLATILE names
(measurements, timings and paths).

The order of the folders is the order of the gateways: each step compares one with the next.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config.paths import read_bounded
from ..errors import ConfigError
from ..images.gateway import diff_freezes
from ..model.comparison import (
    CheckLine,
    Comparison,
    DependencyChange,
    GatewayEntry,
    Measured,
    OnlyInSome,
    ProxyImage,
    Row,
    Step,
    TestLine,
    deltas,
)
from ..model.results import RunResult, Status
from ..policy import regressions
from .legs import LEG_FILE, LEG_SCHEMA_VERSION, shown

MAX_BYTES = 16 * 1024 * 1024
# Keys whose values differ between two compares of the same gateways: measurements, timings and
# where the files are. Everything else is a function of the legs' results.
VOLATILE = {"run": "the compare itself: mode, jobs, seconds", "measured": "boot time, latencies, bench timings",
            "folder": "where a leg's files are", "report": "the leg's mvp_report.json", "repro": "a command naming it",
            "deltas": "boot time, image size and latencies, step by step"}
HINT = "pass folders written by `bed compare --leg GATEWAY --out DIR` (each holds leg.json)."


@dataclasses.dataclass(frozen=True)
class Loaded:
    """One leg as read back: its leg.json and, when it ran, its readiness report."""

    folder: Path
    leg: dict[str, Any]
    result: RunResult | None

    @property
    def name(self) -> str:
        return str(self.leg["name"])

    @property
    def broken(self) -> bool:
        return bool(self.leg["status"] == "broken")

    def report_path(self) -> Path | None:
        return self.folder / self.leg["report"] if self.leg.get("report") else None


def _json(path: Path) -> Any:
    try:
        return json.loads(read_bounded(path, MAX_BYTES, "compare leg file", hint=HINT))
    except (ValueError, UnicodeDecodeError):
        raise ConfigError(f"{path} is not JSON.", hint=HINT) from None


def load(folder: Path) -> Loaded:
    leg = _json(folder / LEG_FILE)
    if not isinstance(leg, dict) or leg.get("kind") != "bed-compare-leg":
        raise ConfigError(f"{folder / LEG_FILE} is not a compare leg.", hint=HINT)
    if leg.get("schema_version") != LEG_SCHEMA_VERSION:
        raise ConfigError(f"{folder / LEG_FILE} is a leg of schema version {leg.get('schema_version')}, this bed "
                          f"reads version {LEG_SCHEMA_VERSION}.",
                          hint="run every leg and the merge with one bed version.")
    result = None
    if leg.get("report"):
        report = leg["report"]
        if not isinstance(report, str) or not (folder / report).resolve().is_relative_to(folder.resolve()):
            raise ConfigError(f"{folder / LEG_FILE} names a report outside its folder ({report!r}).", hint=HINT)
        data = _json(folder / report)
        try:
            result = RunResult.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{folder / leg['report']} is not a bed report ({exc}).", hint=HINT) from None
    return Loaded(folder, leg, result)


def load_all(folders: Sequence[Path]) -> list[Loaded]:
    """Every leg, in the order given; they must be distinct gateways that ran the same gate."""
    if len(folders) < 2:
        raise ConfigError(f"--merge needs at least 2 leg folders; got {len(folders)}.", hint=HINT)
    legs = [load(folder) for folder in folders]
    names = [leg.name for leg in legs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"the legs name {', '.join(twice)} more than once.",
                          hint="pass each gateway's leg folder once, earlier gateway first.")
    gates = {(leg.leg["gate"], tuple(leg.leg["tiers"])) for leg in legs}
    if len(gates) > 1:
        shown_gates = "; ".join(f"{leg.name}: {leg.leg['gate']} ({','.join(leg.leg['tiers'])})" for leg in legs)
        raise ConfigError(f"the legs ran different gates or tiers ({shown_gates}).",
                          hint="run every leg with the same --gate / --tier.")
    return legs


def policy_leg(leg: Loaded) -> regressions.Leg:
    if leg.broken or leg.result is None:
        return regressions.Leg(leg.name, broken=True)
    checks = {c.name: c.status.value for c in leg.result.checks}
    single = _single_versions(leg.result.versions.get("agents", ""))
    tests = {(c.name, _lined_up(nodeid, single)): outcome for c in leg.result.checks
             for nodeid, outcome in c.outcomes.items()}
    return regressions.Leg(leg.name, checks=checks, tests=tests)


def _single_versions(spec: str) -> dict[str, str]:
    """The agents a leg ran at one version only ({agent: version}), from its report's versions."""
    seen: dict[str, list[str]] = {}
    for item in filter(None, spec.split(",")):
        agent, _, version = item.partition("@")
        seen.setdefault(agent, []).append(version)
    return {agent: versions[0] for agent, versions in seen.items() if len(versions) == 1}


def _lined_up(nodeid: str, single: dict[str, str]) -> str:
    """An agent cell's node id without its version, when the leg ran that agent at one version:
    the same cell of two legs at two versions is one row (a regression from one to the next)."""
    for agent, version in single.items():
        nodeid = nodeid.replace(f"[{agent}@{version}-", f"[{agent}@*-")
    return nodeid


def document(legs: Sequence[Loaded], root: Path) -> Comparison:
    """The comparison of ``legs`` (in the order given)."""
    judged = [policy_leg(leg) for leg in legs]
    rows = regressions.compare(judged)
    by_name = {leg.name: leg for leg in legs}
    gateways = tuple(_gateway(leg, root) for leg in legs)
    typed = {kind: tuple(_row(r, by_name, root) for r in rows if r.kind == kind) for kind in regressions.KINDS}
    return Comparison(
        gate=legs[0].leg["gate"],
        tiers=tuple(legs[0].leg["tiers"]),
        verdict="REGRESSED" if regressions.regressed(rows) else "NO REGRESSION",
        exit_code=regressions.exit_code(rows),
        gateways=gateways,
        steps=tuple(_step(a, b, ga, gb, rows) for (a, b), (ga, gb) in zip(itertools.pairwise(legs),
                                                                          itertools.pairwise(gateways),
                                                                          strict=True)),
        regressions=typed["regression"], fixes=typed["fix"], changes=typed["change"],
        only_in_some=tuple(OnlyInSome(p.check, p.nodeid, p.found, p.missing) for p in regressions.partial(judged)),
        checks=_checks(judged),
        tests=_tests(judged),
        notes=tuple(_notes(legs)),
    )


def _gateway(leg: Loaded, root: Path) -> GatewayEntry:
    doc, result, report = leg.leg, leg.result, leg.report_path()
    gateway = doc["gateway"]
    freeze = doc.get("freeze")
    image = doc.get("image")
    return GatewayEntry(
        name=leg.name, spec=doc["spec"], describe=gateway.get("describe", doc["spec"]),
        kind=gateway.get("kind", ""), commit=gateway.get("commit", ""), dirty=bool(gateway.get("dirty")),
        status=doc["status"],
        verdict=result.verdict_line() if result is not None else None,
        error=doc["error"]["line"] if doc.get("error") else None,
        litellm=(freeze or {}).get("litellm") or gateway.get("base") or gateway.get("value", ""),
        image=ProxyImage(image["tag"], image["id"], image["size_mb"]) if image else None,
        packages=len(freeze) if freeze else None,
        measured=Measured.from_dict(doc["measured"]),
        folder=shown(root, leg.folder),
        report=shown(root, report) if report is not None else None,
        repro=_repro(leg, root),
    )


def _repro(leg: Loaded, root: Path) -> str:
    report = leg.report_path()
    if report is not None:
        return f"bed repro {shown(root, report)}"
    return f"bed compare --leg {leg.leg['spec']} --out {shown(root, leg.folder)}"


def _step(before: Loaded, after: Loaded, shown_before: GatewayEntry, shown_after: GatewayEntry,
          rows: Sequence[regressions.Row]) -> Step:
    mine = [r for r in rows if (r.before, r.after) == (before.name, after.name)]
    old, new = before.leg.get("freeze"), after.leg.get("freeze")
    deps = None if old is None or new is None else tuple(
        DependencyChange(name, was, now) for name, (was, now) in diff_freezes(old, new).items())
    counts = {kind: sum(r.kind == kind for r in mine) for kind in regressions.KINDS}
    return Step(before.name, after.name, counts["regression"], counts["fix"], counts["change"], deps,
                deltas(shown_before, shown_after))


def _row(row: regressions.Row, by_name: dict[str, Loaded], root: Path) -> Row:
    # The side that explains the row: where it fails (the later gateway for a regression, the
    # earlier one for a fix), or where it changed to.
    side = by_name[row.before if row.kind == "fix" else row.after]
    return Row(row.kind, row.level, row.before, row.after, row.check, row.nodeid, row.was, row.now,
               _cause(side, row.check), _repro(side, root))


def _cause(leg: Loaded, check_name: str) -> str:
    """The leg's CAUSE line for the check (as `bed run` prints it, less the repro command, which
    the row carries), or its SKIP reason, or the error that broke the gateway."""
    if leg.broken or leg.result is None:
        return str(leg.leg["error"]["line"]) if leg.leg.get("error") else "the gateway did not run"
    check = next((c for c in leg.result.checks if c.name == check_name), None)
    if check is None:
        return ""
    if check.status in (Status.FAILED, Status.ERROR) and check.cause is not None:
        where = f" ({check.cause.location})" if check.cause.location else ""
        return f"CAUSE {check.name}: {check.cause.nodeid}{where}: {check.cause.message}"
    if check.status is Status.SKIPPED and check.reason:
        return f"SKIP {check.name}: {check.reason}"
    return ""


def _checks(legs: Sequence[regressions.Leg]) -> tuple[CheckLine, ...]:
    names = regressions.ordered(*(leg.checks for leg in legs))
    return tuple(CheckLine(name, {leg.name: leg.checks.get(name) for leg in legs}) for name in names)


def _tests(legs: Sequence[regressions.Leg]) -> tuple[TestLine, ...]:
    keys = regressions.ordered(*(leg.tests for leg in legs))
    return tuple(TestLine(check, nodeid, {leg.name: leg.tests.get((check, nodeid)) for leg in legs})
                 for check, nodeid in keys)


def _notes(legs: Sequence[Loaded]) -> list[str]:
    notes = []
    for leg in legs:
        if leg.result is not None and leg.result.checks and not any(c.outcomes for c in leg.result.checks):
            notes.append(f"{leg.name}: its report has no per-test outcomes (written by an older bed): only its "
                         "checks are compared")
        note = leg.leg["measured"].get("bench_note")
        if note:
            notes.append(f"{leg.name}: {note}")
    return notes
