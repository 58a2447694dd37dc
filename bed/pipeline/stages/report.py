"""The report stage: what the verdict found is said (banners), then written: JUnit per check, the
recorded durations, the flake book, ``mvp_report.json`` and ``PROJECT_READY.md``. The result it
writes is the run's; every byte passes through the redactor.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

from ... import __version__
from ...config.settings import REPRO_ENV
from ...console import Console
from ...model.evidence import TestOutcome
from ...model.matrix import Cell
from ...model.results import CheckResult, RunResult, Status
from ...policy import census, quarantine, verdict
from ...redact import SECRET_NAME
from ...report import deployments, flakestore, junit, matrix
from ...report.writers import write_all, write_text
from ...stack.services import SHIM_SEED
from .images import Built
from .judge import Verdict
from .prepare import Inputs, Prepared, load_durations
from .stack import Running
from .tiers import TierOutcomes


@dataclasses.dataclass(frozen=True)
class Written:
    result: RunResult


@dataclasses.dataclass(frozen=True)
class Facts:
    """What the stages before knew, as far as the report needs it (a run that failed early knows less)."""

    prepared: Prepared
    built: Built | None = None
    running: Running | None = None
    tiers: TierOutcomes | None = None


def report(inputs: Inputs, facts: Facts, found: Verdict, timings: Mapping[str, float]) -> Written:
    config, console = inputs.config, inputs.console
    outcomes = facts.tiers.outcomes if facts.tiers is not None else {}
    announce(inputs, outcomes, found)
    for check in found.checks:
        write_text(config.junit_path(check.name), _junit(inputs, outcomes, found, check), console.redact)
    _save_durations(inputs, outcomes)
    flakestore.save(found.book, config.flake_store, console.redact)
    images = facts.built.images if facts.built is not None else {}
    services = facts.tiers.services if facts.tiers is not None else None
    result = RunResult(
        run_id=config.run_id, gate=inputs.gate, ready=found.ready, strict=config.strict, checks=found.checks,
        bases={"MINI_AGENT_API_BASE": config.bases.network, "CODEX_AGENT_API_BASE": config.bases.network,
               "host": _host_base(inputs, services is not None), "source": config.bases.source},
        images={n: r.to_dict() for n, r in images.items()},
        timings={**timings, **({f"ready_{k}": round(s.ready_s, 2) for k, s in services.by_key().items()}
                               if services is not None else {})},
        versions=_versions(inputs, facts), expect=config.expect,
        notes=(*config.bases.warnings, *facts.prepared.router.notes), started_at=facts.prepared.started_at,
        repro=_repro_record(inputs, facts, found), quarantine=tuple(quarantine.as_report(found.book,
                                                                                           config.repromote_after)),
        gateway=_gateway(inputs, facts), reused_from=facts.running.reused_from if facts.running else "",
        census=found.account.to_dict() if found.account is not None else {},
        agent_matrix=_agent_matrix(outcomes, found),
        deployments=deployments.table([t.to_dict() for t in facts.prepared.twins],
                                      [s.to_dict() for s in facts.prepared.smokes], found.checks),
    )
    write_all(result, report=config.report_path, ready_md=config.ready_md_path, redact=console.redact)
    return Written(result)


def announce(inputs: Inputs, outcomes: Mapping[str, Any], found: Verdict) -> None:
    """The banners a person reads before the summary: skips, tests no tier runs, quarantine news."""
    config, console = inputs.config, inputs.console
    for check in found.checks:
        if check.tier in outcomes:
            _announce_check(console, check, outcomes[check.tier].first)
    account = found.account
    if account is not None and account.unmarked:
        loose = [f"{f.nodeid}" + (f" (unknown marker: {', '.join(f.unknown)})" if f.unknown else "")
                 for f in account.unmarked]
        console.banner(f"UNMARKED: {len(loose)} test(s) of your suite carry no tier marker and never run", [
            *loose[:20], "fix: mark each with @pytest.mark.deterministic, nd, agents or release (bed registers them)"])
    for nodeid in found.quarantined:
        entry = found.book.entries[nodeid]
        path = config.artifacts_dir / "quarantine" / (re.sub(r"[^\w.-]+", "_", nodeid) + ".md")
        write_text(path, quarantine.issue_text(nodeid, entry, config.repromote_after), console.redact)
        console.banner(f"QUARANTINED: {nodeid}", ["two flakes within 7 days: it still runs but no longer gates",
                                                  f"issue text ready to file: {config.shown(path)}"])
    for nodeid in found.repromoted:
        console.step(f"re-promoted out of quarantine after {config.repromote_after} clean runs: {nodeid}")


def _announce_check(console: Console, check: CheckResult, first: Any) -> None:
    gates = "FAILS the gate (required)" if check.required else "does not gate"
    if first.down is not None:
        console.banner(f"SKIP {check.name}: a dependency went down mid-run; {gates}",
                       [first.down.message, *first.down.log_tail.splitlines()[-10:]])
        return
    skips = [f"{nodeid}: {why}" for nodeid, why in first.evidence.skipped] + \
        [f"{s.nodeid}: skipped at import: {s.message}" for s in first.evidence.collect_skips]
    if check.status is Status.SKIPPED:
        console.banner(f"SKIP {check.name}: {check.reason}; {gates}", skips[:20])
    elif check.skipped:
        console.banner(f"SKIP in {check.name}: {check.skipped} of {check.tests} test(s); {gates}", skips[:20])


def _junit(inputs: Inputs, outcomes: Mapping[str, Any], found: Verdict, check: CheckResult) -> str:
    """A tier's check: its tests, as recorded. The census: each test unaccounted for, as a failure."""
    if check.tier in outcomes:
        ev = outcomes[check.tier].first.evidence
        skips = verdict.module_skips(ev, check.tier, suite=inputs.config.suite is not None)
        return junit.for_check(check, tuple(ev.tests.values()), skips)
    lost = found.account.unaccounted if found.account is not None and check.tier == census.TIER else ()
    return junit.for_check(check, tuple(TestOutcome(f.nodeid, "failed", "", f"unaccounted for: {f.why}", 0.0)
                                        for f in lost))


def _save_durations(inputs: Inputs, outcomes: Mapping[str, Any]) -> None:
    # Every shard of a split must partition with the same durations, so only unsharded runs
    # record them (a CI matrix caches the file from a full run).
    config = inputs.config
    if config.shard is not None or not outcomes:
        return
    durations = load_durations(config)
    for outcome in outcomes.values():
        durations.update(outcome.first.evidence.durations)
    write_text(config.durations_path, json.dumps(dict(sorted(durations.items())), indent=1) + "\n",
               inputs.console.redact)


def _repro_record(inputs: Inputs, facts: Facts, found: Verdict) -> dict[str, Any]:
    """What `bed repro` needs: the images, the router config, the selection, the allow-listed
    environment (no secret: names that look like credentials are left out) and the failures."""
    config = inputs.config
    outcomes = facts.tiers.outcomes if facts.tiers is not None else {}
    failing = {c.name: list(outcomes[c.tier].first.evidence.failed) for c in found.checks
               if c.status in (Status.FAILED, Status.ERROR) and c.tier in outcomes}
    images = facts.built.images if facts.built is not None else {}
    return {
        "command": f"bed repro {config.shown(config.report_path)}",
        "images": {n: {"tag": r.tag, "id": r.id} for n, r in images.items()},
        "router_yaml": facts.prepared.router.text,
        "tiers": list(config.tiers),
        "shard": f"{config.shard[0]}/{config.shard[1]}" if config.shard else None,
        "shim_seed": SHIM_SEED,
        "suite": str(config.suite) if config.suite else None,
        "env": repro_env(inputs.environ),
        "failing": {k: v for k, v in failing.items() if v},
    }


def _agent_matrix(outcomes: Mapping[str, Any], found: Verdict) -> tuple[Cell, ...]:
    """The agents tier's cells, from its tests' own records, with the check's final word on each."""
    outcome = outcomes.get("agents")
    check = next((c for c in found.checks if c.tier == "agents"), None)
    return matrix.cells(outcome.first.evidence.tests, check.outcomes if check else None) if outcome else ()


def repro_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The settings a repro needs to run the same way (REPRO_ENV: what shapes the run, never the engine,
    the report's folder or a secret: a report is data, not engine configuration)."""
    return {k: environ[k] for k in REPRO_ENV if k in environ and not SECRET_NAME.search(k)}


def _host_base(inputs: Inputs, served: bool) -> str:
    port = inputs.config.bases.host_port
    return inputs.config.bases.host(port) if port is not None and served else "(not published)"


def _gateway(inputs: Inputs, facts: Facts) -> dict[str, Any]:
    proxy = facts.built.images.get("litellm") if facts.built is not None else None
    gateway = proxy.gateway if proxy and proxy.gateway else inputs.config.gateway
    return {**gateway.to_dict(), "describe": gateway.describe()}


def _versions(inputs: Inputs, facts: Facts) -> dict[str, str]:
    gateway = _gateway(inputs, facts)
    litellm = gateway["base"] or gateway["value"] if gateway["kind"] != "release" else gateway["value"]
    outcomes = facts.tiers.outcomes.values() if facts.tiers is not None else ()
    python = next((o.first.evidence.python for o in outcomes if o.first.evidence.python), "unknown")
    engine = facts.built.engine.info().version if facts.built is not None else "?"
    agents = {"agents": inputs.config.agent_versions.spec} if "agents" in inputs.config.tiers else {}
    return {"bed": __version__, "litellm": litellm, "gateway": gateway["describe"], "docker_engine": engine,
            "runner_python": python, **agents}

