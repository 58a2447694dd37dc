"""`bed gc`: remove what runs that are provably dead left (see bed.policy.gc), the untagged images
bed's failed builds left, and with ``--images`` bed's old content-hashed images (bed.policy.images)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping

from ..console import Console
from ..errors import EXIT_READY
from ..images import sweep
from ..policy.images import DANGLING_MIN_AGE_S
from ..stack import cleanup
from . import common

HELP = "remove containers and networks left by runs that are provably dead, and images of failed builds"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="also remove stacks kept by `bed up`")
    parser.add_argument("--images", action="store_true",
                        help="also list bed's content-hashed images the current config does not use (--yes removes "
                             "them)")
    parser.add_argument("--yes", action="store_true", help="with --images: remove what it lists")


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    config = common.config(args, environ) if args.images else None  # read first: a bad config starts nothing
    engine = common.engine(environ)
    removed = cleanup.collect(engine, kept_too=args.all)
    console.plain(f"removed {removed['containers']} container(s) and {removed['networks']} network(s) "
                  "left by runs that no longer exist (runs of other machines or PID namespaces are never touched)")
    failed = sweep.dangling(engine)
    console.plain(f"removed {len(failed.images)} untagged image(s) ({failed.size_mb:g} MB) left by failed builds "
                 f"(bed's own, unused, over {DANGLING_MIN_AGE_S // 60} minutes old)")
    if config is not None:
        _old_images(sweep.old(engine, config, remove=args.yes), console, removed=args.yes)
    return EXIT_READY


def _old_images(found: sweep.Swept, console: Console, *, removed: bool) -> None:
    verb = "removed" if removed else "would remove"
    now = time.time()
    for image in found.images:
        days = (now - image.created) / 86400
        console.plain(f"{verb} {', '.join(image.tags)} ({image.size_mb:g} MB, {days:.0f} day(s) old)")
    for why in found.kept:
        console.plain(f"kept {why}")
    console.plain(f"{verb} {len(found.images)} image(s) ({found.size_mb:g} MB) the current config does not use; "
                 "kept what it uses, what any container uses and every :current tag")
    if found.images and not removed:
        console.plain("nothing was removed: `bed gc --images --yes` removes them")
