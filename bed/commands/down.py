"""`bed down`: remove a stack kept by `bed up` (or one run's, with --run) and its key file."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from ..console import Console
from ..errors import EXIT_READY
from ..stack import cleanup, kept
from . import common

HELP = "remove a stack kept by `bed up`"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", metavar="ID", help="only this run's stack")


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    removed = cleanup.down(common.engine(environ), args.run)
    record = kept.Kept.find(Path.cwd())
    if args.run is None or record is None or record.run_id == args.run:  # another run's record stays
        key_file = Path.cwd() / ".artifacts" / "master_key"
        if key_file.exists():  # the kept stack's master key: useless (and a secret) once it is gone
            key_file.unlink()
        kept.forget(Path.cwd())
    console.step(f"removed {removed['containers']} container(s) and {removed['networks']} network(s)")
    return EXIT_READY

