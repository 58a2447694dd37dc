"""`bed repro REPORT`: run exactly the failing checks of a report again, here.

The report records the images, the router config, the tiers and shard, the shim's seed, the
allow-listed environment and the failing node ids. The recorded images are reused when
they are still on this engine; otherwise the current source is built and the difference
is said loudly.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import docker
import docker.errors

from . import _run
from ._config import ENV_VARS, Config
from ._console import Console
from ._engine import connect
from ._errors import ConfigError
from ._images import ImageRef, find_image, image_ref
from ._results import SCHEMA_VERSION, RunResult


def load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read report {path}: {exc.strerror}.",
                          hint="pass the mvp_report.json of the run to reproduce.") from None
    except ValueError:
        raise ConfigError(f"{path} is not JSON.", hint="pass an mvp_report.json written by bed.") from None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION or not data.get("repro"):
        raise ConfigError(f"{path} is not a bed report of schema version {SCHEMA_VERSION} with a repro record.",
                          hint="re-run the gate with this bed version to get one.")
    return data


def plan(data: dict[str, Any]) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The tiers to run and, per tier, the node ids to select (empty: the whole tier)."""
    failing: dict[str, list[str]] = data["repro"]["failing"]
    bad = [c for c in data["checks"] if c["status"] in ("failed", "error")]
    if not bad:
        return tuple(data["repro"]["tiers"]), {}
    select = {c["tier"]: tuple(failing[c["name"]]) for c in bad if failing.get(c["name"])}
    tiers = tuple(dict.fromkeys(c["tier"] for c in bad))
    return tiers, select


def recorded_images(client: docker.DockerClient, data: dict[str, Any], console: Console) -> dict[str, ImageRef] | None:
    refs: dict[str, ImageRef] = {}
    for name, image in data["repro"]["images"].items():
        found = find_image(client, image["id"])
        if found is None:
            console.banner("IMAGES DIFFER FROM THE REPORT", [
                f"{image['tag']} ({image['id'][7:19]}) is no longer on this engine",
                "reproducing with images built from the current source instead"])
            return None
        refs[name] = image_ref(name, image["tag"], found, built=False)
    return refs


def repro(report: Path, environ: Mapping[str, str], console: Console, *, keep: bool) -> tuple[RunResult, Config]:
    data = load(report)
    recorded = data["repro"]
    tiers, select = plan(data)
    env = {**{k: v for k, v in environ.items() if k not in ENV_VARS}, **recorded["env"]}
    config = Config.from_env(env, tiers=tiers, gate=data["gate"], keep=keep, shard=recorded["shard"],
                             suite=recorded.get("suite"))
    router_file = config.stub_path.with_name("repro_router.yaml")
    router_file.parent.mkdir(parents=True, exist_ok=True)
    router_file.write_text(recorded["router_yaml"])
    config = dataclasses.replace(config, router_config=router_file)
    shown = ", ".join(f"{t}: {len(select[t])} test(s)" if t in select else f"{t}: all" for t in tiers)
    console.step(f"reproducing run {data['run_id']} ({data['verdict']}): {shown}")
    images = recorded_images(connect(environ), data, console)
    return _run.run(config, env, console, gate=data["gate"], select=select, images=images), config
