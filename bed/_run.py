"""One readiness run, as a short pipeline: config -> images -> stack -> tiers -> results -> reports.

Everything the run starts belongs to one Stack, which removes it on every way out: success,
failure, an exception, SIGINT or SIGTERM. How the tiers overlap: see ``_execute``.
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
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests

from . import __version__, _junit, _router, _tiers
from ._config import ENV_VARS, Config
from ._console import Console
from ._engine import connect
from ._errors import ArtifactError, StackError
from ._flakes import FlakeStore, as_report, issue_text
from ._images import ImageRef, ensure_images
from ._redact import SECRET_NAME
from ._reports import cause_lines, synthetic_junit, write_all, write_text
from ._results import Cause, CheckResult, RunResult, Status
from ._services import PROXY, SHIM, SHIM_SEED
from ._stack import Service, Stack


def new_master_key() -> str:
    return "sk-bed-" + secrets.token_urlsafe(24)


def announce(config: Config, console: Console) -> None:
    """Print the one base (both variables) and every forced value, before anything starts."""
    b = config.bases
    console.step(f"MINI_AGENT_API_BASE={b.network}  (source: {b.source}{', given ' + b.given if b.given else ''})")
    console.step(f"CODEX_AGENT_API_BASE={b.network}  (forced to match)")
    if b.warnings:
        console.banner("BASE ADJUSTED", list(b.warnings))


def prepare_router(config: Config, console: Console) -> _router.RouterPlan:
    plan = _router.plan(config.router_config, config.group, config.bases.network, strict=config.strict)
    _check_writable(config)  # after validation: a CONFIG_ERROR leaves nothing behind
    write_text(config.stub_path, plan.text, console.redact)
    console.step(f"router config: {config.shown(config.stub_path)} ({plan.source})")
    if plan.notes:
        console.banner("ROUTER CONFIG CHANGED BY BED", list(plan.notes))
    return plan


def run(config: Config, environ: Mapping[str, str], console: Console, *, gate: str,
        select: Mapping[str, tuple[str, ...]] | None = None, images: dict[str, ImageRef] | None = None) -> RunResult:
    """One readiness run. ``select``: only these node ids per tier (repro); ``images``: use these
    exact images instead of building from the source (repro of an older report)."""
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    t0 = time.monotonic()
    timings: dict[str, float] = {}
    master_key = new_master_key()
    console.redact.add(master_key)
    announce(config, console)
    router = prepare_router(config, console)
    notes = [*config.bases.warnings, *router.notes]
    client = connect(environ)
    mark = time.monotonic()
    images = images or ensure_images(client, config, console)
    timings["images"] = time.monotonic() - mark
    ctx = _tiers.Context(config=config, master_key=master_key, router_yaml=router.text, environ=environ,
                         workers=_workers(config, client, console), durations=_load_durations(config),
                         select=select or {})
    flakes = FlakeStore.load(config.flake_store)
    with Stack(client, config, images, console, master_key) as stack:
        try:
            checks, runs, host_base = _execute(stack, ctx, router.text, flakes, console, timings)
        finally:
            if not config.keep:
                mark = time.monotonic()
                stack.close()
                timings["teardown"] = time.monotonic() - mark
    mark = time.monotonic()
    for check_name, check in checks.items():
        tier_run = runs.get(check_name)
        xml = (tier_run.junit_xml if tier_run else None) or synthetic_junit(check)
        write_text(config.junit_path(check_name), xml, console.redact)
    summaries = {name: r.summary for name, r in runs.items() if r.summary is not None}
    _save_durations(config, summaries.values(), console)
    flakes.save()
    timings["reports"] = time.monotonic() - mark
    timings["total"] = time.monotonic() - t0
    result = RunResult(
        run_id=config.run_id, gate=gate, ready=_ready(tuple(checks.values())), strict=config.strict,
        checks=_in_tier_order(checks),
        bases={"MINI_AGENT_API_BASE": config.bases.network, "CODEX_AGENT_API_BASE": config.bases.network,
               "host": host_base, "source": config.bases.source},
        images={n: _image_dict(r) for n, r in images.items()},
        timings={k: round(v, 2) for k, v in timings.items()},
        versions=_versions(client, config.source), expect=config.expect, notes=tuple(notes),
        started_at=started_at, repro=_repro_record(config, environ, router.text, images, summaries),
        quarantine=tuple(as_report(flakes, config.repromote_after)),
    )
    write_all(result, report=config.report_path, ready_md=config.ready_md_path, redact=console.redact)
    return result


def _repro_record(config: Config, environ: Mapping[str, str], router_yaml: str, images: dict[str, ImageRef],
                  summaries: Mapping[str, _junit.JUnitSummary]) -> dict[str, Any]:
    """What `bed repro` needs: the images, the router config, the selection, the allow-listed
    environment (no secret: names that look like credentials are left out) and the failures."""
    env = {k: environ[k] for k in ENV_VARS if k in environ and not SECRET_NAME.search(k)
           and not k.startswith("GITHUB_")}
    return {
        "command": f"bed repro {config.shown(config.report_path)}",
        "images": {n: {"tag": r.tag, "id": r.id} for n, r in images.items()},
        "router_yaml": router_yaml,
        "tiers": list(config.tiers),
        "shard": f"{config.shard[0]}/{config.shard[1]}" if config.shard else None,
        "shim_seed": SHIM_SEED,
        "suite": str(config.suite) if config.suite else None,
        "env": env,
        "failing": {name: list(s.failed) for name, s in summaries.items() if s.failed},
    }


def _execute(stack: Stack, ctx: _tiers.Context, router_yaml: str, flakes: FlakeStore, console: Console,
             timings: dict[str, float]) -> tuple[dict[str, CheckResult], dict[str, _tiers.TierRun], str]:
    """The tiers on the stack: the check results, their runs, and the shim's host base.

    The deterministic tier (and the release tier when live calls are off) need neither the
    shim nor the proxy, so they run while those boot; the ND runner starts with them, and its
    tests wait for them after collection. Live release smokes run once the services are up:
    a "provider" may point at the shim (that is how the live path is tested).
    """
    config = ctx.config
    checks: dict[str, CheckResult] = {}
    runs: dict[str, _tiers.TierRun] = {}  # check name -> its (first) run
    host_base = ""
    mark = time.monotonic()
    stack.create_network()
    timings["network"] = time.monotonic() - mark
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
    try:
        hermetic = ["deterministic"] + ([] if config.live_providers else ["release"])
        early = {name: pool.submit(_run_tier, stack, _tiers.TIERS[name], ctx, console)
                 for name in hermetic if name in config.tiers}
        late = [n for n in ("nd", "release") if n in config.tiers and n not in early]
        down: StackError | None = None
        nd_early = None
        if "nd" in late and config.suite is None:  # a project's own suite cannot wait for the services
            nd_early = _tiers.start(stack, _tiers.TIERS["nd"], ctx, console,
                                    wait_for=[SHIM.network_url(SHIM.health), PROXY.network_url(PROXY.health)])
        if late:
            mark = time.monotonic()
            try:
                stack.start_services(router_yaml)
                host_base = config.bases.host(stack.services["shim"].host_port(SHIM.port))
                console.step(f"shim from the host: {host_base}")
            except StackError as exc:
                down = exc
                if nd_early is not None:
                    with contextlib.suppress(docker.errors.APIError, requests.RequestException):
                        nd_early.service.raw.kill()
            timings["services"] = time.monotonic() - mark
            timings.update({f"ready_{s.role}": s.ready_s for s in stack.services.values()})
        for name, future in early.items():
            _collect(_tiers.TIERS[name], *future.result(), flakes, config, checks, runs, console)
        for name in late:
            tier = _tiers.TIERS[name]
            if down is not None and name == "nd":  # live release smokes do not need our services
                check = _dependency_down(tier, config, down, console)
                checks[check.name] = check
                continue
            deps = [stack.services["shim"], stack.services["proxy"]] if name == "nd" else []
            first = _tiers.finish(nd_early, console, deps) if name == "nd" and nd_early else None
            _collect(tier, *_run_tier(stack, tier, ctx, console, deps, first), flakes, config, checks, runs,
                     console)
        if config.keep:
            _keep_shell(stack, ctx, console)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return checks, runs, host_base


def start_shell(stack: Stack, ctx: _tiers.Context) -> Service:
    """An idle runner on the bed network, with the ND tier's environment, to exec into."""
    return stack.start_runner("shell", [], _tiers.env(_tiers.TIERS["nd"], ctx), networked=True)


def _keep_shell(stack: Stack, ctx: _tiers.Context, console: Console) -> None:
    shell = start_shell(stack, ctx)
    console.step(f"kept: a shell in the runner: docker exec -it {shell.name} bash "
                 f"(then: /opt/venv/bin/python -m pytest nd -x); `bed down --run {ctx.config.run_id}` removes it all")


def _in_tier_order(checks: dict[str, CheckResult]) -> tuple[CheckResult, ...]:
    order = list(_tiers.TIERS)
    return tuple(sorted(checks.values(), key=lambda c: order.index(c.tier)))


def _check_writable(config: Config) -> None:
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


def _load_durations(config: Config) -> dict[str, float]:
    try:
        data = json.loads(config.durations_path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _save_durations(config: Config, summaries: Iterable[_junit.JUnitSummary], console: Console) -> None:
    # Every shard of a split must partition with the same durations, so only unsharded runs
    # record them (a CI matrix caches the file from a full run).
    if config.shard is not None:
        return
    durations = _load_durations(config)
    for summary in summaries:
        durations.update(summary.times)
    write_text(config.durations_path, json.dumps(dict(sorted(durations.items())), indent=1) + "\n", console.redact)


def summarise(result: RunResult, config: Config, console: Console) -> None:
    for check in result.checks:
        extra = f" - {check.reason}" if check.reason else ""
        console.plain(f"  {check.status.value.upper():8} {check.name} ({check.tests} tests, "
                      f"{check.failures} failed, {check.skipped} skipped, {check.duration_s:.1f} s){extra}")
    for line in cause_lines(result):
        console.plain(line)
    for check in result.checks:
        if check.cause and check.cause.log_tail and check.status in (Status.FAILED, Status.ERROR):
            console.plain(f"--- last lines behind {check.name} ---")
            console.plain(check.cause.log_tail)
    console.plain(f"reports: {config.shown(config.ready_md_path)}, {config.shown(config.report_path)}, "
                  f"{config.shown(config.junit_dir)}/")
    console.plain(f"VERDICT: {result.verdict} (gate {result.gate}, {result.timings.get('total', 0):.1f} s)")


def _run_tier(stack: Stack, tier: _tiers.Tier, ctx: _tiers.Context, console: Console,
              watch: list[Service] | None = None,
              first: _tiers.TierRun | None = None) -> tuple[_tiers.TierRun, _tiers.TierRun | None]:
    """Run a tier (unless ``first`` is its finished run); when tests failed, run just those
    once more at once, to tell flakes apart."""
    first = first or _tiers.run(stack, tier, ctx, console, watch or [])
    if first.dependency_down or first.exit_code is None or first.summary is None:
        return first, None
    failed = first.summary.failed
    if not failed:
        return first, None
    name = _tiers.check_name(tier, ctx.config)
    console.step(f"{name}: re-running {len(failed)} failed test(s) once, to tell flakes from failures")
    again = dataclasses.replace(ctx, select={**ctx.select, tier.name: failed})
    return first, _tiers.run(stack, tier, again, console, watch or [])


def _apply_flakes(check: CheckResult, first: _tiers.TierRun, rerun: _tiers.TierRun | None, store: FlakeStore,
                  config: Config, console: Console) -> CheckResult:
    """Flakes pass the check; quarantined failures are reported but do not gate."""
    summary = first.summary
    if summary is None or first.dependency_down:
        return check
    skipped = {n for n, _ in summary.skips}
    retried = rerun.summary if rerun and not rerun.dependency_down else None
    still = set(retried.failed) if retried else set(summary.failed)
    flaky = tuple(n for n in summary.failed if retried and n not in still and n in retried.times)
    passed = [n for n in summary.times if n not in summary.failed and n not in skipped]
    changes = store.record(check.name, flaky=flaky, failed=sorted(still), passed=passed, now=_now(),
                           repromote_after=config.repromote_after)
    for nodeid in changes.quarantined:
        path = config.artifacts_dir / "quarantine" / (re.sub(r"[^\w.-]+", "_", nodeid) + ".md")
        write_text(path, issue_text(nodeid, store.entries[nodeid], config.repromote_after), console.redact)
        console.banner(f"QUARANTINED: {nodeid}", ["two flakes within 7 days: it still runs but no longer gates",
                                                  f"issue text ready to file: {config.shown(path)}"])
    for nodeid in changes.repromoted:
        console.step(f"re-promoted out of quarantine after {config.repromote_after} clean runs: {nodeid}")
    quarantined = tuple(n for n in summary.failed if n in still and store.is_quarantined(n))
    gating = [n for n in summary.failed if n in still and not store.is_quarantined(n)]
    check = dataclasses.replace(check, flaky=flaky, quarantined=quarantined)
    if check.status is Status.FAILED and check.failures and not gating and first.exit_code in (0, 1):
        note = f"{len(flaky)} flaky test(s) passed on re-run; {len(quarantined)} quarantined failure(s) do not gate"
        return dataclasses.replace(check, status=Status.PASSED, cause=None, reason=note)
    if check.status is Status.FAILED and check.cause and check.cause.nodeid not in gating and gating:
        cause = retried.first_failure if retried and retried.first_failure else None
        return dataclasses.replace(check, cause=cause or Cause(gating[0], "", "failed again on the re-run"))
    return check


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _collect(tier: _tiers.Tier, run: _tiers.TierRun, rerun: _tiers.TierRun | None, flakes: FlakeStore,
             config: Config, checks: dict[str, CheckResult], runs: dict[str, _tiers.TierRun],
             console: Console) -> None:
    check = _apply_flakes(_tiers.result(tier, run, config), run, rerun, flakes, config, console)
    checks[check.name] = check
    runs[check.name] = run
    verdict = "FAILS the gate (required)" if check.status is Status.FAILED else "does not gate"
    if run.dependency_down is not None:
        down = run.dependency_down
        console.banner(f"SKIP {check.name}: a dependency went down mid-run; {verdict}",
                       [down.message, *down.log_tail.splitlines()[-10:]])
    elif check.skipped:
        skips = [f"{nodeid}: {why}" for nodeid, why in (run.summary.skips if run.summary else ())]
        verdict = "FAILS the gate (required)" if check.required else "does not gate"
        console.banner(f"SKIP in {check.name}: {check.skipped} of {check.tests} test(s); {verdict}", skips[:20])


def _dependency_down(tier: _tiers.Tier, config: Config, error: StackError, console: Console) -> CheckResult:
    required = _tiers.required(tier, config)
    status = Status.FAILED if required else Status.SKIPPED
    name = _tiers.check_name(tier, config)
    why = "required by STRICT/READINESS_EXPECT, so this FAILS the gate" if required else "skipped"
    console.banner(f"DEPENDENCY DOWN: {name} {why}", [error.line(), *error.details.splitlines()[-10:]])
    rel = config.shown(config.junit_path(name))
    return CheckResult(name=name, tier=tier.name, status=status, duration_s=0.0, reason=error.what,
                       cause=Cause(name, "", error.line(), error.details), junit=rel, required=required)


def _ready(checks: tuple[CheckResult, ...]) -> bool:
    return all(c.status is Status.PASSED or (c.status is Status.SKIPPED and not c.required) for c in checks)


def _workers(config: Config, client: docker.DockerClient, console: Console) -> int | None:
    if config.workers is None:
        return None
    cpus = int(client.info().get("NCPU", 1))
    if config.workers > cpus:
        console.step(f"PYTEST_XDIST_AUTO_NUM_WORKERS={config.workers} capped to {cpus}: the engine has {cpus} cores")
        return cpus
    return config.workers


def _image_dict(ref: ImageRef) -> dict[str, object]:
    return {"tag": ref.tag, "id": ref.id, "size_mb": ref.size_mb, "built": ref.built}


def _versions(client: docker.DockerClient, root: Path) -> dict[str, str]:
    lock = (root / "images/litellm/requirements.lock").read_text().splitlines()
    litellm = next((ln.split("==")[1] for ln in lock if ln.startswith("litellm==")), "unknown")
    return {"bed": __version__, "litellm": litellm, "docker_engine": str(client.version().get("Version", "?")),
            "runner_python": "Debian bookworm python3 (3.11)"}
