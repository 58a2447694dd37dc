"""What a tier's session is told: its pytest command, its environment, its files and its container.

Each tier runs as ``/opt/venv/bin/python -m pytest ... -p bed_records`` from the runner's venv
(never a bare ``pytest``); the variables and paths it shares with bed's plugin are named in
``bed.runner.bed_contract``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping, Sequence

from ..config import agent_routes
from ..config.settings import Config
from ..config.twins import TwinSmoke
from ..engine.protocol import ContainerSpec
from ..model.containers import VENV_PYTHON
from ..policy import budgets
from ..policy import release as release_policy
from ..runner import bed_contract as contract
from ..stack import warm
from ..stack.services import PROXY, RUNNER_CPU_SHARES
from .catalog import CENSUS, Tier, networked, served


@dataclasses.dataclass(frozen=True)
class Paths:
    """Where a session's files are: a fresh runner's /tmp/bed, or a folder of its own in a warm runner."""

    root: str
    project: str  # a project's own suite is copied here

    @property
    def records(self) -> str:
        return f"{self.root}/records.jsonl"

    @property
    def select(self) -> str:
        return f"{self.root}/select.json"

    @classmethod
    def warm(cls, token: str) -> Paths:
        return cls(f"{warm.RUNS}/{token}", f"{warm.RUNS}/{token}/project")


PYTEST = (VENV_PYTHON, "-m", "pytest")  # a fresh runner's command; a warm session gets what follows it
TIERS_DIR = contract.TIERS_DIR  # the runner image's working folder: bed's tiers
COLD = Paths(contract.OUT, contract.PROJECT)  # a fresh runner's (not /tmp: a test may empty it)


@dataclasses.dataclass(frozen=True)
class Context:
    """What every tier of one run shares."""

    config: Config
    master_key: str
    router_yaml: str
    environ: Mapping[str, str]
    cpus: int = 1
    durations: Mapping[str, float] = dataclasses.field(default_factory=dict)
    suite_files: tuple[tuple[str, bytes], ...] = ()  # a project's own suite, copied into the runner
    suite_target: str = "."  # the suite's folder inside the session's project folder (Paths.project)
    release: tuple[release_policy.Smoke, ...] = ()  # what the release tier calls
    twins: tuple[TwinSmoke, ...] = ()  # what the ND tier calls against the provider twins
    clock: Callable[[], float] = time.monotonic


def argv(tier: Tier, ctx: Context, paths: Paths = COLD) -> list[str]:
    config = ctx.config
    target = ctx.suite_target if config.suite is not None else tier.folder
    cmd = [*PYTEST, target, "-p", "bed_records", "-p", "no:cacheprovider", "-v", "-rfEs",
           "--tb=short", "--color=no"]
    if tier is CENSUS:
        cmd[cmd.index("-v")] = "--collect-only"
        cmd.append("-qq")
    if paths != COLD:  # a warm runner outlives the session: its temporary files stay in its own folder
        cmd.append(f"--basetemp={paths.root}/pytest")
    if not config.verbose:  # pytest's own summary still counts them ("3 passed, 12 warnings")
        cmd.append("--disable-warnings")
    workers, _ = budgets.workers(config.workers, ctx.cpus, live=tier.name == "release" and config.live_providers)
    if workers and workers > 1 and tier is not CENSUS:
        cmd += ["-n", str(workers)]
    if tier is CENSUS:  # the census collects the suite as it is: the user's narrowing is the tiers' business
        return cmd
    return cmd + list(config.pytest_args)  # `bed run -- ARGS`: last, so `--tb=long` beats bed's own


def env(tier: Tier, ctx: Context, *, selecting: bool = False, paths: Paths = COLD) -> dict[str, str]:
    """The session's environment: what every tier gets, then what its own kind of tier needs."""
    config = ctx.config
    out = {
        "PYTHONUNBUFFERED": "1",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        contract.TIER: tier.name,
        contract.GROUP: config.group,
        contract.RECORDS: paths.records,
        "MINI_AGENT_API_BASE": config.bases.network,
        "CODEX_AGENT_API_BASE": config.bases.network,
    }
    if config.suite is not None and tier is not CENSUS:
        out[contract.TIER_MARKER] = tier.name
    if selecting:
        out[contract.SELECT] = paths.select
    if served(tier, config):  # the proxy and the shim
        out |= {contract.PROXY_URL: PROXY.network_url(), "LITELLM_MASTER_KEY": ctx.master_key}
        if config.agent is not None:  # smokes that need the bed shim's faults or journal skip, saying so
            out[contract.AGENT_IMAGE] = config.agent.image
    extra = _BY_TIER.get(tier.name)
    return out | (extra(ctx, selecting) if extra is not None else {})


def _deterministic(ctx: Context, selecting: bool) -> dict[str, str]:
    # Change control checks the mapping this run uses; live groups are covered too.
    return {contract.ROUTER_YAML: ctx.router_yaml, contract.RELEASE_SMOKES: _smokes(ctx),
            contract.TWIN_SMOKES: _twins(ctx)}  # and their twin groups


def _agents(ctx: Context, selecting: bool) -> dict[str, str]:
    # Each agent, at each version, through every way LiteLLM serves its surface (read off the router config).
    config = ctx.config
    return {contract.AGENTS: config.agent_versions.spec, contract.AGENT_KINDS: ",".join(config.agent_turns),
            contract.AGENT_ROUTES: agent_routes.environment(ctx.router_yaml, config.group)}


def _nd(ctx: Context, selecting: bool) -> dict[str, str]:
    config = ctx.config
    out = {contract.TWIN_SMOKES: _twins(ctx)}
    if config.pytest_addopts:  # the old harness's shard selection (-k 'shard_b') lives here
        out["PYTEST_ADDOPTS"] = config.pytest_addopts
    if config.shard is not None and not selecting:  # explicit node ids are the selection
        out |= share(config.shard, ctx)
    return out


def _release(ctx: Context, selecting: bool) -> dict[str, str]:
    # No key ever reaches the runner: the smokes call through the proxy.
    return {"LIVE_PROVIDERS": "1" if ctx.config.live_providers else "0", contract.RELEASE_SMOKES: _smokes(ctx),
            contract.EXPECT: ",".join(ctx.config.expect)}


def _twins(ctx: Context) -> str:
    return json.dumps([smoke.to_dict() for smoke in ctx.twins])


def _smokes(ctx: Context) -> str:
    return json.dumps([smoke.to_dict() for smoke in ctx.release])


_BY_TIER: dict[str, Callable[[Context, bool], dict[str, str]]] = {
    "deterministic": _deterministic, "agents": _agents, "nd": _nd, "release": _release}


def share(part: tuple[int, int], ctx: Context) -> dict[str, str]:
    """bed's plugin keeps the I-th of N shares of the tests, balanced by the recorded durations."""
    return {contract.SHARD: f"{part[0]}/{part[1]}", contract.DURATIONS: json.dumps(dict(ctx.durations))}


def container_spec(tier: Tier, ctx: Context, network: str | None, select: Sequence[str] = (),
                   paths: Paths = COLD) -> ContainerSpec:
    config = ctx.config
    files: list[tuple[str, bytes]] = []
    if select:
        files.append((paths.select, json.dumps(list(select)).encode()))
    files += [(f"{paths.project}/{rel}", data) for rel, data in ctx.suite_files]
    return ContainerSpec(
        name="", image="", labels={}, env=env(tier, ctx, selecting=bool(select), paths=paths),
        command=tuple(argv(tier, ctx, paths)), network=network if networked(tier, config) else None,
        aliases=(f"runner-{tier.name}",), memory=budgets.runner_memory(tier.name, config.runner_memory),
        working_dir=paths.project if config.suite is not None else None, cpu_shares=RUNNER_CPU_SHARES,
        files=tuple(files))
