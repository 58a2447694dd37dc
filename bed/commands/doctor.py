"""`bed doctor`: every precondition of a run, checked one by one, each with its fix.

A finding is OK, WARN (a run works but something is off) or FAIL (a run cannot work). Checks
are plain functions over small seams (the engine, the disk), so the unit tests feed them fakes.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from .. import loopback
from ..config import router as _router
from ..config.settings import Config
from ..console import Console
from ..engine.labels import PROJECT, RUN
from ..engine.protocol import ContainerSpec, Engine
from ..errors import EXIT_NOT_READY, EXIT_READY, BedError
from ..images.build import Recipe, expected_tags
from ..images.specs import SPECS
from ..model.containers import VENV_PYTHON
from ..stack.bringup import loopback_port_free
from . import common

HELP = "check the engine, images, venv, bases, router config, disk and ports"
MIN_FREE_GB = 5.0


class Level(enum.StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"


@dataclasses.dataclass(frozen=True)
class Finding:
    level: Level
    topic: str
    what: str
    fix: str = ""

    def line(self) -> str:
        fix = f"  Fix: {self.fix}" if self.fix and self.level is not Level.OK else ""
        return f"[{self.level.value:>4}] {self.topic:8} {self.what}{fix}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    findings = diagnose(environ, Path.cwd(), lambda: common.engine(environ))
    for finding in findings:
        console.plain(finding.line())
    blocking = [f for f in findings if f.level is Level.FAIL]
    console.plain(f"doctor: {len(blocking)} problem(s) block a run" if blocking else "doctor: ready to run")
    return EXIT_NOT_READY if blocking else EXIT_READY


def check_python(environ: Mapping[str, str], executable: str = sys.executable) -> list[Finding]:
    """Is bed running from a venv, and is that venv's python the one on PATH?"""
    in_venv = sys.prefix != sys.base_prefix
    on_path = shutil.which("python", path=environ.get("PATH", "")) or "(none)"
    out = [Finding(Level.OK if in_venv else Level.WARN, "venv",
                   f"bed runs on {executable}" + ("" if in_venv else " (not a venv)"),
                   "use `make` targets, or `.venv/bin/python -m bed`")]
    venv_python = str(Path(executable).parent / "python")
    if in_venv and Path(on_path).resolve() != Path(venv_python).resolve():
        out.append(Finding(Level.WARN, "venv", f"`python` on PATH is {on_path}, not this venv's",
                           'export PATH="$PWD/.venv/bin:$PATH"; hash -r   (the tiers never depend on it)'))
    return out


def check_config(environ: Mapping[str, str], root: Path) -> tuple[Config | None, list[Finding]]:
    try:
        config = Config.from_env(environ, root=root)
    except BedError as exc:
        return None, [Finding(Level.FAIL, "config", exc.what, exc.hint or "")]
    b = config.bases
    found = [Finding(Level.OK, "bases", f"MINI_AGENT_API_BASE = CODEX_AGENT_API_BASE = {b.network} ({b.source})")]
    found += [Finding(Level.WARN, "bases", w, "set both variables to the same value") for w in b.warnings]
    try:
        plan = _router.plan(config.router_config, config.group, b.network, strict=config.strict)
        found.append(Finding(Level.OK, "router", f"group {config.group!r} -> {b.network} ({plan.source})"))
        found += [Finding(Level.WARN, "router", n, "fix the file, or accept bed's correction") for n in plan.notes]
    except BedError as exc:
        found.append(Finding(Level.FAIL, "router", exc.what, exc.hint or ""))
    return config, found


def check_ports(config: Config) -> list[Finding]:
    port = config.bases.host_port
    if port is None:
        return [Finding(Level.OK, "ports", "bed publishes nothing for its own work; `bed up` gets free ports")]
    if not loopback_port_free(port):
        return [Finding(Level.FAIL, "ports", f"127.0.0.1:{port} (from {config.bases.source}) is taken",
                        f"free it (ss -ltnp 'sport = :{port}'), `bed down` a kept stack, or pick another port")]
    return [Finding(Level.OK, "ports", f"127.0.0.1:{port} is free for the shim")]


def check_disk(path: Path, usage: Callable[[str], tuple[int, int, int]] = shutil.disk_usage) -> list[Finding]:
    free_gb = usage(str(path))[2] / 1e9
    level = Level.OK if free_gb >= MIN_FREE_GB else Level.FAIL
    return [Finding(level, "disk", f"{free_gb:.1f} GB free at {path}",
                    f"images need about {MIN_FREE_GB:.0f} GB: `docker image prune`, or free space")]


def check_engine(connect: Callable[[], Engine], config: Config | None, environ: Mapping[str, str]) -> list[Finding]:
    try:
        engine = connect()
        info = engine.info()
    except BedError as exc:
        return [Finding(Level.FAIL, "engine", exc.what, exc.hint or "")]
    found = [Finding(Level.OK, "engine", f"Docker {info.version} (API {info.api_version}) at {info.host}, "
                                         f"{info.cpus} cores")]
    if info.root_dir and Path(info.root_dir).exists():  # a local engine: its images need room on this disk
        found += check_disk(Path(info.root_dir))
    if config is None:
        return found
    recipe = Recipe.of(config)
    tags = expected_tags(engine, recipe)
    built = [tag for tag in tags.values() if engine.image(tag) is not None]
    for spec in SPECS:
        tag = tags.get(spec.name)
        if tag is None:
            found.append(Finding(Level.WARN, "images", f"{spec.repository}: its base is not built yet",
                                 "the first run (or `bed images`) builds it"))
        elif tag in built:
            found.append(Finding(Level.OK, "images", f"{tag} is built and up to date"))
        else:
            found.append(Finding(Level.WARN, "images", f"{tag} is not built yet", "`bed images` (or just run)"))
    if tags.get("python") in built:
        found += check_container(engine, tags["python"], environ)
    return found


def check_container(engine: Engine, image: str, environ: Mapping[str, str]) -> list[Finding]:
    """Can the engine run a container, and are its published ports on this machine?"""
    labels = {PROJECT: "bed", RUN: "doctor"}
    try:
        done = engine.run_once(image, [VENV_PYTHON, "-c", "pass"], labels)
    except BedError as exc:
        return [Finding(Level.FAIL, "engine", f"cannot run a container: {exc.what}", exc.hint or "")]
    if done.exit_code != 0:
        return [Finding(Level.FAIL, "engine", f"a container exited {done.exit_code}: {done.output[-200:]}",
                        "read the engine's log; check free memory and the storage driver")]
    found = [Finding(Level.OK, "engine", "can run a container (--network none)")]
    server = (VENV_PYTHON, "-m", "http.server", "8000", "--bind", "0.0.0.0")  # noqa: S104 - inside the container
    spec = ContainerSpec(name=f"bed-doctor-{int(time.time() * 1000)}", image=image, labels=labels, command=server,
                         network="bridge", publish={8000: None}, memory="64m")
    try:
        ref = engine.run(spec)
    except BedError as exc:
        return [*found, Finding(Level.WARN, "engine", f"cannot publish a port: {exc.what}", exc.hint or "")]
    try:
        here = _answers("127.0.0.1", engine.published_port(ref, 8000))
    finally:
        engine.remove(ref)
    if here:
        return [*found, Finding(Level.OK, "engine", "local: published ports answer on 127.0.0.1")]
    return [*found, Finding(Level.WARN, "engine",
                            f"remote (DOCKER_HOST={environ.get('DOCKER_HOST', 'default')}): published ports are "
                            "not on this machine",
                            "fine for `bed run` (bed waits and tests from inside the bed network); `bed up`'s "
                            "export lines and `bed bench` need the engine's host")]


def _answers(host: str, port: int, budget_s: float = 3.0) -> bool:
    """The server needs a moment to listen: a 2xx within ``budget_s``."""
    return loopback.answers(f"http://{host}:{port}/", budget_s=budget_s, timeout_s=0.5)


def diagnose(environ: Mapping[str, str], root: Path, connect: Callable[[], Engine]) -> list[Finding]:
    config, found = check_config(environ, root)
    found = check_python(environ) + found
    if config is not None:
        found += check_ports(config)
        found += check_disk(config.root)
    found += check_engine(connect, config, environ)
    return found
