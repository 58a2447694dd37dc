"""`bed compose`: write compose/bed.yaml, the same stack for `docker compose` users."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from ..console import Console
from ..errors import EXIT_READY
from ..report.writers import write_text
from ..stack.compose import render

HELP = "write compose/bed.yaml: the same stack for `docker compose`"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="PATH", default="compose/bed.yaml", help="where to write it")


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    target = Path(args.out)
    write_text(target, render(), console.redact)
    console.step(f"wrote {target}")
    return EXIT_READY
