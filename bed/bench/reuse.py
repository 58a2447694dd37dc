"""The dev loop: `bed run --reuse` on the stack `bed up` keeps, run in-process N times."""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config.settings import Config
from ..console import Console
from ..engine.protocol import Engine
from ..stack.kept import Kept
from .common import out_dir, stats
from .core import WALL, invalid, print_phases, timed_gates

GOAL_S = 3.0  # the dev loop's goal: a reused core gate, best of 3


def bench_reuse(kept: Kept, root: Path, environ: Mapping[str, str], engine: Engine, console: Console,
                runs: int, tiers: tuple[str, ...] | None = None) -> dict[str, Any]:
    """``tiers``: time these instead of the core gate's (``bed bench reuse --tier ...``)."""
    chosen = Config.from_env(environ, root=root, tiers=tiers).tiers
    console.step(f"timing `bed run --reuse` on the stack kept by `bed up` (run {kept.run_id}), {runs} runs, "
                 f"tiers {','.join(chosen)}")
    phases, not_ready = timed_gates(lambda: dataclasses.replace(Config.from_env(environ, root=root, tiers=tiers),
                                                                reuse=True),
                                    environ, engine, console, runs)
    walls = phases[WALL]
    report: dict[str, Any] = {"runs": runs, "kept_run": kept.run_id, "tiers": list(chosen),
                              "phases": {k: stats(v) for k, v in sorted(phases.items())},
                              "best_s": round(min(walls), 2), "median_s": round(statistics.median(walls), 2),
                              "goal_s": GOAL_S, "ready": not invalid(not_ready, console), "not_ready": not_ready}
    print_phases(report["phases"], console)
    met = "met" if report["best_s"] <= GOAL_S else "NOT met"
    console.plain(f"bed run --reuse: best {report['best_s']:.2f} s, median {report['median_s']:.2f} s "
                  f"(goal {GOAL_S:.0f} s best of {runs}: {met})")
    (out_dir(Config.from_env(environ, root=root)) / "reuse.json").write_text(json.dumps(report, indent=2) + "\n")
    return report
