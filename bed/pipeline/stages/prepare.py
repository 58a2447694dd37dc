"""The prepare stage: the run's inputs become one frozen ``Prepared``: the router config the proxy
will load (validated or generated, and written where the user can read it), the master key, the
flake book, the release tier's smokes, the project's suite as files for the runner, and the
context every tier shares. Nothing is started here; a bad input ends the run before anything is.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from ...config import paths, twins
from ...config import router as _router
from ...config.settings import Config
from ...console import Console
from ...engine.protocol import Engine
from ...errors import ArtifactError, ConfigError
from ...exec import Local
from ...images.build import ImageRef
from ...model.quarantine import Book
from ...policy import release
from ...report import flakestore
from ...report.writers import write_text
from ...stack import kept
from ...stack.owner import Stack
from ...tiers import suite
from ...tiers.command import Context


class Observer(Protocol):
    """Someone outside the run that must know what it started (a compare leg: its images for its
    document, its stack to remove when the user interrupts `bed compare`)."""

    def images(self, images: Mapping[str, ImageRef]) -> None: ...

    def stack(self, stack: Stack) -> None: ...


@dataclasses.dataclass(frozen=True)
class Inputs:
    """What the caller asks for: a `bed run`, a repro, a compare leg, a bench round."""

    config: Config
    environ: Mapping[str, str]
    console: Console
    connect: Callable[[], Engine]
    gate: str
    select: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)  # repro: ids per tier
    given_images: Mapping[str, ImageRef] | None = None  # repro: the report's very images
    now: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC)
    clock: Callable[[], float] = time.monotonic
    publish: bool = False  # publish the shim and the proxy on loopback (a compare leg benches its proxy)
    observer: Observer | None = None


@dataclasses.dataclass(frozen=True)
class Prepared:
    started_at: str
    master_key: str
    router: _router.RouterPlan
    smokes: tuple[release.Smoke, ...]
    twins: tuple[twins.TwinSmoke, ...]  # each live deployment against its provider's twin (the ND tier)
    book: Book  # the flake history as it was before this run
    ctx: Context  # what every tier's session shares (its cpus filled in by the images stage)
    kept: kept.Kept | None = None  # `--reuse`: the record `bed up` left, read once


def new_master_key() -> str:
    return "sk-bed-" + secrets.token_urlsafe(24)


def prepare(inputs: Inputs) -> Prepared:
    config, console = inputs.config, inputs.console
    started_at = inputs.now().isoformat(timespec="seconds")
    # Reusing a kept stack: its proxy has its own key (in its 0600 file); a missing record stops here.
    record = kept.Kept.load(config.root) if config.reuse else None
    master_key = kept.master_key(record) if record is not None else new_master_key()
    console.redact.add(master_key)
    announce(config, console)
    book = flakestore.load(config.flake_store)  # a bad store is refused before anything starts
    outputs = (config.artifacts_dir, config.stub_path.parent, config.flake_store, config.ready_md_path)
    suite_files, target = suite.files(config.root, config.suite, outputs, console, exclude=config.suite_exclude,
                                      run=Local()) if config.suite else ((), ".")
    router = prepare_router(config, console, inputs.environ)
    smokes = tuple(release_smokes(config, router, inputs.environ))
    against_twins = tuple(twin_smokes(config, router))
    ctx = Context(config=config, master_key=master_key, router_yaml=router.text, environ=inputs.environ,
                  durations=load_durations(config), suite_files=suite_files, suite_target=target,
                  clock=inputs.clock, release=smokes, twins=against_twins)
    return Prepared(started_at, master_key, router, smokes, against_twins, book, ctx, record)


def announce(config: Config, console: Console) -> None:
    """Print the one base (both variables) and every forced value, before anything starts."""
    b = config.bases
    console.step(f"MINI_AGENT_API_BASE={b.network}  (source: {b.source}{', given ' + b.given if b.given else ''})")
    console.step(f"CODEX_AGENT_API_BASE={b.network}  (forced to match)")
    if b.warnings:
        console.banner("BASE ADJUSTED", list(b.warnings))


def prepare_router(config: Config, console: Console, environ: Mapping[str, str]) -> _router.RouterPlan:
    """The router config the proxy loads, written to ``.artifacts/router_stub.yaml`` with a header
    that says where it came from; every change bed made is said loudly."""
    plan = _router.plan(config.router_config, config.group, config.bases.network, strict=config.strict)
    if config.live_providers and not release.live_deployments(plan.model_list, config.bases.network):
        # The default set's groups: a config naming a group "release-openai" itself keeps its own.
        plan = plan.extended(release.defaults(config.release_models, environ),
                             "no live deployment in the config, so the release tier calls bed's default set "
                             f"({', '.join(release.DEFAULTS)}) through the proxy")
    plan = with_twins(config, plan)
    check_writable(config)  # after validation: a CONFIG_ERROR leaves nothing behind
    write_text(config.stub_path, plan.text, console.redact)
    console.step(f"router config: {config.shown(config.stub_path)} ({plan.source})")
    if plan.notes:
        console.banner("ROUTER CONFIG CHANGED BY BED", list(plan.notes))
    return plan


def with_twins(config: Config, plan: _router.RouterPlan) -> _router.RouterPlan:
    """The config with each live deployment also served against its provider's twin
    (``bed.config.twins``); the live deployments themselves stay as they are."""
    added, _ = twins.derive(release.live_deployments(plan.model_list, config.bases.network), config.bases.network,
                            shim=config.agent is None)
    if not added:
        return plan
    note = (f"provider twins: {len(added)} deployment(s) also served against their provider's twin, as "
            f"{', '.join(e['model_name'] for e in added)} (fake keys; your deployments are untouched)")
    return plan.extended(added, note, loud=plan.source != "generated")


def twin_smokes(config: Config, plan: _router.RouterPlan) -> list[twins.TwinSmoke]:
    """The ND tier's provider-twin smokes: one per live deployment (bed's default set when none)."""
    return twins.derive(release.live_deployments(plan.model_list, config.bases.network), config.bases.network,
                        shim=config.agent is None)[1]


def release_smokes(config: Config, router: _router.RouterPlan, environ: Mapping[str, str]) -> list[release.Smoke]:
    """The release tier's smokes: the config's live deployments, else bed's default set."""
    added = {d["model_name"] for d in release.defaults(config.release_models, environ)}
    own = [e for e in router.model_list
           if e.get("model_name") not in added and not twins.is_twin_group(e.get("model_name"))]
    # bed's default set is live by definition, wherever a test points its bases (at the shim).
    deployments = release.live_deployments(own, config.bases.network) or \
        release.defaults(config.release_models, environ)
    return release.smokes(deployments, environ, live=config.live_providers)


def check_writable(config: Config) -> None:
    """Fail before anything starts when the reports could not be written at the end."""
    for folder in (config.artifacts_dir, config.stub_path.parent, config.root):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".bed-write-probe-{config.run_id}"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise ArtifactError(f"cannot write to {folder}: {exc.strerror}.",
                                hint="make it writable, or set BED_ARTIFACTS_DIR to a folder you own.") from None


def load_durations(config: Config) -> dict[str, float]:
    """Recorded test durations (they balance the ND shards); {} when there are none or they are not ours."""
    try:  # bed's own file, but in a folder the user names: never wait on a FIFO there, never read a huge file
        data = json.loads(paths.read_bounded(config.durations_path, 8 * 2**20, "durations", hint=""))
    except (ConfigError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): float(v) for k, v in data.items() if isinstance(v, int | float) and not isinstance(v, bool)}
