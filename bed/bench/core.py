"""The warm core gate, run in-process N times, against its floor measured in the same session."""

from __future__ import annotations

import dataclasses
import io
import json
import statistics
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..config import router as _router
from ..config.settings import Config
from ..console import Console
from ..engine.protocol import Engine
from ..images.build import ImageRef, Recipe, ensure_images
from ..model.results import RunResult
from ..pipeline.stages.prepare import Inputs, new_master_key, release_smokes
from ..pipeline.workflow import run
from ..stack.bringup import Plan, bring_up, proxy_spec
from ..stack.owner import Stack
from ..stack.services import PROXY
from ..tiers import catalog, command
from .common import bare_boot, out_dir, probe, stats

WALL = "wall (in-process)"


def bench_core(root: Path, environ: Mapping[str, str], engine: Engine, console: Console, runs: int) -> dict[str, Any]:
    config = Config.from_env(environ, root=root)
    images = ensure_images(engine, Recipe.of(config), console)
    phases, not_ready = timed_gates(lambda: Config.from_env(environ, root=root), environ, engine, console, runs)
    floor = measure_floor(engine, config, images, console)
    median = statistics.median(phases[WALL])
    report: dict[str, Any] = {"runs": runs, "phases": {k: stats(v) for k, v in sorted(phases.items())},
                              "floor": floor, "ratio": round(median / floor["floor_s"], 3),
                              "ready": not invalid(not_ready, console), "not_ready": not_ready}
    print_phases(report["phases"], console)
    console.plain(f"floor: {floor['floor_s']:.2f} s = max(proxy bare {floor['proxy_bare_s']:.2f}, hermetic tiers "
                  f"direct {floor['hermetic_direct_s']:.2f}) + ND and agent tiers direct "
                  f"{floor['served_direct_s']:.2f}")
    console.plain(f"bed (median wall) {median:.2f} s / floor {floor['floor_s']:.2f} s = {report['ratio']:.2f}x")
    (out_dir(config) / "core.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def timed_gates(configure: Callable[[], Config], environ: Mapping[str, str], engine: Engine, console: Console,
                runs: int, gate: Callable[[Inputs], RunResult] = run) -> tuple[dict[str, list[float]], list[str]]:
    """The core gate run in-process `runs` times (each with a fresh Config: a fresh run id), phase by
    phase, and the verdict lines of the runs that were not READY (a bench of those means nothing)."""
    phases: dict[str, list[float]] = {}
    not_ready: list[str] = []
    for i in range(runs):
        quiet = Console(out=io.StringIO(), redact=console.redact)
        started = time.monotonic()
        result = gate(Inputs(configure(), environ, quiet, lambda: engine, "core"))
        wall = time.monotonic() - started
        console.step(f"run {i + 1}/{runs}: {result.verdict_line()} in {wall:.2f} s")
        if not result.ready:
            not_ready.append(f"run {i + 1}: {result.verdict_line()}")
        for key, value in {**result.timings, WALL: wall}.items():
            phases.setdefault(key, []).append(value)
        for check in result.checks:
            phases.setdefault(f"tier {check.name}", []).append(check.duration_s)
    return phases, not_ready


def invalid(not_ready: list[str], console: Console) -> bool:
    """Say loudly that runs were not READY (their times are not the gate's); True when there were."""
    if not_ready:
        console.banner("BENCH INVALID: not every run was READY (run `bed run` and fix what it names)", not_ready)
    return bool(not_ready)


def print_phases(rows: Mapping[str, Mapping[str, float]], console: Console) -> None:
    console.plain(f"{'phase':28} {'min':>7} {'median':>7} {'max':>7}")
    for key, row in rows.items():
        console.plain(f"{key:28} {row['min']:7.2f} {row['median']:7.2f} {row['max']:7.2f}")


def measure_floor(engine: Engine, config: Config, images: dict[str, ImageRef], console: Console) -> dict[str, float]:
    """The same work without bed's orchestration: a bare proxy boot, the tiers run straight in the runner."""
    key = new_master_key()
    console.redact.add(key)
    router = _router.plan(None, config.group, config.bases.network, strict=True)
    quiet = Console(out=io.StringIO(), redact=console.redact)
    ctx = command.Context(config=config, master_key=key, router_yaml=router.text, environ={},
                        cpus=engine.info().cpus, release=tuple(release_smokes(config, router, {})))
    with Stack(engine, config.run_id, quiet) as stack:
        stack.create_network()
        prober = probe(stack, images)
        plan = Plan.of(config, images, router, key)
        # The very proxy container bed starts (router config, provider modules, environment), alone.
        proxy_s = bare_boot(stack, prober, PROXY, proxy_spec(stack, plan), config.wait_budget_s)
        hermetic_s = _direct(stack, [catalog.TIERS[n] for n in ("deterministic", "release") if n in config.tiers],
                             ctx, images)
        bring_up(stack, plan)
        served_s = _direct(stack, [catalog.TIERS[n] for n in ("nd", "agents") if n in config.tiers], ctx, images)
    # The gate's own schedule, without bed: the hermetic tiers overlap the proxy's boot; the
    # tiers through the proxy run after it, side by side, as bed runs them.
    return {"proxy_bare_s": round(proxy_s, 2), "hermetic_direct_s": round(hermetic_s, 2),
            "served_direct_s": round(served_s, 2), "floor_s": round(max(proxy_s, hermetic_s) + served_s, 2)}


def _direct(stack: Stack, chosen: list[catalog.Tier], ctx: command.Context, images: dict[str, ImageRef]) -> float:
    """The tiers' runners started together, straight from their images, until the last one ends."""
    started = time.monotonic()
    ids = [stack.start(f"floor-{tier.name}", "floor",
                       dataclasses.replace(command.container_spec(tier, ctx, stack.network),
                                           image=images[tier.image].tag)).id for tier in chosen]
    for ref in ids:
        stack.engine.wait(ref, 600)
    return time.monotonic() - started
