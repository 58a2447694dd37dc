"""`bed bench`: measure the warm core gate against its floor, the shim, or the gateway."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from ..bench.core import bench_core
from ..bench.gateway import bench_gateway
from ..bench.shim import bench_shim
from ..console import Console
from ..errors import EXIT_READY
from . import common

HELP = "measure: the warm core gate vs its floor, the shim, or the gateway"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", nargs="?", choices=("core", "shim", "gateway"), default="core")
    parser.add_argument("--runs", type=int, default=5, help="core: warm runs to time (default 5)")
    parser.add_argument("--seconds", type=float, default=5.0, help="shim/gateway: seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=32, help="shim: connections")


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    engine = common.engine(environ)
    if args.what == "shim":
        bench_shim(common.config(args, environ), environ, engine, console, args.seconds, args.concurrency)
    elif args.what == "gateway":
        bench_gateway(common.config(args, environ), environ, engine, console, args.seconds, (1, 8, 32))
    else:
        bench_core(Path.cwd(), environ, engine, console, args.runs)
    return EXIT_READY
