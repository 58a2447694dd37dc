"""`bed up`: bring the stack up and keep it; print the export lines a person pastes.

stdout holds only shell lines (``export NAME=value``, values quoted; ``#`` comments), so
``eval "$(bed up --env)"`` works in bash; what bed is doing goes to stderr. ``--env`` prints the
export lines alone, and with a stack already kept here, prints that stack's lines and starts
nothing (a second shell gets the same environment).

Its ports are published on the engine's loopback for people (bed itself never uses them). When
they cannot be reached from this machine (a remote engine), the lines say so instead of
pointing at nothing, and name the shell to exec into.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import socket
from collections.abc import Mapping
from pathlib import Path

from ..config.settings import Config, state_folder
from ..console import Console
from ..engine.protocol import Engine
from ..errors import EXIT_READY, ConfigError
from ..pipeline.stages import images, prepare, stack
from ..pipeline.stages.prepare import Inputs
from ..stack import bringup, warm
from ..stack.kept import Kept
from ..stack.services import PROXY, SHIM
from . import agent_setup, common
from .run import add_gateway_argument, add_stack_arguments

HELP = "bring the stack up and keep it running; print export lines"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stack_arguments(parser)
    add_gateway_argument(parser)
    parser.add_argument("--env", action="store_true",
                        help="print only the export lines on stdout, for `eval \"$(bed up --env)\"` (with a stack "
                             "already kept here: its lines, nothing started)")


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    config = common.config(args, environ, keep=True)
    if args.env:
        record = Kept.find(config.root)
        if record is not None:
            found = common.engine(environ)
            if _running(found, record):
                console.step(f"stack {record.run_id} is already up here: its export lines")
                _print(_lines(found, config, record.ids["proxy"], record.ids["shim"], Path(record.master_key_file),
                              environ, console), console)
                return EXIT_READY
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
    lines = _lines(engine, config, services.proxy.id, services.shim.id, key_file, environ, console)
    shell_line = f"# a shell in the runner: docker exec -it {shell.name} bash"
    console.step(f"stack {config.run_id} is up; `bed run --reuse` runs the gate on it; `bed down` removes it. "
                 + ("Its export lines (`eval \"$(bed up --env)\"` sets them):" if not args.env else shell_line[2:]))
    agents: list[str] = []  # how to point each agent at this stack by hand (comment lines: eval-safe)
    if "agents" in config.tiers and not args.env:
        proxy = f"http://127.0.0.1:{engine.published_port(services.proxy.id, PROXY.port)}"
        agents = agent_setup.lines(config.agent_versions, prepared.router.text, config.group, proxy,
                                   state_folder(config.root) / "agents")
    _print(lines if args.env else [*lines, shell_line, *agents], console)
    return EXIT_READY


def export_lines(proxy_port: int, shim_base: str, key_file: Path) -> list[str]:
    """What a shell needs to call the kept stack, each line safe for ``eval`` (values shell-quoted)."""
    proxy = f"http://127.0.0.1:{proxy_port}"
    values = {"BED_PROXY_URL": proxy, "OPENAI_BASE_URL": f"{proxy}/v1", "ANTHROPIC_BASE_URL": proxy,
              "MINI_AGENT_API_BASE": shim_base, "CODEX_AGENT_API_BASE": shim_base}
    lines = [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
    # the key itself is never printed: the line reads it from its 0600 file when it runs
    lines.append(f"export LITELLM_MASTER_KEY=\"$(cat {shlex.quote(str(key_file))})\"")
    return lines


def _lines(engine: Engine, config: Config, proxy: str, shim: str, key_file: Path, environ: Mapping[str, str],
           console: Console) -> list[str]:
    proxy_port = engine.published_port(proxy, PROXY.port)
    lines = export_lines(proxy_port, config.bases.host(engine.published_port(shim, SHIM.port)), key_file)
    if reachable("127.0.0.1", proxy_port):
        return lines
    console.banner("THE ENGINE IS REMOTE: its published ports are not on this machine", [
        f"127.0.0.1:{proxy_port} does not answer here (DOCKER_HOST={environ.get('DOCKER_HOST', '')})",
        "the lines below hold on the engine's host; from here, use the shell in the runner"])
    return [f"# {line}" for line in lines]


def _print(lines: list[str], console: Console) -> None:
    for line in lines:
        console.plain(line)


def reachable(host: str, port: int, timeout_s: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def _running(engine: Engine, record: Kept) -> bool:
    return any(engine.state(ref).status == "running" for ref in record.ids.values())


def _refuse_a_second(engine: Engine, root: Path) -> None:
    """One kept stack per project: a second `bed up` would orphan the first's record."""
    record = Kept.find(root)
    if record is None:
        return  # none here (or not bed's): this one is the first
    if _running(engine, record):
        raise ConfigError(f"a stack kept by `bed up` is already up here (run {record.run_id}).",
                          hint="`bed run --reuse` runs the gate on it; `bed up --env` prints its export lines; "
                               "`bed down` ends it first.")
