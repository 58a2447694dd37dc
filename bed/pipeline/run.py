"""One readiness run, as named stages over one state:

    prepare   the router config validated or generated, artifacts writable, the flake book read
    images    the engine, and every image built only where its content changed
    stack     the run's network (everything later is owned by the stack and torn down by it)
    tiers     the tiers in their runners; the services brought up meanwhile; failures re-run once
    teardown  everything the run started removed (unless kept)
    judge     policy turns each tier's evidence into a check; flakes and quarantine applied
    report    JUnit, durations, the flake book, mvp_report.json and PROJECT_READY.md

How the tiers overlap: the deterministic tier (and the release tier when live calls are off)
need neither the shim nor the proxy, so they run while those boot; the ND runner starts with
them, and bed's plugin makes its tests wait for them after collection. Live release smokes run
once the services are up: a "provider" may point at the shim (that is how the path is tested).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import datetime
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import __version__
from ..config import router as _router
from ..config.settings import ENV_VARS, Config
from ..console import Console
from ..engine.protocol import Engine
from ..errors import ArtifactError
from ..images.build import ImageRef, Recipe, ensure_images
from ..policy import budgets, flakes, quarantine, release, verdict
from ..redact import SECRET_NAME
from ..report import flakestore, junit, matrix
from ..report.results import CheckResult, RunResult, Status
from ..report.writers import write_all, write_text
from ..stack import bringup, kept, warm
from ..stack.bringup import Plan, Services
from ..stack.owner import Service, Stack
from ..stack.services import PROXY, SHIM_SEED, upstream
from . import suite, tiers
from .stages import Stage, execute


@dataclasses.dataclass
class Outcome:
    first: tiers.TierRun
    rerun: tiers.TierRun | None = None


@dataclasses.dataclass
class RunState:
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
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    owner: contextlib.ExitStack = dataclasses.field(default_factory=contextlib.ExitStack)
    # filled in by the stages
    master_key: str = ""
    router: _router.RouterPlan | None = None
    smokes: list[release.Smoke] = dataclasses.field(default_factory=list)
    proxy_tail: str = ""  # the proxy's last lines, read before teardown: failures through it carry them
    reused_from: str = ""  # `--reuse`: the kept stack's run
    kept: kept.Kept | None = None  # `--reuse`: the record `bed up` left, read once
    warm: dict[str, Service] = dataclasses.field(default_factory=dict)  # `--reuse`: its warm runners, by kind
    book: quarantine.Book = dataclasses.field(default_factory=quarantine.Book)
    engine: Engine | None = None
    images: dict[str, ImageRef] = dataclasses.field(default_factory=dict)
    stack: Stack | None = None
    services: Services | None = None
    ctx: tiers.Context | None = None
    outcomes: dict[str, Outcome] = dataclasses.field(default_factory=dict)
    checks: dict[str, CheckResult] = dataclasses.field(default_factory=dict)
    result: RunResult | None = None
    started_at: str = ""


def new_master_key() -> str:
    return "sk-bed-" + secrets.token_urlsafe(24)


def announce(config: Config, console: Console) -> None:
    """Print the one base (both variables) and every forced value, before anything starts."""
    b = config.bases
    console.step(f"MINI_AGENT_API_BASE={b.network}  (source: {b.source}{', given ' + b.given if b.given else ''})")
    console.step(f"CODEX_AGENT_API_BASE={b.network}  (forced to match)")
    if b.warnings:
        console.banner("BASE ADJUSTED", list(b.warnings))


def prepare_router(config: Config, console: Console, environ: Mapping[str, str]) -> _router.RouterPlan:
    plan = _router.plan(config.router_config, config.group, config.bases.network, strict=config.strict)
    if config.live_providers and not release.live_deployments(plan.model_list, config.bases.network):
        # The default set's groups: a config naming a group "release-openai" itself keeps its own.
        plan = plan.extended(release.defaults(config.release_models, environ),
                             "no live deployment in the config, so the release tier calls bed's default set "
                             f"({', '.join(release.DEFAULTS)}) through the proxy")
    check_writable(config)  # after validation: a CONFIG_ERROR leaves nothing behind
    write_text(config.stub_path, plan.text, console.redact)
    console.step(f"router config: {config.shown(config.stub_path)} ({plan.source})")
    if plan.notes:
        console.banner("ROUTER CONFIG CHANGED BY BED", list(plan.notes))
    return plan


def release_smokes(config: Config, router: _router.RouterPlan, environ: Mapping[str, str]) -> list[release.Smoke]:
    """The release tier's smokes: the config's live deployments, else bed's default set."""
    added = {d["model_name"] for d in release.defaults(config.release_models, environ)}
    own = [e for e in router.model_list if e.get("model_name") not in added]
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


# --- the stages ---------------------------------------------------------------------------------


def prepare(state: RunState) -> None:
    config, console = state.config, state.console
    state.started_at = state.now().isoformat(timespec="seconds")
    # Reusing a kept stack: its proxy has its own key (in its 0600 file); a missing record stops here.
    state.kept = kept.Kept.load(config.root) if config.reuse else None
    state.master_key = kept.master_key(state.kept) if state.kept is not None else new_master_key()
    console.redact.add(state.master_key)
    announce(config, console)
    state.book = flakestore.load(config.flake_store)  # a bad store is refused before anything starts
    outputs = (config.artifacts_dir, config.stub_path.parent, config.flake_store, config.ready_md_path)
    suite_files, target = suite.files(config.root, config.suite, outputs) if config.suite else ((), ".")
    state.router = prepare_router(config, console, state.environ)
    state.smokes = release_smokes(config, state.router, state.environ)
    state.ctx = tiers.Context(config=config, master_key=state.master_key, router_yaml=state.router.text,
                              environ=state.environ, durations=_load_durations(config), suite_files=suite_files,
                              suite_target=target, clock=state.clock, release=tuple(state.smokes))


def images(state: RunState) -> None:
    config, console = state.config, state.console
    state.engine = engine = state.connect()
    state.images = dict(state.given_images or ensure_images(engine, Recipe.of(config),
                                                            console))
    cpus = engine.info().cpus
    if config.workers is not None and budgets.workers(config.workers, cpus)[1]:
        console.step(f"PYTEST_XDIST_AUTO_NUM_WORKERS={config.workers} capped to {cpus}: the engine has {cpus} cores")
    assert state.ctx is not None
    state.ctx = dataclasses.replace(state.ctx, cpus=cpus)


def stack(state: RunState) -> None:
    assert state.engine is not None
    state.stack = Stack(state.engine, state.config.run_id, state.console, keep=state.config.keep)
    if not state.config.keep:
        state.owner.callback(state.stack.close)
    if state.kept is not None:  # the run's runners join the kept stack's network; the stack stays
        state.stack.network = state.kept.network
    else:
        state.stack.create_network()


def run_tiers(state: RunState) -> None:
    config = state.config
    hermetic: list[str] = [n for n in ("deterministic", "release") if n in config.tiers
                and not (n == "release" and config.live_providers)]
    served: list[str] = [n for n in ("nd", "agents") if n in config.tiers]  # they need the shim and the proxy
    live: list[str] = ["release"] if "release" in config.tiers and "release" not in hermetic else []
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=4)
    began = state.now().timestamp() - 1  # a second's margin for an engine whose clock is not quite ours
    try:
        if config.reuse:  # the kept stack is up: attached first, its warm runners serve every tier
            state.services = _attach(state)
        # The services before any runner: the proxy's boot is the longest path of a run (started
        # after the served runners, it was ready 1 s later; created beside the hermetic runners,
        # 0.3 s later). The runners' imports overlap that boot (bed's plugin makes the served
        # tiers' tests wait for the services after collection).
        booting = None
        if (served or live) and not config.reuse:
            plan = plan_of(state)
            booting = (plan, bringup.start(_stack(state), plan))
        early = {n: pool.submit(_tier_with_rerun, state, tiers.TIERS[n]) for n in hermetic}
        shim = upstream(config.agent)
        started = {n: _start(state, tiers.TIERS[n], wait_for=(shim.network_url(shim.health),
                                                               PROXY.network_url(PROXY.health))) for n in served}
        if booting is not None:
            state.services = bringup.ready(_stack(state), *booting)
            if config.bases.host_port is not None:
                state.console.step(f"shim from the host: {config.bases.host(config.bases.host_port)}")
        late = {n: pool.submit(_tier_with_rerun, state, tiers.TIERS[n], started[n]) for n in served}
        for name, future in [*early.items(), *late.items()]:
            state.outcomes[name] = future.result()
        for name in live:
            state.outcomes[name] = _tier_with_rerun(state, tiers.TIERS[name])
        if state.services is not None:  # a kept proxy's log also holds earlier runs: only this one's lines
            state.proxy_tail = state.services.proxy.log_tail(20, since=began if config.reuse else None)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def teardown(state: RunState) -> None:
    if state.stack is None:
        return
    if state.config.keep:
        _keep_shell(state)
    else:
        state.stack.close()


def judge(state: RunState) -> None:
    for name, outcome in state.outcomes.items():
        check = _judge_one(state, tiers.TIERS[name], outcome)
        state.checks[check.name] = check
        _announce(state, check, outcome.first)
    unmarked = sorted({n for o in state.outcomes.values() if o.first.evidence.selection
                       for n in o.first.evidence.selection.unmarked})
    if unmarked:
        state.console.banner(f"UNMARKED: {len(unmarked)} test(s) of your suite carry no tier marker and never run", [
            *unmarked[:20], "fix: mark each with @pytest.mark.deterministic, nd or release (bed registers them)"])


def report(state: RunState) -> None:
    config, console = state.config, state.console
    for name, check in state.checks.items():
        first = state.outcomes[check.tier].first
        write_text(config.junit_path(name), junit.for_check(check, first.junit), console.redact)
    _save_durations(state)
    flakestore.save(state.book, config.flake_store, console.redact)
    checks = tuple(sorted(state.checks.values(), key=lambda c: list(tiers.TIERS).index(c.tier)))
    host = state.services.shim if state.services else None
    state.result = RunResult(
        run_id=config.run_id, gate=state.gate, ready=verdict.ready(checks), strict=config.strict, checks=checks,
        bases={"MINI_AGENT_API_BASE": config.bases.network, "CODEX_AGENT_API_BASE": config.bases.network,
               "host": _host_base(state, host), "source": config.bases.source},
        images={n: r.to_dict() for n, r in state.images.items()},
        timings={**state.timings, **_service_timings(state)},
        versions=_versions(state), expect=config.expect,
        notes=(*config.bases.warnings, *(state.router.notes if state.router else ())),
        started_at=state.started_at, repro=_repro_record(state),
        quarantine=tuple(quarantine.as_report(state.book, config.repromote_after)),
        gateway=_gateway(state), reused_from=state.reused_from, agent_matrix=_agent_matrix(state),
    )
    write_all(state.result, report=config.report_path, ready_md=config.ready_md_path, redact=console.redact)


STAGES: tuple[Stage[RunState], ...] = (
    Stage("prepare", prepare), Stage("images", images), Stage("stack", stack), Stage("tiers", run_tiers),
    Stage("teardown", teardown), Stage("judge", judge), Stage("report", report),
)


def run(state: RunState, *, after_tiers: Sequence[Stage[RunState]] = ()) -> RunResult:
    """The stages in order; ``after_tiers`` run while the stack is still up (a compare leg's bench)."""
    at = [s.name for s in STAGES].index("tiers") + 1
    execute((*STAGES[:at], *after_tiers, *STAGES[at:]), state, state.clock)
    assert state.result is not None
    return state.result


# --- helpers of the stages ------------------------------------------------------------------------


def _attach(state: RunState) -> Services:
    """The kept stack's shim and proxy (`--reuse`), brought in line with this run."""
    assert state.engine is not None
    assert state.kept is not None
    attached = kept.attach(state.engine, state.config, state.kept, plan_of(state), state.console)
    state.reused_from, state.warm = attached.run_id, dict(attached.warm)
    restarted = attached.restarted
    state.console.step(f"reusing the stack kept by `bed up` (run {state.reused_from})"
                        + (f"; restarted: {', '.join(restarted)}" if restarted else "; nothing changed")
                        + f"; warm runners: {', '.join(sorted(state.warm)) or 'none'}")
    return attached.services


def _stack(state: RunState) -> Stack:
    assert state.stack is not None
    return state.stack


def plan_of(state: RunState) -> Plan:
    config = state.config
    assert state.router is not None
    return Plan.of(config, state.images, state.router, state.master_key,
                   local_engine=local_engine(state.environ), publish=state.publish,
                   provider_env=release.keys(state.smokes, state.environ, live=config.live_providers))


def _deps(state: RunState) -> list[Service]:
    return [state.services.shim, state.services.proxy] if state.services else []


def _start(state: RunState, tier: tiers.Tier, wait_for: tuple[str, ...] = ()) -> list[tiers.Started]:
    """A tier's session, or its parts at once (served tiers on a kept stack's warm runner)."""
    assert state.ctx is not None
    runner, select = _warm(state, tier), state.select.get(tier.name, ())
    n = budgets.parts(tier.name, warm=runner is not None, rerun=bool(select), sharded=state.config.shard is not None)
    return [tiers.start(_stack(state), tier, state.ctx, state.console, state.images[tier.image].tag, select=select,
                        wait_for=wait_for, warm_runner=runner, part=(i, n) if n > 1 else None)
            for i in range(1, n + 1)]


def _finish(started: list[tiers.Started], console: Console, watch: list[Service]) -> tiers.TierRun:
    if len(started) == 1:
        return tiers.finish(started[0], console, watch)
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(started)) as pool:
        return tiers.joined(list(pool.map(lambda s: tiers.finish(s, console, watch), started)))


def _warm(state: RunState, tier: tiers.Tier) -> Service | None:
    """The kept stack's warm runner for this tier (`--reuse`), or None: a fresh runner."""
    kind = warm.kind_of(tier.name, live=state.config.live_providers)
    return state.warm.get(kind) if kind is not None else None


def _tier_with_rerun(state: RunState, tier: tiers.Tier, started: list[tiers.Started] | None = None) -> Outcome:
    """Run a tier (or finish it, when ``started``); when tests failed, run exactly those node ids
    once more at once, to tell flakes from failures. A tier that needs the services is watched."""
    assert state.ctx is not None
    watch = _deps(state) if tiers.served(tier, state.config) else []
    first = _finish(started or _start(state, tier), state.console, watch)
    asked = flakes.worth_rerunning(first.evidence) if first.down is None else ()
    if not asked:
        return Outcome(first)
    state.console.step(f"{first.check}: re-running {len(asked)} failed test(s) once, to tell flakes from failures")
    rerun = tiers.run(_stack(state), tier, state.ctx, state.console, state.images[tier.image].tag, select=asked,
                      watch=watch, warm_runner=_warm(state, tier))
    return Outcome(first, rerun)


def _judge_one(state: RunState, tier: tiers.Tier, outcome: Outcome) -> CheckResult:
    config, console = state.config, state.console
    first, rerun = outcome.first, outcome.rerun
    evidence = first.evidence
    again = rerun.evidence if rerun is not None and rerun.down is None else None
    flaky = flakes.flaky(first.asked or evidence.failed, again) & set(evidence.failed)
    held = frozenset(n for n in evidence.failed if n not in flaky and state.book.is_quarantined(n))
    check = verdict.judge(verdict.Case(tiers.rules(tier, config), first.ending(), evidence, flaky, held))
    if check.cause is not None and not check.cause.log_tail and state.proxy_tail and tiers.served(tier, config):
        # A test that failed through the gateway: what the proxy said is the first thing to read.
        check = dataclasses.replace(check, cause=dataclasses.replace(check.cause, log_tail=state.proxy_tail))
    if first.down is None and flakes.trustworthy(evidence):
        still = [n for n in evidence.failed if n not in flaky]
        changes = state.book.record(check.name, flaky=sorted(flaky), failed=still, passed=evidence.passed,
                                    now=state.now(), repromote_after=config.repromote_after)
        for nodeid in changes.quarantined:
            path = config.artifacts_dir / "quarantine" / (re.sub(r"[^\w.-]+", "_", nodeid) + ".md")
            write_text(path, quarantine.issue_text(nodeid, state.book.entries[nodeid], config.repromote_after),
                       console.redact)
            console.banner(f"QUARANTINED: {nodeid}", ["two flakes within 7 days: it still runs but no longer gates",
                                                      f"issue text ready to file: {config.shown(path)}"])
        for nodeid in changes.repromoted:
            console.step(f"re-promoted out of quarantine after {config.repromote_after} clean runs: {nodeid}")
    return check


def _announce(state: RunState, check: CheckResult, first: tiers.TierRun) -> None:
    console = state.console
    gates = "FAILS the gate (required)" if check.required else "does not gate"
    if first.down is not None:
        console.banner(f"SKIP {check.name}: a dependency went down mid-run; {gates}",
                       [first.down.message, *first.down.log_tail.splitlines()[-10:]])
    elif check.status is Status.SKIPPED:
        skips = [f"{nodeid}: {why}" for nodeid, why in first.evidence.skipped]
        console.banner(f"SKIP {check.name}: {check.reason}; {gates}", skips[:20])
    elif check.skipped:
        skips = [f"{nodeid}: {why}" for nodeid, why in first.evidence.skipped]
        console.banner(f"SKIP in {check.name}: {check.skipped} of {check.tests} test(s); {gates}", skips[:20])


def _keep_shell(state: RunState) -> None:
    assert state.ctx is not None
    shell = start_shell(_stack(state), state.ctx, state.images["runner"].tag)
    state.console.step(f"kept: a shell in the runner: docker exec -it {shell.name} bash "
                       f"(then: /opt/venv/bin/python -m pytest nd -x); `bed down --run {state.config.run_id}` "
                       "removes it all")


def start_shell(stack: Stack, ctx: tiers.Context, image: str) -> Service:
    """An idle runner on the bed network, with the ND tier's environment, to exec into."""
    spec = tiers.container_spec(tiers.TIERS["nd"], ctx, stack.network)
    return stack.start("runner-shell", "runner", dataclasses.replace(spec, image=image, command=None))


def local_engine(environ: Mapping[str, str]) -> bool:
    """The engine is this machine's: what it publishes on 127.0.0.1 is this machine's loopback."""
    host = environ.get("DOCKER_HOST", "")
    return host in ("", "unix:///var/run/docker.sock", "unix:///run/docker.sock")


def _host_base(state: RunState, shim: Service | None) -> str:
    port = state.config.bases.host_port
    return state.config.bases.host(port) if port is not None and shim is not None else "(not published)"


def _service_timings(state: RunState) -> dict[str, float]:
    if state.services is None:
        return {}
    return {f"ready_{k}": round(s.ready_s, 2) for k, s in state.services.by_key().items()}


def _load_durations(config: Config) -> dict[str, float]:
    try:
        data = json.loads(config.durations_path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): float(v) for k, v in data.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def _save_durations(state: RunState) -> None:
    # Every shard of a split must partition with the same durations, so only unsharded runs
    # record them (a CI matrix caches the file from a full run).
    config = state.config
    if config.shard is not None:
        return
    durations = _load_durations(config)
    for outcome in state.outcomes.values():
        durations.update(outcome.first.evidence.durations)
    write_text(config.durations_path, json.dumps(dict(sorted(durations.items())), indent=1) + "\n",
               state.console.redact)


def _repro_record(state: RunState) -> dict[str, Any]:
    """What `bed repro` needs: the images, the router config, the selection, the allow-listed
    environment (no secret: names that look like credentials are left out) and the failures."""
    config, environ = state.config, state.environ
    env = {k: environ[k] for k in ENV_VARS if k in environ and not SECRET_NAME.search(k)
           and not k.startswith("GITHUB_") and k != "DOCKER_HOST"}
    failing = {name: [n for n in state.outcomes[c.tier].first.evidence.failed]
               for name, c in state.checks.items() if c.status in (Status.FAILED, Status.ERROR)}
    return {
        "command": f"bed repro {config.shown(config.report_path)}",
        "images": {n: {"tag": r.tag, "id": r.id} for n, r in state.images.items()},
        "router_yaml": state.router.text if state.router else "",
        "tiers": list(config.tiers),
        "shard": f"{config.shard[0]}/{config.shard[1]}" if config.shard else None,
        "shim_seed": SHIM_SEED,
        "suite": str(config.suite) if config.suite else None,
        "env": env,
        "failing": {k: v for k, v in failing.items() if v},
    }


def _agent_matrix(state: RunState) -> tuple[matrix.Cell, ...]:
    """The agents tier's cells, from its tests' own records, with the check's final word on each."""
    outcome = state.outcomes.get("agents")
    check = next((c for c in state.checks.values() if c.tier == "agents"), None)
    return matrix.cells(outcome.first.evidence.tests, check.outcomes if check else None) if outcome else ()


def _gateway(state: RunState) -> dict[str, Any]:
    proxy = state.images.get("litellm")
    gateway = proxy.gateway if proxy and proxy.gateway else state.config.gateway
    return {**gateway.to_dict(), "describe": gateway.describe()}


def _versions(state: RunState) -> dict[str, str]:
    gateway = _gateway(state)
    litellm = gateway["base"] or gateway["value"] if gateway["kind"] != "release" else gateway["value"]
    python = next((o.first.evidence.python for o in state.outcomes.values() if o.first.evidence.python), "unknown")
    engine = state.engine.info().version if state.engine else "?"
    agents = {"agents": state.config.agent_versions.spec} if "agents" in state.config.tiers else {}
    return {"bed": __version__, "litellm": litellm, "gateway": gateway["describe"], "docker_engine": engine,
            "runner_python": python, **agents}
