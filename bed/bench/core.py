"""The warm core gate, run in-process N times, against its floor measured in the same session."""

from __future__ import annotations

import dataclasses
import io
import json
import statistics
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import router as _router
from ..config.settings import Config
from ..console import Console
from ..engine.protocol import ContainerSpec, Engine
from ..images.build import ImageRef, Recipe, ensure_images
from ..pipeline import tiers
from ..pipeline.run import RunState, new_master_key, release_smokes, run
from ..stack.bringup import Plan, bring_up
from ..stack.owner import Stack
from ..stack.services import PROXY, ROUTER_PATH
from .common import bare_boot, out_dir, probe, stats


def bench_core(root: Path, environ: Mapping[str, str], engine: Engine, console: Console, runs: int) -> dict[str, Any]:
    phases: dict[str, list[float]] = {}
    config = Config.from_env(environ, root=root)
    images = ensure_images(engine, Recipe.of(config), console)
    for i in range(runs):
        config = Config.from_env(environ, root=root)  # a fresh run id each time
        quiet = Console(out=io.StringIO(), redact=console.redact)
        started = time.monotonic()
        result = run(RunState(config, environ, quiet, lambda: engine, "core"))
        wall = time.monotonic() - started
        console.step(f"run {i + 1}/{runs}: {result.verdict_line()} in {wall:.2f} s")
        for key, value in {**result.timings, "wall (in-process)": wall}.items():
            phases.setdefault(key, []).append(value)
        for check in result.checks:
            phases.setdefault(f"tier {check.name}", []).append(check.duration_s)
    floor = measure_floor(engine, config, images, console)
    median = statistics.median(phases["wall (in-process)"])
    report: dict[str, Any] = {"runs": runs, "phases": {k: stats(v) for k, v in sorted(phases.items())},
                              "floor": floor, "ratio": round(median / floor["floor_s"], 3)}
    console.plain(f"{'phase':28} {'min':>7} {'median':>7} {'max':>7}")
    for key, row in report["phases"].items():
        console.plain(f"{key:28} {row['min']:7.2f} {row['median']:7.2f} {row['max']:7.2f}")
    console.plain(f"floor: {floor['floor_s']:.2f} s = max(proxy bare {floor['proxy_bare_s']:.2f}, hermetic tiers "
                  f"direct {floor['hermetic_direct_s']:.2f}) + ND and agent tiers direct "
                  f"{floor['served_direct_s']:.2f}")
    console.plain(f"bed (median wall) {median:.2f} s / floor {floor['floor_s']:.2f} s = {report['ratio']:.2f}x")
    (out_dir(config) / "core.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def measure_floor(engine: Engine, config: Config, images: dict[str, ImageRef], console: Console) -> dict[str, float]:
    """The same work without bed's orchestration: a bare proxy boot, the tiers run straight in the runner."""
    key = new_master_key()
    console.redact.add(key)
    router = _router.plan(None, config.group, config.bases.network, strict=True)
    quiet = Console(out=io.StringIO(), redact=console.redact)
    ctx = tiers.Context(config=config, master_key=key, router_yaml=router.text, environ={},
                        cpus=engine.info().cpus, release=tuple(release_smokes(config, router, {})))
    with Stack(engine, config.run_id, quiet) as stack:
        stack.create_network()
        prober = probe(stack, images)
        proxy = ContainerSpec(name="", image=images["litellm"].tag, labels={}, network=stack.network,
                              env={"LITELLM_MASTER_KEY": key, **dict(PROXY.env)},
                              files=((ROUTER_PATH, router.text.encode()),))
        proxy_s = bare_boot(stack, prober, PROXY, proxy, config.wait_budget_s)
        hermetic_s = _direct(stack, [tiers.TIERS[n] for n in ("deterministic", "release") if n in config.tiers],
                             ctx, images)
        bring_up(stack, Plan.of(config, images, router, key))
        served_s = _direct(stack, [tiers.TIERS[n] for n in ("nd", "agents") if n in config.tiers], ctx, images)
    # The gate's own schedule, without bed: the hermetic tiers overlap the proxy's boot; the
    # tiers through the proxy run after it, side by side, as bed runs them.
    return {"proxy_bare_s": round(proxy_s, 2), "hermetic_direct_s": round(hermetic_s, 2),
            "served_direct_s": round(served_s, 2), "floor_s": round(max(proxy_s, hermetic_s) + served_s, 2)}


def _direct(stack: Stack, chosen: list[tiers.Tier], ctx: tiers.Context, images: dict[str, ImageRef]) -> float:
    """The tiers' runners started together, straight from their images, until the last one ends."""
    started = time.monotonic()
    ids = [stack.start(f"floor-{tier.name}", "floor",
                       dataclasses.replace(tiers.container_spec(tier, ctx, stack.network),
                                           image=images[tier.image].tag)).id for tier in chosen]
    for ref in ids:
        stack.engine.wait(ref, 600)
    return time.monotonic() - started
