"""`bed repro REPORT`: run exactly the failing tests of a report again, here.

The report records the images, the router config, the tiers and shard, the shim's seed, the
allow-listed environment and the failing node ids (pytest's own, from bed's records). The
recorded images are reused when they are still on this engine; otherwise the current source
is built and the difference is said loudly.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config.paths import read_bounded
from ..config.settings import REPRO_ENV, TIERS, Config
from ..console import Console
from ..errors import EXIT_NOT_READY, EXIT_READY, ConfigError
from ..images.build import recorded
from ..model.results import SCHEMA_VERSION
from ..pipeline.stages.prepare import Inputs
from ..pipeline.workflow import run as run_pipeline
from ..report import schema
from ..report.writers import write_text
from . import common
from .run import summarise

HELP = "re-run exactly the failing tests of a report (same images, router config, node ids)"
MAX_BYTES = 16 * 1024 * 1024
DECIDED_BY_REPORT = ("BED_ROUTER_CONFIG", "BED_SUITE")  # the report's router_yaml and suite fields


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", metavar="REPORT", help="an mvp_report.json written by bed")
    parser.add_argument("--keep", action="store_true", help="leave the stack up afterwards (bed down removes it)")


def load(path: Path) -> dict[str, Any]:
    """The report at ``path``, when it is one bed wrote: JSON, schema version 2, every field as the
    schema bed ships says, and a repro record whose environment holds only what a repro takes."""
    hint = "pass the mvp_report.json of the run to reproduce, as bed wrote it."
    try:
        data = json.loads(read_bounded(path, MAX_BYTES, "report", hint=hint,
                                       too_big="a bed report is a few hundred KB; pass mvp_report.json."))
    except (ValueError, UnicodeDecodeError):
        raise ConfigError(f"{path} is not JSON.", hint="pass an mvp_report.json written by bed.") from None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION or not data.get("repro"):
        raise ConfigError(f"{path} is not a bed report of schema version {SCHEMA_VERSION} with a repro record.",
                          hint="re-run the gate with this bed version to get one.")
    problem = schema.first_error(data, schema.load("report.schema.json"))
    if problem is not None:
        raise ConfigError(f"{path} is not a bed report as bed writes it: {problem}.", hint=hint)
    foreign = sorted(set(data["repro"]["env"]) - set(REPRO_ENV))
    if foreign:
        raise ConfigError(f"{path}: repro.env names {', '.join(foreign)}, which a repro never takes from a report "
                          "(a report is data, not this machine's configuration).",
                          hint=f"remove {'them' if len(foreign) > 1 else 'it'} from the report; set what is yours "
                               "(the engine: DOCKER_HOST) in your own environment.")
    return data


def plan(data: dict[str, Any]) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The tiers to run and, per tier, the node ids to select (none: the whole tier)."""
    failing: dict[str, list[str]] = data["repro"]["failing"]
    bad = [c for c in data["checks"] if c["status"] in ("failed", "error") and c["tier"] in TIERS]
    if not bad:  # all passed, or what failed was the run itself (its census, its set-up): all of it again
        return tuple(data["repro"]["tiers"]), {}
    select = {c["tier"]: tuple(failing[c["name"]]) for c in bad if failing.get(c["name"])}
    return tuple(dict.fromkeys(c["tier"] for c in bad)), select


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    data = load(Path(args.report))
    record = data["repro"]
    tiers, select = plan(data)
    # The run's settings come from the report (only REPRO_ENV, checked by load); this machine's own
    # (the engine, where reports and the flake book go, the CA bundle) from the user's environment.
    env = {**{k: v for k, v in environ.items() if k not in (*REPRO_ENV, *DECIDED_BY_REPORT)}, **record["env"]}
    if record["env"]:
        console.step("from the report: " + " ".join(f"{k}={v}" for k, v in sorted(record["env"].items())))
    config = Config.from_env(env, tiers=tiers, gate=data["gate"], keep=args.keep, shard=record["shard"],
                             suite=record.get("suite"))
    router_file = config.stub_path.with_name("repro_router.yaml")
    write_text(router_file, record["router_yaml"], console.redact)
    config = dataclasses.replace(config, router_config=router_file)
    shown = ", ".join(f"{t}: {len(select[t])} test(s)" if t in select else f"{t}: all" for t in tiers)
    console.step(f"reproducing run {data['run_id']} ({data['verdict']}): {shown}")
    engine = common.engine(env)
    images = recorded(engine, record["images"])
    if images is None:
        console.banner("IMAGES DIFFER FROM THE REPORT", [
            "an image the report names is no longer on this engine",
            "reproducing with images built from the current source instead"])
    result = run_pipeline(Inputs(config, env, console, lambda: engine, data["gate"], select=select,
                                 given_images=images))
    summarise(result, config, console)
    return EXIT_READY if result.ready else EXIT_NOT_READY
