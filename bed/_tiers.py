"""The tiers: what each one runs in the runner, with which network, under which budget.

    deterministic -> check all_smokes_core   no network at all; any skip is a failure
    nd            -> check all_smokes_nd     runner -> proxy -> shim on the bed network
    release       -> check release_smokes    live providers; only with LIVE_PROVIDERS=1 (and
                                             then networked); otherwise it runs with no network
                                             and every smoke is a SKIP naming what is missing

Each tier runs as ``/opt/venv/bin/python -m pytest <folder>`` from the runner's venv (never a
bare ``pytest``), streams its output line by line, and leaves a JUnit XML behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import json
import re
import shlex
import tarfile
import threading
import time
from collections.abc import Mapping, Sequence

import docker.errors
import requests

from . import _junit, _wait
from ._config import Config
from ._console import Console
from ._results import Cause, CheckResult, Status
from ._services import PROXY
from ._stack import Service, Stack

VENV_PYTHON = "/opt/venv/bin/python"
JUNIT_IN_RUNNER = "/tmp/bed-junit.xml"  # noqa: S108 - inside the throwaway runner container
WATCH_POLL_S = 0.25
SUITE_IN_RUNNER = "/bed/suite"
# Forwarded to the release runner, and only when LIVE_PROVIDERS=1: a provider's key and base.
PROVIDER_VAR = re.compile(r"^[A-Z][A-Z0-9_]*_(API_KEY|API_BASE|BASE_URL)$")
LIVE_WORKERS = 2  # live smokes run in parallel; each waits on a remote API, not on CPU


@dataclasses.dataclass(frozen=True)
class Tier:
    name: str
    check: str
    folder: str
    networked: bool
    needs: tuple[str, ...]


TIERS = {
    "deterministic": Tier("deterministic", "all_smokes_core", "deterministic", networked=False, needs=()),
    "nd": Tier("nd", "all_smokes_nd", "nd", networked=True, needs=("shim", "proxy")),
    "release": Tier("release", "release_smokes", "release", networked=True, needs=()),
}


def required(tier: Tier, config: Config) -> bool:
    """STRICT, or READINESS_EXPECT names the tier or a service it needs: not running fails the gate."""
    return config.strict or tier.name in config.expect or any(s in config.expect for s in tier.needs)


def networked(tier: Tier, config: Config) -> bool:
    """Live smokes need the internet only when they are switched on; otherwise no network at all."""
    return tier.networked and (tier.name != "release" or config.live_providers)


@dataclasses.dataclass(frozen=True)
class TierRun:
    exit_code: int | None  # None: killed at the budget
    junit_xml: str | None
    duration_s: float
    log_tail: str
    dependency_down: Cause | None = None  # a service the tier needs died or froze mid-run
    runner_state: str = ""  # how the runner ended: "exited (code 137, OOM-killed)"

    @functools.cached_property
    def summary(self) -> _junit.JUnitSummary | None:
        """The JUnit report, parsed once for everything that reads it."""
        return _junit.parse(self.junit_xml) if self.junit_xml else None


class _Watch:
    """Watches a tier's dependencies while it runs; when one exits or freezes, the runner is
    stopped at once (its tests could only fail or hang) and the reason kept for the report."""

    def __init__(self, deps: Sequence[Service], runner: Service, console: Console, poll_s: float = WATCH_POLL_S):
        self.down: Cause | None = None
        self._deps, self._runner, self._console, self._poll_s = deps, runner, console, poll_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> _Watch:
        if self._deps:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _loop(self) -> None:
        while not self._done.wait(self._poll_s):
            for dep in self._deps:
                state = dep.state()
                if state.get("Status") == "running":
                    continue
                what = f"{dep.name} is {_wait.describe(state)}"
                self._console.step(f"DEPENDENCY DOWN during the tier: {what}; stopping the runner")
                self.down = Cause(dep.name, "", f"DEPENDENCY DOWN: {what}", dep.log_tail(_wait.LOG_TAIL_LINES))
                with contextlib.suppress(docker.errors.APIError, requests.RequestException):
                    self._runner.raw.kill()
                return


@dataclasses.dataclass(frozen=True)
class Context:
    """What every tier of one run shares."""

    config: Config
    master_key: str
    router_yaml: str
    environ: Mapping[str, str]
    workers: int | None = None
    durations: Mapping[str, float] = dataclasses.field(default_factory=dict)
    select: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)  # tier -> node ids only


def check_name(tier: Tier, config: Config) -> str:
    """The check's name in JUnit and the reports; ND shards keep the old harness's names."""
    if tier.name != "nd":
        return tier.check
    if config.shard is not None:
        return f"{tier.check}_shard_{config.shard[0]}of{config.shard[1]}"
    selection = _k_expression(config.pytest_addopts)
    if selection == "shard_b":
        return f"{tier.check}_shard_b"
    if selection == "not shard_b":
        return f"{tier.check}_shard_a"
    return tier.check


def _k_expression(addopts: str) -> str | None:
    try:
        words = shlex.split(addopts)
    except ValueError:
        return None
    for i, word in enumerate(words):
        if word == "-k" and i + 1 < len(words):
            return " ".join(words[i + 1].split())
        if word.startswith("-k") and len(word) > 2:
            return " ".join(word[2:].split())
    return None


def budget(tier: Tier, config: Config) -> float | None:
    if config.disable_timeout:
        return None
    return config.nd_budget_s if tier.name == "nd" else config.det_budget_s


def argv(tier: Tier, ctx: Context) -> list[str]:
    name = check_name(tier, ctx.config)
    if ctx.config.suite is not None:  # a project's own suite: its tests of this tier, by marker
        targets = list(ctx.select.get(tier.name) or [SUITE_IN_RUNNER, "-m", tier.name, "-p", "no:cacheprovider"])
    else:
        targets = list(ctx.select.get(tier.name) or [tier.folder])
    cmd = [VENV_PYTHON, "-m", "pytest", *targets, "-v", "-rfEs", "--tb=short", "--color=no",
           f"--junitxml={JUNIT_IN_RUNNER}", "-o", f"junit_suite_name={name}", "-o", "junit_family=xunit1"]
    workers = ctx.workers
    if tier.name == "release" and ctx.config.live_providers:
        workers = max(workers or 0, LIVE_WORKERS)
    if workers and workers > 1:
        cmd += ["-n", str(workers)]
    return cmd


def env(tier: Tier, ctx: Context) -> dict[str, str]:
    config = ctx.config
    out = {
        "PYTHONUNBUFFERED": "1",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "BED_TIER": tier.name,
        "BED_GROUP": config.group,
        "MINI_AGENT_API_BASE": config.bases.network,
        "CODEX_AGENT_API_BASE": config.bases.network,
    }
    if tier.name == "deterministic":
        out["BED_ROUTER_YAML"] = ctx.router_yaml  # change control checks the mapping this run uses
    if tier.name == "nd":
        out["BED_PROXY_URL"] = PROXY.network_url()
        out["LITELLM_MASTER_KEY"] = ctx.master_key
        must = [s for s in tier.needs if config.strict or tier.name in config.expect or s in config.expect]
        out["BED_REQUIRED"] = ",".join(must)
        if config.pytest_addopts:  # the old harness's shard selection (-k 'shard_b') lives here
            out["PYTEST_ADDOPTS"] = config.pytest_addopts
        if config.shard is not None and not ctx.select.get(tier.name):  # explicit node ids are the selection
            out["BED_SHARD"] = f"{config.shard[0]}/{config.shard[1]}"
            out["BED_DURATIONS"] = json.dumps(dict(ctx.durations))
    if tier.name == "release":
        out["LIVE_PROVIDERS"] = "1" if config.live_providers else "0"
        if config.live_providers:  # keys reach the runner only when live calls are switched on
            out.update({k: v for k, v in ctx.environ.items() if PROVIDER_VAR.match(k) and v})
    return out


@dataclasses.dataclass(frozen=True)
class Started:
    """A tier whose runner is up (its output followed) and not yet waited for."""

    tier: Tier
    ctx: Context
    service: Service
    follower: threading.Thread
    at: float

    @property
    def label(self) -> str:
        return check_name(self.tier, self.ctx.config)


def start(stack: Stack, tier: Tier, ctx: Context, console: Console, wait_for: Sequence[str] = ()) -> Started:
    """Start a tier's runner. ``wait_for``: URLs its tests wait for (bounded) after collection,
    so the runner's start-up and imports overlap the services' boot."""
    at = time.monotonic()
    variables = env(tier, ctx)
    if wait_for:
        variables["BED_WAIT_FOR"] = ",".join(wait_for)
        variables["BED_WAIT_BUDGET"] = str(ctx.config.wait_budget_s)
    service = stack.start_runner(tier.name, argv(tier, ctx), variables, networked=networked(tier, ctx.config),
                                 suite=ctx.config.suite)
    follower = threading.Thread(target=_follow, args=(service, check_name(tier, ctx.config), console), daemon=True)
    follower.start()
    return Started(tier, ctx, service, follower, at)


def finish(started: Started, console: Console, watch: Sequence[Service] = ()) -> TierRun:
    """Wait for a started tier within its budget and collect its JUnit XML.

    ``watch``: the services the tier needs; if one stops or freezes, the tier ends at once.
    """
    service, limit = started.service, budget(started.tier, started.ctx.config)
    exit_code: int | None
    with _Watch(watch, service, console) as watcher:
        try:
            exit_code = int(service.raw.wait(timeout=limit)["StatusCode"])
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            console.step(f"{started.label} ran out of its {limit:.0f} s budget; stopping it")
            service.raw.kill()
            exit_code = None
    started.follower.join(timeout=5)
    return TierRun(exit_code, _junit_xml(service), time.monotonic() - started.at, service.log_tail(20),
                   watcher.down, _wait.describe(service.state()))


def run(stack: Stack, tier: Tier, ctx: Context, console: Console, watch: Sequence[Service] = ()) -> TierRun:
    """Run one tier in a fresh runner container and collect its JUnit XML."""
    return finish(start(stack, tier, ctx, console), console, watch)


def result(tier: Tier, run: TierRun, config: Config) -> CheckResult:
    """Turn a finished tier into a CheckResult, applying the tier's own rules."""
    name = check_name(tier, config)
    check = CheckResult(name=name, tier=tier.name, status=Status.PASSED, duration_s=round(run.duration_s, 2),
                        junit=config.shown(config.junit_path(name)), required=required(tier, config))
    if run.dependency_down is not None:
        cause = run.dependency_down
        status = Status.FAILED if check.required else Status.SKIPPED
        return dataclasses.replace(check, status=status, reason=cause.message, cause=cause)
    if run.exit_code is None:
        limit = budget(tier, config) or 0
        return dataclasses.replace(check, status=Status.ERROR, reason=f"over its {limit:.0f} s budget",
                                   cause=Cause(f"{name} (budget)", "", f"stopped after {limit:.0f} s",
                                               run.log_tail))
    summary = run.summary
    if summary is None:
        oom = "OOM-killed" in run.runner_state
        why = (f"the runner was OOM-killed (BED_RUNNER_MEMORY={config.runner_memory}; raise it)" if oom
               else f"the runner ended {run.runner_state or f'with exit code {run.exit_code}'} without a JUnit report")
        return dataclasses.replace(check, status=Status.ERROR, reason=why, cause=Cause(name, "", why, run.log_tail))
    check = dataclasses.replace(check, tests=summary.tests, failures=summary.failures, skipped=summary.skipped)
    if summary.first_failure is not None or run.exit_code not in (0, 5):
        cause = summary.first_failure or Cause(name, "", f"pytest exit code {run.exit_code}", run.log_tail)
        return dataclasses.replace(check, status=Status.FAILED, cause=cause)
    if summary.skipped and tier.name == "deterministic":
        nodeid, why = summary.skips[0]
        return dataclasses.replace(check, status=Status.FAILED, reason="the deterministic tier may not skip",
                                   cause=Cause(nodeid, "", f"skipped in a hermetic tier: {why}"))
    if summary.tests == 0:
        return _not_run(check, name, "no test was selected")
    if summary.skipped == summary.tests:
        reasons = sorted({why for _, why in summary.skips})
        return _not_run(check, summary.skips[0][0], "; ".join(reasons)[:500])
    return check


def _not_run(check: CheckResult, nodeid: str, reason: str) -> CheckResult:
    """Nothing ran: a SKIP, or a failure with its cause when STRICT or READINESS_EXPECT requires it."""
    if not check.required:
        return dataclasses.replace(check, status=Status.SKIPPED, reason=reason)
    return dataclasses.replace(check, status=Status.FAILED, reason=reason,
                               cause=Cause(nodeid, "", f"required (STRICT / READINESS_EXPECT) but skipped: {reason}"))


def _follow(service: Service, label: str, console: Console) -> None:
    """Print the container's output as it comes, line by line."""
    pending = b""
    try:
        for chunk in service.raw.logs(stream=True, follow=True):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                console.stream(label, line.decode("utf-8", "replace").rstrip())
    except (docker.errors.APIError, requests.RequestException):
        return
    if pending.strip():
        console.stream(label, pending.decode("utf-8", "replace").rstrip())


def _junit_xml(service: Service) -> str | None:
    try:
        stream, _ = service.raw.get_archive(JUNIT_IN_RUNNER)
    except (docker.errors.NotFound, docker.errors.APIError):
        return None
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.next()
        extracted = tar.extractfile(member) if member else None
        return extracted.read().decode("utf-8", "replace") if extracted else None
