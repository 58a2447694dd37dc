"""A stack kept by `bed up`, and `bed run --reuse` on it: the dev loop in seconds.

`bed up` records what it started in ``.artifacts/kept.json`` (ids, images, the router config's
hash; the master key stays in its 0600 file). A reusing run checks that record against what it
would start now: an image or the router config that changed is said, and only that service is
restarted (under the kept run's labels, so `bed down` still removes it all). Between runs the
shim's journal, faults, scripts and stored answers are reset, so no test state leaks. The run's
own runners belong to the run and go with it; the kept stack stays.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import loopback
from ..config.paths import read_bounded, read_text
from ..config.settings import Config, state_folder
from ..console import Console
from ..engine.protocol import Engine
from ..errors import BedError, ConfigError, StackError
from ..images.build import ImageRef
from ..model.containers import VENV_PYTHON
from . import warm
from .bringup import Plan, Services, restart
from .owner import Service, Stack
from .services import SHIM

RECORD = "kept.json"
MAX_RECORD = 1024 * 1024  # bed writes a few hundred bytes
RESET = ("import urllib.request as u; "
         "u.urlopen(u.Request('{url}/_bed/reset', data=b'{{}}', method='POST'), timeout=5).read()")


@dataclasses.dataclass(frozen=True)
class Kept:
    run_id: str
    network: str
    ids: Mapping[str, str]  # probe, shim, proxy -> container id
    images: Mapping[str, str]  # image name -> id
    router_sha: str
    master_key_file: str
    warm: Mapping[str, str] = dataclasses.field(default_factory=dict)  # warm runner kind -> container id

    @classmethod
    def load(cls, root: Path) -> Kept:
        path = state_folder(root) / RECORD
        if not os.path.lexists(path):
            raise ConfigError(f"no stack kept by `bed up` here ({path} is missing).",
                              hint="run `bed up` first (it keeps the stack; `bed down` ends it).")
        hint = "`bed down`, then `bed up` again."
        try:
            data = json.loads(read_bounded(path, MAX_RECORD, "kept-stack record", hint=hint))
            return cls(data["run_id"], data["network"], data["ids"], data["images"], data["router_sha"],
                       data["master_key_file"], dict(data.get("warm") or {}))
        except (ValueError, KeyError, TypeError):
            raise ConfigError(f"{path} is not a record bed wrote.", hint=hint) from None

    @classmethod
    def find(cls, root: Path) -> Kept | None:
        """The record here; None when there is none, or it is not one bed wrote."""
        try:
            return cls.load(root)
        except ConfigError:
            return None

    def save(self, root: Path) -> None:
        path = state_folder(root) / RECORD
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dataclasses.asdict(self), indent=1) + "\n")

    @classmethod
    def of(cls, run_id: str, network: str, services: Services, images: Mapping[str, ImageRef], router_text: str,
           key_file: Path, warm_runners: Mapping[str, Service]) -> Kept:
        ids = {"probe": services.probe.id, "shim": services.shim.id, "proxy": services.proxy.id}
        return cls(run_id, network, ids, {n: r.id for n, r in images.items()}, sha(router_text), str(key_file),
                   {k: s.id for k, s in warm_runners.items()})


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def forget(root: Path) -> None:
    (state_folder(root) / RECORD).unlink(missing_ok=True)


@dataclasses.dataclass(frozen=True)
class Attached:
    services: Services
    run_id: str  # the kept run's
    restarted: list[str]  # what changed since `bed up`, and was started again
    warm: Mapping[str, Service]  # the warm runners, by kind (bed.stack.warm)


def attach(engine: Engine, config: Config, kept: Kept, plan: Plan, console: Console) -> Attached:
    """The kept stack, brought in line with what this run would start: a changed image or router
    config restarts that service, a changed runner image its warm runner; the shim is reset.
    ``plan`` carries the kept stack's master key (``master_key(kept)``)."""
    keeper = Stack(engine, kept.run_id, console, keep=True)
    keeper.network = kept.network
    services = {key: Service(f"bed-{kept.run_id}-{key}", key, ref, engine) for key, ref in kept.ids.items()}
    for key, service in services.items():
        if service.state().status != "running":
            raise StackError(f"the kept stack's {key} ({service.id[:12]}) is {service.state().describe()}.",
                             hint="`bed down`, then `bed up` again.")
    changed: list[str] = []
    if kept.images.get("shim") != plan.images["shim"].id and config.agent is None:
        changed.append("the shim image changed: restarting the shim")
    if kept.images.get("litellm") != plan.images["litellm"].id:
        changed.append("the proxy image changed: restarting the proxy")
    elif kept.router_sha != sha(plan.router.text):
        changed.append("the router config changed: restarting the proxy")
    for note in changed:
        console.step(f"reuse: {note}")
        key = "shim" if "shim" in note else "proxy"
        services[key] = restart(keeper, services["probe"], services[key], key, plan)
    ready = Services(services["probe"], services["shim"], services["proxy"])
    had = {k: Service(f"bed-{kept.run_id}-warm-{k}", warm.ROLE, ref, engine) for k, ref in kept.warm.items()}
    runners, started = warm.refresh(keeper, had, kept.images, plan.images, config.runner_memory)
    for note in started:
        console.step(f"reuse: starting {note}")
    if changed or {k: s.id for k, s in runners.items()} != dict(kept.warm):
        now = Kept.of(kept.run_id, kept.network, ready, plan.images, plan.router.text, Path(kept.master_key_file),
                      runners)
        # A run of some tiers builds only their images: the others' stay as recorded, or the next
        # run would see them as changed and restart their warm runners for nothing.
        dataclasses.replace(now, images={**kept.images, **now.images}).save(config.root)
    reset(engine, ready, config, local=plan.local_engine)
    return Attached(ready, kept.run_id, changed + started, runners)


def master_key(kept: Kept) -> str:
    hint = "`bed down`, then `bed up` again."
    if not os.path.lexists(kept.master_key_file):
        raise ConfigError(f"the kept stack's master key file {kept.master_key_file} is gone.", hint=hint)
    return read_text(Path(kept.master_key_file), MAX_RECORD, "the kept stack's master key file", hint=hint).strip()


def reset(engine: Engine, services: Services, config: Config, *, local: bool) -> None:
    """The shim forgets the last run: journal, faults, scripts, stored responses (no test state leaks).

    Every tier waits for this, so it takes the short way when there is one: a POST to the shim's
    published port on a local engine (~5 ms), else a `docker exec` of Python in the probe (~90 ms).
    """
    if config.agent is not None:
        return  # your agent has no reset; its own state is its own
    if local and _reset_published(engine, services.shim):
        return
    done = engine.exec(services.probe.id, [VENV_PYTHON, "-c", RESET.format(url=SHIM.network_url())])
    if done.exit_code != 0:
        raise StackError(f"the kept shim would not reset: {done.output.strip()[-200:]}.",
                         hint="`bed down`, then `bed up` again.")


def _reset_published(engine: Engine, shim: Service) -> bool:
    """Whether the shim took the reset through its port published on this machine."""
    try:
        port = engine.published_port(shim.id, SHIM.port)
    except BedError:  # not published: the exec says why
        return False
    return loopback.post(f"http://127.0.0.1:{port}/_bed/reset", timeout_s=5.0)


def describe(kept_run: str, changed: list[str]) -> dict[str, Any]:
    return {"from": kept_run, "restarted": changed}
