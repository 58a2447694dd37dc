"""`bed bench`: measure the warm core gate against its floor, the shim, the gateway, or bed next to its peers."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from ..bench.core import bench_core
from ..bench.gateway import bench_gateway
from ..bench.peers import bench_peers
from ..bench.shim import bench_shim
from ..console import Console
from ..errors import EXIT_READY
from . import common

HELP = "measure: the warm core gate vs its floor, the shim, the gateway, or bed vs compose and testcontainers"
RUNS = {"core": 5, "peers": 3}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", nargs="?", choices=("core", "shim", "gateway", "peers"), default="core")
    parser.add_argument("--runs", type=int, help="core: warm runs to time (default 5); peers: rounds (default 3)")
    parser.add_argument("--seconds", type=float, default=5.0, help="shim/gateway: seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=32, help="shim: connections")


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    engine = common.engine(environ)
    if args.what == "shim":
        bench_shim(common.config(args, environ), environ, engine, console, args.seconds, args.concurrency)
    elif args.what == "gateway":
        bench_gateway(common.config(args, environ), environ, engine, console, args.seconds, (1, 8, 32))
    elif args.what == "peers":
        bench_peers(Path.cwd(), environ, engine, console, args.runs or RUNS["peers"])
    else:
        bench_core(Path.cwd(), environ, engine, console, args.runs or RUNS["core"])
    return EXIT_READY
