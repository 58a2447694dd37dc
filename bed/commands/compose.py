"""`bed compose`: write compose/bed.yaml, the same stack for `docker compose` users."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from ..console import Console
from ..errors import EXIT_READY
from ..pipeline.run import announce, new_master_key, prepare_router
from ..report.writers import write_text
from ..stack.compose import render, write_providers
from . import common

HELP = "write compose/bed.yaml: the same stack for `docker compose`"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="PATH", default="compose/bed.yaml", help="where to write it")
    parser.add_argument("--prepare", action="store_true",
                        help="also write what `up` needs: the router config (as `bed up` would), bed's provider "
                             "modules and a master key file")


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    target = Path(args.out)
    write_text(target, render(), console.redact)
    console.plain(f"wrote {target}")
    if args.prepare:
        config = common.config(args, environ)
        announce(config, console)
        prepare_router(config, console, environ)  # the same rules and messages as a run
        for module in write_providers(config.stub_path.parent, console.redact):
            console.plain(f"proxy module: {config.shown(module)} (the router config's custom_provider_map)")
        key = config.root / ".artifacts" / "master_key"
        if not key.is_file() or not key.read_text().strip():
            key.write_text(new_master_key() + "\n")
        key.chmod(0o600)
        console.plain(f"master key: {config.shown(key)} (0600; the compose file reads LITELLM_MASTER_KEY)")
    return EXIT_READY
