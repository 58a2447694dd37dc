"""`bed down`: remove the stack `bed up` kept for this folder (or one run's, with --run) and its key file.

Only this folder's: other projects' kept stacks on the same engine stay (`bed gc --all` removes
every kept stack).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from ..config.settings import master_key_path
from ..console import Console
from ..errors import EXIT_READY
from ..stack import cleanup, kept
from . import common

HELP = "remove the stack `bed up` kept for this folder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", metavar="ID", help="only this run's stack (any folder's)")


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    engine = common.engine(environ)
    root = Path.cwd().resolve()  # the project's folder, as a run's Config takes it
    record = kept.Kept.find(root)
    run_id = args.run or (record.run_id if record is not None else None)
    if run_id is None:
        others = cleanup.kept_runs(engine)
        console.plain("no stack kept by `bed up` here" + (
            f"; kept from other folders on this engine: {', '.join(others)} (`bed down --run ID` removes one, "
            "`bed gc --all` every one)" if others else ""))
        return EXIT_READY
    removed = cleanup.down(engine, run_id)
    if record is None or record.run_id == run_id:  # another run's record stays
        key_file = master_key_path(root)
        if key_file.exists():  # the kept stack's master key: useless (and a secret) once it is gone
            key_file.unlink()
        kept.forget(root)
    console.plain(f"removed {removed['containers']} container(s) and {removed['networks']} network(s) of run {run_id}")
    return EXIT_READY
