"""`bed up`: bring the stack up and keep it; print the export lines a person pastes.

Its ports are published on the engine's loopback for people (bed itself never uses them). When
they cannot be reached from this machine (a remote engine), the lines say so instead of
pointing at nothing, and name the shell to exec into.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

from ..console import Console
from ..engine.protocol import Engine
from ..errors import EXIT_READY, ConfigError
from ..images.build import Recipe, ensure_images
from ..pipeline import run as pipeline
from ..pipeline.tiers import Context
from ..stack import warm
from ..stack.bringup import Plan, bring_up
from ..stack.kept import Kept
from ..stack.owner import Stack
from ..stack.services import PROXY, SHIM
from . import agent_setup, common
from .run import add_stack_arguments

HELP = "bring the stack up and keep it running; print export lines"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    config = common.config(args, environ, keep=True)
    pipeline.announce(config, console)
    router = pipeline.prepare_router(config, console, environ)
    engine = common.engine(environ)
    _refuse_a_second(engine, config.root)
    images = ensure_images(engine, Recipe.of(config), console)
    key = pipeline.new_master_key()
    console.redact.add(key)
    stack = Stack(engine, config.run_id, console, keep=True)
    try:
        stack.create_network()
        services = bring_up(stack, Plan.of(config, images, router, key, publish=True))
        runners = warm.start(stack, images, config.runner_memory)  # they import meanwhile; nobody waits
        ctx = Context(config=config, master_key=key, router_yaml=router.text, environ=environ)
        shell = pipeline.start_shell(stack, ctx, images["runner"].tag)
        proxy_port = engine.published_port(services.proxy.id, PROXY.port)
        shim_port = engine.published_port(services.shim.id, SHIM.port)
    except BaseException:
        stack.close()
        raise
    key_file = config.root / ".artifacts" / "master_key"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    assert stack.network is not None
    Kept.of(config.run_id, stack.network, services, images, router.text, key_file, runners).save(config.root)
    shim_base = config.bases.host(shim_port)
    lines = [
        f"export BED_PROXY_URL=http://127.0.0.1:{proxy_port}",
        f"export OPENAI_BASE_URL=http://127.0.0.1:{proxy_port}/v1",
        f"export ANTHROPIC_BASE_URL=http://127.0.0.1:{proxy_port}",
        f"export MINI_AGENT_API_BASE={shim_base}",
        f"export CODEX_AGENT_API_BASE={shim_base}",
        f'export LITELLM_MASTER_KEY="$(cat {key_file})"',  # the key itself is never printed
    ]
    if reachable("127.0.0.1", proxy_port):
        console.step(f"stack {config.run_id} is up; `bed run --reuse` runs the gate on it; `bed down` removes it. "
                     "Paste these:")
    else:
        console.banner("THE ENGINE IS REMOTE: its published ports are not on this machine", [
            f"127.0.0.1:{proxy_port} does not answer here (DOCKER_HOST={environ.get('DOCKER_HOST', '')})",
            "the lines below hold on the engine's host; from here, use the shell in the runner (below)"])
        lines = [f"# {line}" for line in lines]
    lines.append(f"# a shell in the runner: docker exec -it {shell.name} bash")
    if "agents" in config.tiers:
        lines += agent_setup.lines(config.agent_versions, router.text, config.group, f"http://127.0.0.1:{proxy_port}",
                                   config.root / ".artifacts" / "agents")
    sys.stdout.write("\n".join([*lines, ""]))
    sys.stdout.flush()
    return EXIT_READY


def reachable(host: str, port: int, timeout_s: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def _refuse_a_second(engine: Engine, root: Path) -> None:
    """One kept stack per project: a second `bed up` would orphan the first's record."""
    record = Kept.find(root)
    if record is None:
        return  # none here (or not bed's): this one is the first
    if any(engine.state(ref).status == "running" for ref in record.ids.values()):
        raise ConfigError(f"a stack kept by `bed up` is already up here (run {record.run_id}).",
                          hint="`bed run --reuse` runs the gate on it; `bed down` ends it first.")
