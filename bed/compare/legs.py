"""One compare leg: the gate against one gateway, in its own stack and its own folder.

A leg's folder (the compare's ``legs/<slug>/``, or ``--out DIR`` for ``bed compare --leg``):

    leg.json          what the merge reads (schema: bed/report/compare_leg.schema.json): the
                      gateway, ran or broken (and why), the proxy image, its dependency freeze,
                      its boot time and latencies
    mvp_report.json   the leg's own readiness report: ``bed repro`` works on it as on any report
                      (its repro record carries BED_LITELLM, so the same gateway is rebuilt when
                      its images are gone)
    PROJECT_READY.md, junit/, durations.json, flakes.json (a flake history per gateway), .artifacts/

A gateway whose image cannot be built (IMAGE_ERROR) or whose proxy never serves (STACK_ERROR)
makes a *broken* leg, recorded with its error: the comparison shows it as a regression when the
gateway before it ran. Anything else (configuration, the engine, a report that cannot be
written, a port taken) is not the gateway's doing and ends the compare with its usual code.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import __version__
from ..config.settings import Config
from ..console import Console
from ..engine.labels import PROJECT
from ..engine.protocol import Engine
from ..errors import BedError, ImageError, PortInUseError, StackError
from ..images.build import ImageRef
from ..images.gateway import FREEZE_PATH, parse_freeze
from ..model.results import RunResult
from ..pipeline.stages.prepare import Inputs
from ..pipeline.workflow import run as run_pipeline
from ..report.writers import write_text
from ..stack.owner import Stack
from . import bench
from .gateways import Wanted

LEG_FILE = "leg.json"
REPORT_FILE = "mvp_report.json"
LEG_SCHEMA_VERSION = 1
# What an image used as is lists instead of a freeze file: every distribution its interpreter sees.
DISTRIBUTIONS = ("import importlib.metadata as m\n"
                 "print('\\n'.join(sorted(f\"{d.metadata['Name']}=={d.version}\" for d in m.distributions())))\n")


@dataclasses.dataclass(frozen=True)
class Options:
    """What every leg of one compare shares."""

    root: Path
    gate: str
    tiers: tuple[str, ...] | None
    strict: bool | None
    router_config: str | None
    bench_seconds: float


def shown(root: Path, path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def leg_environ(environ: Mapping[str, str], one: Wanted, folder: Path, root: Path) -> dict[str, str]:
    """The leg's environment: its gateway and its folder, as a `bed run` of it alone would read them
    (so the report's repro record names them too)."""
    agents = {"BED_AGENTS": one.agents} if one.agents else {}
    return {**environ, "BED_LITELLM": one.spec, "BED_ARTIFACTS_DIR": shown(root, folder),
            "BED_FLAKE_STORE": shown(root, folder / "flakes.json"), **agents}


def leg_config(environ: Mapping[str, str], one: Wanted, folder: Path, options: Options) -> Config:
    config = Config.from_env(environ, root=options.root, gate=options.gate, tiers=options.tiers,
                             strict=options.strict, router_config=options.router_config)
    # The parsed gateway itself: a fork's explicit base has no BED_LITELLM form.
    return dataclasses.replace(config, gateway=one.gateway, outputs_dir=folder)


class Observed:
    """What a leg's run started: its images (for its document), its stack (removed at once when the
    user interrupts a compare whose legs run side by side)."""

    def __init__(self) -> None:
        self.started: Stack | None = None
        self.built: Mapping[str, ImageRef] = {}

    def images(self, images: Mapping[str, ImageRef]) -> None:
        self.built = images

    def stack(self, stack: Stack) -> None:
        self.started = stack


def run_leg(one: Wanted, folder: Path, options: Options, environ: Mapping[str, str], engine: Engine,
            console: Console, registry: dict[str, Observed] | None = None) -> dict[str, Any]:
    """Run one leg into ``folder`` and return what it wrote to leg.json."""
    started = time.monotonic()
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for stale in (LEG_FILE, REPORT_FILE):  # a leg that breaks must not leave the last run's report behind
        (folder / stale).unlink(missing_ok=True)
    env = leg_environ(environ, one, folder, options.root)
    config = leg_config(env, one, folder, options)
    measured: dict[str, Any] = {}
    observed = Observed()
    inputs = Inputs(config, env, console, lambda: engine, options.gate,
                    publish=options.bench_seconds > 0 and engine.info().local, observer=observed)
    if registry is not None:
        registry[one.slug] = observed
    console.step(f"leg {one.name}: {one.gateway.describe()} -> {shown(options.root, folder)}/")
    result: RunResult | None = None
    error: BedError | None = None
    try:
        result = run_pipeline(inputs, after_tiers=(bench.stage(options.bench_seconds, measured),))
    except PortInUseError:
        raise  # the machine's doing, not the gateway's
    except (ImageError, StackError) as exc:
        error = exc
        console.banner(f"BROKEN: {one.name} could not be built or booted", [exc.line(), *exc.details.splitlines()[-8:]])
    proxy = observed.built.get("litellm")
    doc = leg_document(one, options, config, result, error, proxy, read_freeze(engine, proxy), measured,
                       round(time.monotonic() - started, 2))
    write_text(folder / LEG_FILE, json.dumps(doc, indent=2) + "\n", console.redact)
    return doc


def leg_document(one: Wanted, options: Options, config: Config, result: RunResult | None, error: BedError | None,
                 proxy: ImageRef | None, freeze: dict[str, str] | None, measured: dict[str, Any],
                 seconds: float) -> dict[str, Any]:
    gateway = result.gateway if result is not None else {**one.gateway.to_dict(), "describe": one.gateway.describe()}
    timings = result.timings if result is not None else {}
    return {
        "schema_version": LEG_SCHEMA_VERSION,
        "kind": "bed-compare-leg",
        "bed": __version__,
        "name": one.name,
        "spec": one.spec,
        "gateway": gateway,
        "gate": options.gate,
        "tiers": list(config.tiers),
        "status": "broken" if error is not None else "ran",
        "verdict": result.verdict_line() if result is not None else None,
        "error": None if error is None else {"kind": error.kind, "line": error.line(),
                                             "details": error.details[-4000:]},
        "report": REPORT_FILE if result is not None else None,
        "image": None if proxy is None else {"tag": proxy.tag, "id": proxy.id, "size_mb": proxy.size_mb},
        "freeze": freeze,
        "measured": {
            "boot_s": timings.get("ready_proxy"),
            "latency": measured.get("latency"),
            "bench_note": measured.get("bench_note", ""),
            "bench_s": timings.get("bench"),
            "images_s": timings.get("images"),
            "leg_s": seconds,
        },
    }


def read_freeze(engine: Engine, proxy: ImageRef | None) -> dict[str, str] | None:
    """The proxy image's installed distributions ({name: version}), or None when they cannot be read."""
    if proxy is None:
        return None
    try:
        if proxy.command:  # an image used as is has no freeze file: ask the interpreter that runs the proxy
            done = engine.run_once(proxy.id, ["-c", DISTRIBUTIONS], {PROJECT: "bed"},
                                   entrypoint=[proxy.command[0]])
        else:
            done = engine.run_once(proxy.id, [FREEZE_PATH], {PROJECT: "bed"}, entrypoint=["cat"])
    except ImageError:  # gone meanwhile (a gc): the comparison says the freeze is unknown
        return None
    return parse_freeze(done.output) if done.exit_code == 0 else None
