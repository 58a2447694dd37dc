"""`bed compose`: write compose/bed.yaml, the same stack for `docker compose` users; with
``--prepare``, also what its `up` needs, and the images it runs (pinned in compose/.env)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path

from ..config.paths import read_text
from ..config.settings import Config
from ..console import Console
from ..errors import EXIT_READY, ArtifactError
from ..images.build import Recipe, ensure_images
from ..pipeline.stages.prepare import announce, new_master_key, prepare_router, twin_smokes
from ..report.writers import write_text
from ..stack.compose import ENV_FILE, IMAGE_VARS, env_file, mounted, render, write_providers
from . import common

HELP = "write compose/bed.yaml: the same stack for `docker compose`"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="PATH", default="compose/bed.yaml", help="where to write it")
    parser.add_argument("--prepare", action="store_true",
                        help="also write what `up` needs: the router config (as `bed up` would), bed's provider "
                             "modules, a master key file, and the images to run (built when missing) in .env "
                             "beside the compose file")


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    config = common.config(args, environ) if args.prepare else None  # a bad config writes nothing
    target = Path(args.out)
    write_text(target, render(), console.redact)
    console.plain(f"wrote {target}")
    if config is None:
        return EXIT_READY
    announce(config, console)
    artifacts = config.stub_path.parent
    for path in mounted(artifacts):
        repair(path, config, console)
    plan = prepare_router(config, console, environ)  # the same rules and messages as a run
    for module in write_providers(artifacts, console.redact):
        console.plain(f"proxy module: {config.shown(module)} (the router config's custom_provider_map)")
    _master_key(config, console)
    # The images of this config's gateway and suite, by content hash: the stack runs these whatever
    # is tagged later (a fork's build moved `:current` under a running compose user before).
    refs = ensure_images(common.engine(environ), dataclasses.replace(Recipe.of(config), agents=False), console)
    chosen = {name: refs[name].tag for name in IMAGE_VARS}
    smokes = json.dumps([smoke.to_dict() for smoke in twin_smokes(config, plan)])
    write_text(target.parent / ENV_FILE, env_file(chosen, smokes), console.redact)
    console.plain(f"images: {target.parent / ENV_FILE} ({', '.join(chosen.values())})")
    return EXIT_READY


def repair(path: Path, config: Config, console: Console) -> None:
    """A folder where bed's mounted file belongs (docker made it when `compose up` ran before a
    prepare, with the old short mount syntax): removed when empty, else one ARTIFACT_ERROR."""
    if path.is_symlink() or not path.is_dir():
        return
    try:
        path.rmdir()
    except OSError:
        raise ArtifactError(f"{config.shown(path)} is a folder with files in it, where `bed compose --prepare` "
                            "writes a file the compose stack mounts.",
                            hint=f"look inside, then move it aside (mv {config.shown(path)} "
                                 f"{config.shown(path)}.bak) and run `bed compose --prepare` again.") from None
    console.step(f"removed the empty folder {config.shown(path)}: a file belongs there (docker makes a folder "
                 "when a mount's file is missing)")


def _master_key(config: Config, console: Console) -> None:
    key = config.master_key_path
    if not os.path.lexists(key) or not read_text(key, 4096, "master key file", hint=(
            f"remove {config.shown(key)}; `bed compose --prepare` writes a new one.")).strip():
        key.write_text(new_master_key() + "\n")
    key.chmod(0o600)
    console.plain(f"master key: {config.shown(key)} (0600; the compose file reads LITELLM_MASTER_KEY)")
