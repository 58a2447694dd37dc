"""`bed gc`: remove what runs that are provably dead left behind (see bed.policy.gc)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from ..console import Console
from ..errors import EXIT_READY
from ..stack import cleanup
from . import common

HELP = "remove containers and networks left by runs that are provably dead"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="also remove stacks kept by `bed up`")


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    removed = cleanup.collect(common.engine(environ), kept_too=args.all)
    console.plain(f"removed {removed['containers']} container(s) and {removed['networks']} network(s) "
                 "left by runs that no longer exist (runs of other machines or PID namespaces are never touched)")
    return EXIT_READY
