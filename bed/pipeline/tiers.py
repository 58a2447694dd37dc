"""The tiers: what each one runs in its runner, on which network, and what it leaves behind.

    deterministic -> check all_smokes_core   no network at all; any skip is a failure
    nd            -> check all_smokes_nd     runner -> proxy -> shim on the bed network
    agents        -> check agent_clients     the real agent clients (Codex CLI, Claude Code, Gemini CLI,
                                             OpenCode, Qwen Code) -> proxy -> shim
    release       -> check release_smokes    live providers; only with LIVE_PROVIDERS=1 (and
                                             then networked); otherwise it runs with no network
                                             and every smoke is a SKIP naming what is missing

Each tier runs as ``/opt/venv/bin/python -m pytest ... -p bed_records`` from the runner's venv
(never a bare ``pytest``), streams its output line by line, and leaves its records (what ran
and how it ended, from bed's pytest plugin) and a JUnit XML for CI tools behind.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import shlex
import threading
import time
from collections.abc import Callable, Mapping, Sequence

from ..config import agent_routes
from ..config.settings import Config
from ..console import Console
from ..engine.protocol import ContainerSpec, State
from ..policy import budgets, verdict
from ..policy import release as release_policy
from ..report.results import Cause
from ..stack import warm
from ..stack.owner import Service, Stack
from ..stack.services import PROXY, RUNNER_CPU_SHARES, VENV_PYTHON
from ..stack.watch import Watch
from . import evidence, parts, sessions

LOG_TAIL = 20


@dataclasses.dataclass(frozen=True)
class Paths:
    """Where a session's files are: a fresh runner's /tmp/bed, or a folder of its own in a warm runner."""

    root: str
    project: str  # a project's own suite is copied here

    @property
    def records(self) -> str:
        return f"{self.root}/records.jsonl"

    @property
    def junit(self) -> str:
        return f"{self.root}/junit.xml"

    @property
    def select(self) -> str:
        return f"{self.root}/select.json"

    @classmethod
    def warm(cls, token: str) -> Paths:
        return cls(f"{warm.RUNS}/{token}", f"{warm.RUNS}/{token}/project")


PYTEST = (VENV_PYTHON, "-m", "pytest")  # a fresh runner's command; a warm session gets what follows it
TIERS_DIR = "/bed/tiers"  # the runner image's working folder: bed's tiers
COLD = Paths("/tmp/bed", "/bed/project")  # noqa: S108 - inside the throwaway runner container


@dataclasses.dataclass(frozen=True)
class Tier:
    name: str
    check: str
    folder: str
    networked: bool
    needs: tuple[str, ...]
    hermetic: bool = False  # any skip fails it
    image: str = "runner"  # the image its runner is made from


TIERS = {
    "deterministic": Tier("deterministic", "all_smokes_core", "deterministic", networked=False, needs=(),
                          hermetic=True),
    "nd": Tier("nd", "all_smokes_nd", "nd", networked=True, needs=("shim", "proxy")),
    "agents": Tier("agents", "agent_clients", "agents", networked=True, needs=("shim", "proxy"), image="agents"),
    "release": Tier("release", "release_smokes", "release", networked=True, needs=()),
}


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
    clock: Callable[[], float] = time.monotonic


def required(tier: Tier, config: Config) -> bool:
    return verdict.required(tier.name, tier.needs, strict=config.strict, expect=config.expect)


def rules(tier: Tier, config: Config) -> verdict.Rules:
    return verdict.Rules(
        check=check_name(tier, config), tier=tier.name, required=required(tier, config), hermetic=tier.hermetic,
        shard=tier.name == "nd" and config.shard is not None, suite=config.suite is not None,
        budget_s=budget(tier, config), memory=budgets.runner_memory(tier.name, config.runner_memory))


def served(tier: Tier, config: Config) -> bool:
    """Does it go through the proxy? The ND and agent tiers always; the release tier when live."""
    return bool(tier.needs) or (tier.name == "release" and config.live_providers)


def networked(tier: Tier, config: Config) -> bool:
    """Live smokes need the internet only when they are switched on; otherwise no network at all."""
    return tier.networked and (tier.name != "release" or config.live_providers)


def budget(tier: Tier, config: Config) -> float | None:
    return budgets.tier_budget(tier.name, disabled=config.disable_timeout, nd_budget_s=config.nd_budget_s)


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


def argv(tier: Tier, ctx: Context, paths: Paths = COLD) -> list[str]:
    config = ctx.config
    target = ctx.suite_target if config.suite is not None else tier.folder
    cmd = [*PYTEST, target, "-p", "bed_records", "-p", "no:cacheprovider", "-v", "-rfEs",
           "--tb=short", "--color=no", f"--junitxml={paths.junit}",
           "-o", f"junit_suite_name={check_name(tier, config)}"]
    if paths != COLD:  # a warm runner outlives the session: its temporary files stay in its own folder
        cmd.append(f"--basetemp={paths.root}/pytest")
    if not config.verbose:  # pytest's own summary still counts them ("3 passed, 12 warnings")
        cmd.append("--disable-warnings")
    workers, _ = budgets.workers(config.workers, ctx.cpus, live=tier.name == "release" and config.live_providers)
    if workers and workers > 1:
        cmd += ["-n", str(workers)]
    return cmd


def env(tier: Tier, ctx: Context, *, selecting: bool = False, paths: Paths = COLD) -> dict[str, str]:
    config = ctx.config
    out = {
        "PYTHONUNBUFFERED": "1",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "BED_TIER": tier.name,
        "BED_GROUP": config.group,
        "BED_RECORDS": paths.records,
        "MINI_AGENT_API_BASE": config.bases.network,
        "CODEX_AGENT_API_BASE": config.bases.network,
    }
    if config.suite is not None:
        out["BED_TIER_MARKER"] = tier.name
    if selecting:
        out["BED_SELECT"] = paths.select
    if tier.name == "deterministic":
        out["BED_ROUTER_YAML"] = ctx.router_yaml  # change control checks the mapping this run uses
        out["BED_RELEASE_SMOKES"] = json.dumps([smoke.to_dict() for smoke in ctx.release])  # live groups are covered
    if served(tier, config):  # the proxy and the shim
        out["BED_PROXY_URL"] = PROXY.network_url()
        out["LITELLM_MASTER_KEY"] = ctx.master_key
        if config.agent is not None:  # smokes that need the bed shim's faults or journal skip, saying so
            out["BED_AGENT_IMAGE"] = config.agent.image
    if tier.name == "agents":  # each agent, at each version, through every way LiteLLM serves its surface
        out["BED_AGENTS"] = config.agent_versions.spec
        out["BED_AGENT_KINDS"] = ",".join(config.agent_turns)
        out["BED_AGENT_ROUTES"] = agent_routes.environment(ctx.router_yaml, config.group)
    if tier.name == "nd":
        if config.pytest_addopts:  # the old harness's shard selection (-k 'shard_b') lives here
            out["PYTEST_ADDOPTS"] = config.pytest_addopts
        if config.shard is not None and not selecting:  # explicit node ids are the selection
            out |= _share(config.shard, ctx)
    if tier.name == "release":  # no key ever reaches the runner: the smokes call through the proxy
        out["LIVE_PROVIDERS"] = "1" if config.live_providers else "0"
        out["BED_RELEASE_SMOKES"] = json.dumps([smoke.to_dict() for smoke in ctx.release])
        out["BED_EXPECT"] = ",".join(config.expect)
    return out


def _share(part: tuple[int, int], ctx: Context) -> dict[str, str]:
    """bed's plugin keeps the I-th of N shares of the tests, balanced by the recorded durations."""
    return {"BED_SHARD": f"{part[0]}/{part[1]}", "BED_DURATIONS": json.dumps(dict(ctx.durations))}


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


@dataclasses.dataclass(frozen=True)
class TierRun:
    """What a tier's runner left behind: how it ended, its records and JUnit, its log tail."""

    tier: str
    check: str
    exit_code: int | None  # None: stopped at its budget
    state: State
    duration_s: float
    log_tail: str
    records: bytes | None
    junit: str | None
    down: Cause | None = None  # a dependency the watch saw go down
    asked: tuple[str, ...] = ()  # the node ids it was asked to run (a re-run)

    @functools.cached_property
    def evidence(self) -> evidence.Evidence:
        return evidence.parse(self.records)

    def ending(self) -> verdict.Ending:
        return verdict.Ending(exit_code=self.exit_code, duration_s=self.duration_s, oom_killed=self.state.oom_killed,
                              state=self.state.describe(), log_tail=self.log_tail, down=self.down)


@dataclasses.dataclass(frozen=True)
class Started:
    """A tier whose session is under way (its output followed) and not yet waited for."""

    tier: Tier
    ctx: Context
    session: sessions.Session
    paths: Paths
    follower: threading.Thread
    at: float
    asked: tuple[str, ...]

    @property
    def label(self) -> str:
        return check_name(self.tier, self.ctx.config)


def start(stack: Stack, tier: Tier, ctx: Context, console: Console, image: str, *, select: Sequence[str] = (),
          wait_for: Sequence[str] = (), warm_runner: Service | None = None,
          part: tuple[int, int] | None = None) -> Started:
    """Start a tier's session: in a fresh runner, or forked in ``warm_runner`` (a kept stack's).
    ``wait_for``: URLs its tests wait for (bounded) after collection, so the runner's start-up and
    imports overlap the services' boot. ``part``: (I, N), this session runs the tier's I-th share."""
    at = ctx.clock()
    token = f"{ctx.config.run_id}-{tier.name}" + ("-rerun" if select else "") + (f"-p{part[0]}" if part else "")
    paths = Paths.warm(token) if warm_runner is not None else COLD
    spec = dataclasses.replace(container_spec(tier, ctx, stack.network, select, paths), image=image)
    extra = {"BED_WAIT_FOR": ",".join(wait_for), "BED_WAIT_BUDGET": str(ctx.config.wait_budget_s)} if wait_for else {}
    if part is not None:
        extra |= _share(part, ctx)
    spec = dataclasses.replace(spec, env={**spec.env, **extra})
    session: sessions.Session
    if warm_runner is None:
        session = sessions.Fresh(stack.start(f"runner-{tier.name}", "runner", spec))
    else:
        if spec.files:
            warm_runner.engine.put_files(warm_runner.id, spec.files)
        assert spec.command is not None
        session = sessions.Warm.start(warm_runner, token, list(spec.command[len(PYTEST):]), dict(spec.env),
                                      spec.working_dir or TIERS_DIR)
    label = check_name(tier, ctx.config) + (f" {part[0]}/{part[1]}" if part else "")
    follower = threading.Thread(target=_follow, args=(session, label, console, ctx.config.verbose), daemon=True)
    follower.start()
    return Started(tier, ctx, session, paths, follower, at, tuple(select))


def finish(started: Started, console: Console, watch: Sequence[Service] = ()) -> TierRun:
    """Wait for a started tier within its budget and collect what it left behind.

    ``watch``: the services the tier needs; if one stops or freezes, the tier ends at once.
    """
    session, limit, paths = started.session, budget(started.tier, started.ctx.config), started.paths
    with Watch(watch, session.stop, console) as watcher:
        exit_code = session.wait(limit)
        if exit_code is None:
            console.step(f"{started.label} ran out of its {limit:.0f} s budget; stopping it")
            session.stop()
    started.follower.join(timeout=5)
    junit = session.read(paths.junit)
    return TierRun(started.tier.name, started.label, exit_code, session.state(),
                   started.ctx.clock() - started.at, session.tail(LOG_TAIL),
                   session.read(paths.records), junit.decode("utf-8", "replace") if junit else None,
                   watcher.down, started.asked)


def joined(runs: Sequence[TierRun]) -> TierRun:
    """The parts of one tier (``start(part=...)``), as one run of it (``bed.pipeline.parts``)."""
    if len(runs) == 1:
        return runs[0]
    code = parts.join_exit([r.exit_code for r in runs])
    odd = next((r.state for r in runs if r.state.status != "exited" or r.state.oom_killed), None)
    return TierRun(runs[0].tier, runs[0].check, code, odd or State("exited", code), max(r.duration_s for r in runs),
                   "\n".join(r.log_tail for r in runs if r.log_tail), parts.join_records([r.records for r in runs]),
                   parts.join_junit([r.junit for r in runs]), next((r.down for r in runs if r.down), None))


def run(stack: Stack, tier: Tier, ctx: Context, console: Console, image: str, *, select: Sequence[str] = (),
        watch: Sequence[Service] = (), warm_runner: Service | None = None) -> TierRun:
    """Run one tier's session and collect what it left behind."""
    return finish(start(stack, tier, ctx, console, image, select=select, warm_runner=warm_runner), console, watch)


# A third-party warning printed at import ("…/site-packages/x.py:12: UserWarning: …") and the
# source line Python echoes under it ("  warnings.warn("): counted, not shown, unless verbose.
_WARNING = re.compile(r"^\S+\.py:\d+: \w*Warning: |^\s+warnings\.warn\(")
# pytest's preamble, blank lines and file notices, the same in every session (the report keeps
# the runner's Python and the JUnit): not shown unless verbose. Test lines, failures, errors and
# the summary line stay.
_BOILERPLATE = re.compile(r"^=+ test session starts =+$|^platform \S+ -- Python |^(rootdir|configfile|plugins|"
                          r"cachedir|testpaths): |^collecting \.\.\. |^-+ generated xml file: .* -+$|^\s*$")


def _follow(session: sessions.Session, label: str, console: Console, verbose: bool = False) -> None:
    """Print the session's output as it comes, line by line; third-party warnings are counted
    and summarised in one line at the end, pytest's preamble is left out (``bed run -v`` shows
    both)."""
    pending = b""
    hidden = 0

    def show(raw: bytes) -> None:
        nonlocal hidden
        line = raw.decode("utf-8", "replace").rstrip()
        if not verbose and _WARNING.search(line):
            hidden += 1
            return
        if not verbose and _BOILERPLATE.search(line):
            return
        console.stream(label, line)

    for chunk in session.output():
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            show(line)
    if pending.strip():
        show(pending)
    if hidden:
        console.stream(label, f"({hidden} lines of third-party warnings hidden; `bed run -v` shows them)")
