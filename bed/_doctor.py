"""`bed doctor`: every precondition of a run, checked one by one, each with its fix.

A finding is OK, WARN (a run works but something is off) or FAIL (a run cannot work).
Checks are plain functions over small seams, so the unit tests feed them fakes.
"""

from __future__ import annotations

import dataclasses
import enum
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import docker
import docker.errors
import requests

from . import _router
from ._config import Config
from ._errors import BedError
from ._images import SPECS, expected_tags, find_image
from ._stack import loopback_port_free

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
        return [Finding(Level.OK, "ports", "the shim and the proxy get free loopback ports")]
    if not loopback_port_free(port):
        return [Finding(Level.FAIL, "ports", f"127.0.0.1:{port} (from {config.bases.source}) is taken",
                        f"free it (ss -ltnp 'sport = :{port}') or pick another port")]
    return [Finding(Level.OK, "ports", f"127.0.0.1:{port} is free for the shim")]


def check_disk(path: Path, usage: Callable[[str], tuple[int, int, int]] = shutil.disk_usage) -> list[Finding]:
    free_gb = usage(str(path))[2] / 1e9
    level = Level.OK if free_gb >= MIN_FREE_GB else Level.FAIL
    return [Finding(level, "disk", f"{free_gb:.1f} GB free at {path}",
                    f"images need about {MIN_FREE_GB:.0f} GB: `docker image prune`, or free space")]


def check_engine(client_factory: Callable[[], docker.DockerClient], config: Config | None) -> list[Finding]:
    try:
        client = client_factory()
        version = client.version()
    except BedError as exc:
        return [Finding(Level.FAIL, "engine", exc.what, exc.hint or "")]
    found = [Finding(Level.OK, "engine", f"Docker {version.get('Version')} (API {version.get('ApiVersion')})")]
    docker_root = Path(str(client.info().get("DockerRootDir", "/var/lib/docker")))
    if docker_root.exists():  # a local engine: its images need room on this disk
        found += check_disk(docker_root)
    if config is None:
        return found
    tags = expected_tags(client, config)
    built = [tag for tag in tags.values() if find_image(client, tag) is not None]
    for spec in SPECS:
        tag = tags.get(spec.name)
        if tag is None:
            found.append(Finding(Level.WARN, "images", f"{spec.repository}: its base is not built yet",
                                 "the first run (or `make images`) builds it"))
        elif tag in built:
            found.append(Finding(Level.OK, "images", f"{tag} is built and up to date"))
        else:
            found.append(Finding(Level.WARN, "images", f"{tag} is not built yet", "`make images` (or just run)"))
    runnable = built[0] if built else None
    if runnable:
        try:
            client.containers.run(runnable, ["/opt/venv/bin/python", "-c", "pass"], remove=True,
                                  network_mode="none", labels={"bed.project": "bed", "bed.run": "doctor"})
            found.append(Finding(Level.OK, "engine", "can run a container (--network none)"))
        except (docker.errors.APIError, docker.errors.ContainerError, requests.RequestException) as exc:
            found.append(Finding(Level.FAIL, "engine", f"cannot run a container: {exc}",
                                 "read the engine's log; check free memory and the storage driver"))
    return found


def diagnose(environ: Mapping[str, str], root: Path,
             client_factory: Callable[[], docker.DockerClient]) -> list[Finding]:
    config, found = check_config(environ, root)
    found = check_python(environ) + found
    if config is not None:
        found += check_ports(config)
        found += check_disk(config.root)
    found += check_engine(client_factory, config)
    return found
