"""`bed up`: bring the stack up and keep it; print the export lines a person pastes.

Its ports are published on the engine's loopback for people (bed itself never uses them). When
they cannot be reached from this machine (a remote engine), the lines say so instead of
pointing at nothing, and name the shell to exec into.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

from ..console import Console
from ..engine.protocol import Engine
from ..errors import EXIT_READY, ConfigError
from ..pipeline.stages import images, prepare, stack
from ..pipeline.stages.prepare import Inputs
from ..stack import bringup, warm
from ..stack.kept import Kept
from ..stack.services import PROXY, SHIM
from . import common
from .run import add_stack_arguments

HELP = "bring the stack up and keep it running; print export lines"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    """The run's stages up to the stack, then the stack is kept: services ready, warm runners, a shell."""
    config = common.config(args, environ, keep=True)
    engine: Engine | None = None
    inputs = Inputs(config, environ, console, lambda: engine or common.engine(environ), "core", publish=True)
    prepared = prepare.prepare(inputs)  # a bad input ends it here, before the engine is asked anything
    engine = common.engine(environ)
    _refuse_a_second(engine, config.root)
    built = images.build(inputs, prepared)
    with contextlib.ExitStack() as owner:
        running = stack.up(inputs, prepared, built, owner)
        try:
            booting = running.booting or bringup.start(running.stack, running.plan)
            services = bringup.ready(running.stack, running.plan, booting)
            runners = warm.start(running.stack, built.images, config.runner_memory)  # they import meanwhile
            shell = stack.start_shell(running.stack, built.ctx, built.images["runner"].tag)
            proxy_port = engine.published_port(services.proxy.id, PROXY.port)
            shim_port = engine.published_port(services.shim.id, SHIM.port)
        except BaseException:
            running.stack.close()
            raise
    key_file = config.master_key_path
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(prepared.master_key + "\n")
    key_file.chmod(0o600)
    assert running.stack.network is not None
    Kept.of(config.run_id, running.stack.network, services, built.images, prepared.router.text, key_file,
            runners).save(config.root)
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
    sys.stdout.write("\n".join([*lines, f"# a shell in the runner: docker exec -it {shell.name} bash", ""]))
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
