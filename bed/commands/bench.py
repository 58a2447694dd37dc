"""`bed bench`: measure the warm core gate against its floor, the shim, the gateway, or bed next to its peers."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from ..bench.core import bench_core
from ..bench.gateway import bench_gateway
from ..bench.peers import bench_peers
from ..bench.reuse import bench_reuse
from ..bench.shim import bench_shim
from ..console import Console
from ..errors import EXIT_NOT_READY, EXIT_READY, ConfigError
from ..stack.kept import Kept
from . import common

HELP = "measure: the warm core gate vs its floor, the shim, the gateway, or bed vs compose and testcontainers"
RUNS = {"core": 5, "reuse": 3, "peers": 3}
MAX_RUNS = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", nargs="?", choices=("core", "reuse", "shim", "gateway", "peers"), default="core")
    parser.add_argument("--runs", type=int, help="core: warm runs to time (default 5); reuse: runs on the kept "
                                                 "stack (default 3); peers: rounds (default 3)")
    parser.add_argument("--tier", help="reuse: comma list of tiers to time instead of the core gate's")
    parser.add_argument("--seconds", type=float, default=5.0, help="shim/gateway: seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=32, help="shim: connections")


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    if args.runs is not None and not 1 <= args.runs <= MAX_RUNS:
        raise ConfigError(f"--runs {args.runs} is out of range.", hint=f"use 1 to {MAX_RUNS}.")
    kept = Kept.load(Path.cwd()) if args.what == "reuse" else None  # said before the engine is asked
    engine = common.engine(environ)
    if args.what == "shim":
        bench_shim(common.config(args, environ), environ, engine, console, args.seconds, args.concurrency)
    elif args.what == "gateway":
        bench_gateway(common.config(args, environ), environ, engine, console, args.seconds, (1, 8, 32))
    elif args.what == "peers":
        bench_peers(Path.cwd(), environ, engine, console, args.runs or RUNS["peers"])
    elif kept is not None:
        tiers = common.config(args, environ).tiers if args.tier is not None else None  # a bad name: CONFIG_ERROR
        return _exit(bench_reuse(kept, Path.cwd(), environ, engine, console, args.runs or RUNS["reuse"], tiers))
    else:
        return _exit(bench_core(Path.cwd(), environ, engine, console, args.runs or RUNS["core"]))
    return EXIT_READY


def _exit(report: Mapping[str, object]) -> int:
    """A bench whose gate runs were not all READY measured nothing worth keeping: exit 1."""
    return EXIT_READY if report["ready"] else EXIT_NOT_READY
