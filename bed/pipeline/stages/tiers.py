"""The tiers stage: every tier of the run in its runner, the services made ready meanwhile, and
each tier's failed tests re-run once, by their exact node ids, to tell flakes from failures.

How the tiers overlap: the deterministic tier (and the release tier when live calls are off)
need neither the shim nor the proxy, so they run while those boot; the served tiers' runners
start at once too, and bed's plugin makes their tests wait for the services after collection.
Live release smokes run once the services are up (a "provider" may point at the shim: that is how
the path is tested). A project's suite is also collected once by plain pytest (the census), beside
the hermetic tiers.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
from collections.abc import Mapping, Sequence

from ...config.agent import Agent
from ...console import Console
from ...policy import budgets, flakes
from ...stack import bringup, warm
from ...stack.bringup import Services
from ...stack.owner import Service
from ...stack.services import PROXY, upstream
from ...tiers import catalog
from ...tiers import run as tier_run
from ...tiers.catalog import Tier
from ...tiers.run import Started, TierRun
from .images import Built
from .prepare import Inputs, Prepared
from .stack import Running


@dataclasses.dataclass(frozen=True)
class Outcome:
    first: TierRun
    rerun: TierRun | None = None


@dataclasses.dataclass(frozen=True)
class TierOutcomes:
    outcomes: Mapping[str, Outcome]  # by tier, in the order they were started
    census: TierRun | None = None  # a project's suite, collected as plain pytest sees it
    services: Services | None = None  # the shim and the proxy, once both served
    proxy_tail: str = ""  # the proxy's last lines of this run: failures through it carry them


@dataclasses.dataclass(frozen=True)
class _Run:
    """What the tier helpers below share."""

    inputs: Inputs
    built: Built
    running: Running
    services: Services | None = None


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Which tiers run when: beside the services' boot, once they serve, or after the others."""

    hermetic: tuple[str, ...]  # need neither the shim nor the proxy: they overlap the services' boot
    served: tuple[str, ...]  # need both: started at once, their tests wait for the services
    live: tuple[str, ...]  # live release smokes: once the services are up

    @classmethod
    def of(cls, tiers: Sequence[str], *, live_providers: bool) -> Schedule:
        live = ("release",) if "release" in tiers and live_providers else ()
        return cls(tuple(n for n in ("deterministic", "release") if n in tiers and n not in live),
                   tuple(n for n in ("nd", "agents") if n in tiers), live)


def run_tiers(inputs: Inputs, prepared: Prepared, built: Built, running: Running) -> TierOutcomes:
    config = inputs.config
    plan = Schedule.of(config.tiers, live_providers=config.live_providers)
    began = inputs.now().timestamp() - 1  # a second's margin for an engine whose clock is not quite ours
    run = _Run(inputs, built, running, running.attached.services if running.attached is not None else None)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=4)
    try:
        early = {n: pool.submit(_with_rerun, run, catalog.TIERS[n]) for n in plan.hermetic}
        census = pool.submit(_census, run) if config.suite is not None else None
        started = {n: _start(run, catalog.TIERS[n], wait_for=_health_urls(config.agent)) for n in plan.served}
        run = _services_ready(run)
        late = {n: pool.submit(_with_rerun, run, catalog.TIERS[n], started[n]) for n in plan.served}
        outcomes: dict[str, Outcome] = {n: f.result() for n, f in [*early.items(), *late.items()]}
        outcomes |= {n: _with_rerun(run, catalog.TIERS[n]) for n in plan.live}
        # A kept proxy's log also holds earlier runs: only this one's lines.
        tail = run.services.proxy.log_tail(20, since=began if config.reuse else None) if run.services else ""
        return TierOutcomes(outcomes, census.result() if census is not None else None, run.services, tail)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _health_urls(agent: Agent | None) -> tuple[str, ...]:
    """What the served tiers' tests wait for after collection: the upstream and the proxy."""
    shim = upstream(agent)
    return shim.network_url(shim.health), PROXY.network_url(PROXY.health)


def _services_ready(run: _Run) -> _Run:
    """A fresh run waits here for the services the stack stage started (a kept stack's serve already)."""
    running = run.running
    if running.booting is None:
        return run
    ready = dataclasses.replace(run, services=bringup.ready(running.stack, running.plan, running.booting))
    config = run.inputs.config
    if config.bases.host_port is not None:
        run.inputs.console.step(f"shim from the host: {config.bases.host(config.bases.host_port)}")
    return ready


def _deps(run: _Run) -> list[Service]:
    return [run.services.shim, run.services.proxy] if run.services else []


def _warm(run: _Run, tier: Tier) -> Service | None:
    """The kept stack's warm runner for this tier (`--reuse`), or None: a fresh runner."""
    kind = warm.kind_of(tier.name, live=run.inputs.config.live_providers)
    return run.running.warm.get(kind) if kind is not None else None


def _start(run: _Run, tier: Tier, wait_for: tuple[str, ...] = ()) -> list[Started]:
    """A tier's session, or its parts at once (served tiers on a kept stack's warm runner)."""
    inputs = run.inputs
    runner, select = _warm(run, tier), inputs.select.get(tier.name, ())
    n = budgets.parts(tier.name, warm=runner is not None, rerun=bool(select), sharded=inputs.config.shard is not None)
    return [tier_run.start(run.running.stack, tier, run.built.ctx, inputs.console, run.built.images[tier.image].tag,
                           select=select, wait_for=wait_for, warm_runner=runner, part=(i, n) if n > 1 else None)
            for i in range(1, n + 1)]


def _finish(started: list[Started], console: Console, watch: list[Service]) -> TierRun:
    if len(started) == 1:
        return tier_run.finish(started[0], console, watch)
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(started)) as pool:
        return tier_run.joined(list(pool.map(lambda s: tier_run.finish(s, console, watch), started)))


def _with_rerun(run: _Run, tier: Tier, started: list[Started] | None = None) -> Outcome:
    """Run a tier (or finish it, when ``started``); when tests failed, run exactly those node ids
    once more at once, to tell flakes from failures. A tier that needs the services is watched."""
    inputs = run.inputs
    watch = _deps(run) if catalog.served(tier, inputs.config) else []
    first = _finish(started or _start(run, tier), inputs.console, watch)
    asked = flakes.worth_rerunning(first.evidence) if first.down is None else ()
    if not asked:
        return Outcome(first)
    inputs.console.step(f"{first.check}: re-running {len(asked)} failed test(s) once, to tell flakes from failures")
    rerun = tier_run.run(run.running.stack, tier, run.built.ctx, inputs.console, run.built.images[tier.image].tag,
                         select=asked, watch=watch, warm_runner=_warm(run, tier))
    return Outcome(first, rerun)


def _census(run: _Run) -> TierRun:
    """The project's suite collected by plain pytest in a hermetic runner, beside the tiers."""
    return tier_run.run(run.running.stack, catalog.CENSUS, run.built.ctx, run.inputs.console,
                        run.built.images["runner"].tag, warm_runner=_warm(run, catalog.CENSUS))
