"""`bed images`: build the images whose content changed (a no-op when none did)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from ..console import Console
from ..errors import EXIT_READY
from ..images.build import Recipe, ensure_images
from . import common

HELP = "build the images whose content changed (no-op when none did)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    config = common.config(args, environ)
    for ref in ensure_images(common.engine(environ), Recipe.of(config), console).values():
        console.plain(f"{ref.tag}  {ref.size_mb:.0f} MB  {'built' if ref.built else 'up to date'}")
    return EXIT_READY
