"""`bed bench peers`: bed next to its peers on the same images and the same ND tests, in one run.

    bed             the ND tier through bed's own pipeline, in-process (what `bed run --tier nd` does)
    compose         compose/bed.yaml as its users run it: `up -d --wait`, the ND tier through
                    `compose run --rm runner ... pytest nd`, `down -v`; a new project name per round
    testcontainers  plain testcontainers with its default waits (``testcontainers_peer``)

The images are the ones ``ensure_images`` gives (compose gets them by tag through an override
file: the shared `:current` names may be moved by another checkout's build meanwhile). Each round
runs the three in a rotating order, so none always goes first on a cold page cache or last on a
busy engine. A round's phases, in seconds:

    up        start -> the shim and the proxy healthy. compose: `up -d --wait`; testcontainers:
              network + each container started and waited for; bed: its own figure, from the
              services' start (together) until both answered from inside the network
    tests     healthy -> the ND tests done. bed's runner starts with the services and imports
              meanwhile, so its part after healthy is short: tiers stage - up
    teardown  everything removed
    total     the wall time of the round; bed's includes its bookkeeping (router config, image
              check, verdict, reports), shown as `other`

Medians are over the rounds that passed; ratios are peer / bed. Nothing is left behind: after
every round bed looks for the round's containers and networks by label and removes (and reports)
any. Results: local/artifacts/bench/peers.json and peers.md.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ..config.bases import NETWORK_BASE
from ..config.router import DEFAULT_GROUP, RouterPlan, groups
from ..config.settings import Config
from ..console import Console
from ..engine.labels import RUN, here, run_labels
from ..engine.protocol import Engine
from ..errors import BedError, ConfigError, EngineError
from ..exec import Done, Exec, Failed, Local
from ..images.build import ImageRef, Recipe, ensure_images
from ..model.containers import VENV_PYTHON
from ..pipeline.stages.prepare import Inputs, new_master_key, prepare_router
from ..pipeline.workflow import run
from ..redact import Redactor
from ..report.writers import write_text
from ..stack.bringup import proxy_files
from ..stack.compose import IMAGE_VARS, render, write_providers
from ..stack.services import PROXY, SHIM
from ..tiers import catalog, command
from . import testcontainers_peer
from .common import out_dir

PEERS = ("bed", "compose", "testcontainers")
PHASES = ("up", "tests", "teardown", "total", "other")
MAX_RUNS = 10
# The same ND tests in the same runner image, as its users would run them by hand.
ND_ARGV = (VENV_PYTHON, "-m", "pytest", "nd", "-p", "no:cacheprovider", "-q", "-rfEs", "--tb=short", "--color=no")
COMPOSE_PROJECT = "com.docker.compose.project"
TEARDOWN_BUDGET_S = 120.0


# --- what a round measured, and what the rounds add up to (pure: unit-tested without Docker) ------


@dataclasses.dataclass(frozen=True)
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0

    def describe(self) -> str:
        extra = [f"{n} {word}" for n, word in ((self.failed, "failed"), (self.errors, "errors"),
                                               (self.skipped, "skipped")) if n]
        return ", ".join([f"{self.passed} passed", *extra])


@dataclasses.dataclass(frozen=True)
class Round:
    peer: str
    index: int  # 1-based
    up_s: float
    tests_s: float
    teardown_s: float
    total_s: float
    counts: Counts | None
    error: str = ""  # why the round does not count
    leftovers: tuple[str, ...] = ()  # what bed had to remove after it (there should be nothing)
    load: float | None = None  # the machine's 1-minute load average as the round began: others share it

    @property
    def ok(self) -> bool:
        c = self.counts
        return not self.error and c is not None and c.passed > 0 and c.failed == 0 and c.errors == 0

    def why_not(self) -> str:
        """Why the round does not count ("" when it does)."""
        if self.ok:
            return ""
        return self.error or f"tests failed: {(self.counts or Counts()).describe()}"

    def phases(self) -> dict[str, float]:
        other = max(self.total_s - self.up_s - self.tests_s - self.teardown_s, 0.0)
        return {"up": self.up_s, "tests": self.tests_s, "teardown": self.teardown_s, "total": self.total_s,
                "other": other}

    def to_dict(self) -> dict[str, Any]:
        return {"peer": self.peer, "round": self.index, "ok": self.ok,
                **{f"{k}_s": round(v, 3) for k, v in self.phases().items()},
                "tests": dataclasses.asdict(self.counts) if self.counts else None, "error": self.error,
                "leftovers": list(self.leftovers), "load_1m": self.load}


_SUMMARY = re.compile(r"^(?:=+ )?(?P<body>(?:\d+ \w+)(?:, \d+ \w+)*|no tests ran) in [\d.]+s(?: \([\d:]+\))?(?: =+)?$",
                      re.MULTILINE)


def order(index: int, peers: Sequence[str] = PEERS) -> tuple[str, ...]:
    """Round ``index`` (1-based) rotates the order, so each peer goes first once every len(peers) rounds."""
    shift = (index - 1) % len(peers)
    return (*peers[shift:], *peers[:shift])


def parse_counts(output: str) -> Counts | None:
    """pytest's own last summary line (`30 passed, 1 skipped in 4.2s`) as counts; None without one."""
    found = list(_SUMMARY.finditer(output))
    if not found:
        return None
    words: dict[str, int] = {}
    for part in found[-1]["body"].split(", "):
        number, _, word = part.partition(" ")
        if number.isdigit():
            words[word] = int(number)
    return Counts(passed=words.get("passed", 0), failed=words.get("failed", 0), skipped=words.get("skipped", 0),
                  errors=words.get("errors", words.get("error", 0)))


def summarise(rounds: Sequence[Round], peers: Sequence[str] = PEERS) -> dict[str, Any]:
    """Per peer: rounds passed, median of each phase over them, the tests; ratios peer / bed."""
    out = {peer: _peer_row([r for r in rounds if r.peer == peer]) for peer in peers}
    base = out.get("bed", {}).get("median_s", {})
    for row in out.values():
        row["ratio"] = _ratios(row["median_s"], base)
    return out


def _peer_row(mine: Sequence[Round]) -> dict[str, Any]:
    """One peer's rounds: how many passed, the medians and the tests of those, the spread of their
    totals, and why each other one does not count."""
    good = [r for r in mine if r.ok]
    totals = [r.total_s for r in good]
    return {"rounds": len(mine), "ok": len(good), "median_s": _medians(good),
            "tests": sorted({r.counts.describe() for r in good if r.counts}),
            "total_range_s": [round(min(totals), 2), round(max(totals), 2)] if totals else [],
            "errors": [f"round {r.index}: {r.why_not()}" for r in mine if not r.ok]}


def _medians(good: Sequence[Round]) -> dict[str, float]:
    """The median of each phase over the rounds, to the hundredth of a second ({} without rounds)."""
    return {p: round(statistics.median(r.phases()[p] for r in good), 2) for p in PHASES} if good else {}


def _ratios(mine: Mapping[str, float], base: Mapping[str, float]) -> dict[str, float]:
    """Each phase's median over bed's, where both have one and bed's is not 0; not "other", which is
    different work for each peer."""
    return {p: round(mine[p] / base[p], 2) for p in PHASES if p != "other" and p in mine and base.get(p)}


def table(summary: Mapping[str, Any]) -> list[str]:
    """The medians and the ratios, as the terminal shows them."""
    lines = [f"{'peer':15} {'ok':>5} {'up':>7} {'tests':>7} {'teardown':>9} {'total':>7} {'other':>7}  tests",
             *(_row(peer, row) for peer, row in summary.items()),
             "",
             f"{'peer / bed':15} {'':>5} {'up':>7} {'tests':>7} {'teardown':>9} {'total':>7}"]
    for peer, row in summary.items():
        if peer == "bed":
            continue
        ratio = row["ratio"]
        lines.append(f"{peer:15} {'':>5} " + " ".join(f"{_x(ratio.get(p)):>{w}}" for p, w in
                                                      (("up", 7), ("tests", 7), ("teardown", 9), ("total", 7))))
    return lines


def markdown(summary: Mapping[str, Any], meta: Mapping[str, Any]) -> str:
    head = ["# bed next to its peers: the same images, the same ND tests", "",
            f"{meta['runs']} round(s), order rotating; medians in seconds over the rounds that passed; "
            f"engine {meta['engine']} ({meta.get('cpus', '?')} CPUs), {meta['compose']}, testcontainers "
            f"{meta['testcontainers']}; the machine's 1-minute load as the rounds began: {_loads(meta)} "
            "(other work on a shared engine shows up here, and in the spread of the rounds).", "",
            "| peer | ok | up | tests | teardown | total | other | total min-max | tests run | total / bed |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for peer, row in summary.items():
        m = row["median_s"]
        cells = [f"{m[p]:.2f}" if p in m else "-" for p in PHASES]
        spread = "-".join(f"{v:.2f}" for v in row["total_range_s"]) or "-"
        head.append(f"| {peer} | {row['ok']}/{row['rounds']} | {' | '.join(cells)} | {spread} | "
                    f"{'; '.join(row['tests']) or '-'} | {_x(row['ratio'].get('total'))} |")
    head += ["", "| peer / bed | up | tests | teardown | total |", "|---|---|---|---|---|"]
    for peer, row in summary.items():
        if peer != "bed":
            head.append(f"| {peer} | " + " | ".join(_x(row["ratio"].get(p)) for p in PHASES[:4]) + " |")
    errors = [f"- {peer} {e}" for peer, row in summary.items() for e in row["errors"]]
    head += ["", "Phases: up = start until the shim and the proxy are healthy; tests = healthy until the ND tests "
             "are done (bed's runner imports while the services boot, so its part after healthy is short); "
             "teardown = everything removed; other = the rest of the round (bed: router config, image check, "
             "verdict, reports).", "", f"Command: `{meta['command']}`"]
    if errors:
        head += ["", "Rounds that did not count:", *errors]
    return "\n".join(head) + "\n"


def _loads(meta: Mapping[str, Any]) -> str:
    span = meta.get("load_1m")
    return f"{span[0]:.2f} to {span[1]:.2f}" if span else "unknown"


def _row(peer: str, row: Mapping[str, Any]) -> str:
    m = row["median_s"]
    cells = [f"{m[p]:{w}.2f}" if p in m else f"{'-':>{w}}" for p, w in
             (("up", 7), ("tests", 7), ("teardown", 9), ("total", 7), ("other", 7))]
    return f"{peer:15} {row['ok']:>2}/{row['rounds']:<2} {' '.join(cells)}  {'; '.join(row['tests']) or '-'}"


def _x(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


# --- the run ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Setup:
    """What every round of every peer shares."""

    config: Config
    environ: Mapping[str, str]
    engine: Engine
    images: Mapping[str, ImageRef]
    router: RouterPlan
    key: str
    compose_file: Path
    override: Path  # pins compose's services to the very images of this run
    redact: Redactor
    clock: Callable[[], float] = time.monotonic


def bench_peers(root: Path, environ: Mapping[str, str], engine: Engine, console: Console,
                runs: int) -> dict[str, Any]:
    if not 1 <= runs <= MAX_RUNS:
        raise ConfigError(f"--runs {runs} is out of range for the peers bench.", hint=f"use 1 to {MAX_RUNS}.")
    compose_version = _compose_version(environ)
    config = Config.from_env(environ, root=root, tiers=("nd",))
    if config.group != DEFAULT_GROUP:
        raise ConfigError(f"the peers bench compares the default group, not {config.group!r}.",
                          hint="unset BED_ROUTER_GROUP (compose/bed.yaml's runner knows only the default).")
    images = ensure_images(engine, Recipe.of(config), console)
    if images["litellm"].command:
        raise ConfigError("the peers bench compares the stack with bed's built gateway image.",
                          hint="unset BED_LITELLM=image:... (compose/bed.yaml runs bed-litellm).")
    quiet = Console(out=io.StringIO(), redact=console.redact)
    key = new_master_key()
    console.redact.add(key)
    router = prepare_router(config, quiet, environ)  # .artifacts/router_stub.yaml, which compose mounts
    compose_file = config.root / "compose" / "bed.yaml"
    write_text(compose_file, render(), console.redact)  # what `bed compose --prepare` writes
    write_providers(config.stub_path.parent, console.redact)
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="bed-peers-") as tmp:
        override = Path(tmp) / "images.yaml"
        override.write_text(yaml.safe_dump({"services": {
            SHIM.alias: {"image": images["shim"].tag}, PROXY.alias: {"image": images["litellm"].tag},
            "runner": {"image": images["runner"].tag}}}))
        setup = Setup(config, environ, engine, images, router, key, compose_file, override, console.redact)
        for index in range(1, runs + 1):
            for peer in order(index):
                load = _load()
                result = dataclasses.replace(ROUNDS[peer](setup, index), load=load)
                rounds.append(result)
                state = "ok" if result.ok else f"DOES NOT COUNT: {result.why_not()}"
                console.step(f"round {index}/{runs} {peer:14} up {result.up_s:5.2f}  tests {result.tests_s:5.2f}  "
                             f"teardown {result.teardown_s:5.2f}  total {result.total_s:6.2f} s  "
                             f"(load {_shown(load)})  {state}")
                if result.leftovers:
                    console.banner(f"{peer} left {len(result.leftovers)} thing(s) behind; bed removed them",
                                   list(result.leftovers))
    summary = summarise(rounds)
    loads = [r.load for r in rounds if r.load is not None]
    meta = {"runs": runs, "engine": engine.info().version, "cpus": engine.info().cpus,
            "load_1m": [min(loads), max(loads)] if loads else None, "compose": compose_version,
            "testcontainers": _testcontainers_version(), "command": f"bed bench peers --runs {runs}",
            "images": {n: images[n].tag for n in ("shim", "litellm", "runner")}}
    report = {**meta, "summary": summary, "rounds": [r.to_dict() for r in rounds]}
    out = out_dir(config)
    write_text(out / "peers.json", json.dumps(report, indent=2) + "\n", console.redact)
    write_text(out / "peers.md", markdown(summary, meta), console.redact)
    for line in table(summary):
        console.plain(line)
    console.plain(f"written: {config.shown(out / 'peers.md')}, {config.shown(out / 'peers.json')}")
    return report


def _bed_round(s: Setup, index: int) -> Round:
    config = Config.from_env(s.environ, root=s.config.root, tiers=("nd",))  # a fresh run id
    quiet = Console(out=io.StringIO(), redact=s.redact)
    started = s.clock()
    try:
        result = run(Inputs(config, s.environ, quiet, lambda: s.engine, "core"))
    except BedError as exc:
        return Round("bed", index, 0, 0, 0, s.clock() - started, None, exc.line(),
                     _sweep(s.engine, {RUN: config.run_id}))
    total = s.clock() - started
    timings = result.timings
    up = max(timings.get("ready_shim", 0.0), timings.get("ready_proxy", 0.0))
    nd = next((c for c in result.checks if c.tier == "nd"), None)
    counts = Counts(passed=nd.tests - nd.failures - nd.skipped, failed=nd.failures, skipped=nd.skipped) if nd else None
    return Round("bed", index, up, max(timings.get("tiers", 0.0) - up, 0.0), timings.get("teardown", 0.0), total,
                 counts, "" if result.ready else result.verdict_line(), _sweep(s.engine, {RUN: config.run_id}))


def _compose_round(s: Setup, index: int) -> Round:
    project = f"bed-peer-{s.config.run_id}-{index}"
    base = ["docker", "compose", "-f", str(s.compose_file), "-f", str(s.override), "-p", project]
    # compose/bed.yaml names its images by variable (what `bed compose --prepare` writes to compose/.env):
    # this run's images, which the override pins too
    images = {var: s.images[name].tag for name, var in IMAGE_VARS.items()}
    env = {**s.environ, "LITELLM_MASTER_KEY": s.key, **images}
    started = s.clock()
    up = tests = 0.0
    counts: Counts | None = None
    error = ""
    try:
        up, done = _timed([*base, "up", "-d", "--wait", "--wait-timeout", f"{s.config.wait_budget_s:.0f}"], env,
                          s.config.wait_budget_s + 60, s.clock)
        if done.returncode != 0:
            error = f"`compose up --wait` exited {done.returncode}: {_tail(done)}"
        else:
            tests, done = _timed([*base, "run", "--rm", "runner", *ND_ARGV], env, s.config.nd_budget_s, s.clock)
            counts = parse_counts(done.stdout.decode("utf-8", "replace"))
            if counts is None:
                error = f"`compose run` exited {done.returncode} without a pytest summary: {_tail(done)}"
    except Failed as exc:  # it ran out of its time
        error = exc.what
    finally:
        mark = s.clock()
        try:
            _timed([*base, "down", "-v", "--remove-orphans"], env, TEARDOWN_BUDGET_S, s.clock)
        except Failed:
            error = error or f"`compose down` ran out of its {TEARDOWN_BUDGET_S:.0f} s"
        teardown = s.clock() - mark
    return Round("compose", index, up, tests, teardown, s.clock() - started, counts, error,
                 _sweep(s.engine, {COMPOSE_PROJECT: project}))


def _testcontainers_round(s: Setup, index: int) -> Round:
    run_id = f"{s.config.run_id}-tc{index}"
    labels = run_labels(run_id, "peer", keep=False, identity=here())
    shim = testcontainers_peer.Service(SHIM.alias, s.images["shim"].tag, SHIM.port, SHIM.health,
                                       {**dict(SHIM.env), "MINI_AGENT_MODELS": ",".join(groups(s.config.group))})
    proxy = testcontainers_peer.Service(
        PROXY.alias, s.images["litellm"].tag, PROXY.port, PROXY.health,
        {**dict(PROXY.env), "LITELLM_MASTER_KEY": s.key, "CODEX_AGENT_API_BASE": NETWORK_BASE},
        proxy_files(s.router))
    ctx = command.Context(config=s.config, master_key=s.key, router_yaml=s.router.text, environ={})
    plan = testcontainers_peer.Plan(
        services=(shim, proxy), runner_image=s.images["runner"].tag,
        runner_env=command.env(catalog.TIERS["nd"], ctx), runner_argv=ND_ARGV, labels=labels,
        name=f"bed-peer-{run_id}", tests_budget_s=s.config.nd_budget_s, docker_env=s.environ)
    started = s.clock()
    timing = testcontainers_peer.run_once(plan, s.clock)
    total = s.clock() - started
    counts = parse_counts(timing.output) if timing.output else None
    error = timing.error
    if not error and timing.exit_code is None:
        error = f"the ND runner ran out of its {s.config.nd_budget_s:.0f} s"
    elif not error and counts is None:
        error = f"the ND runner exited {timing.exit_code} without a pytest summary: {timing.output[-300:]!r}"
    return Round("testcontainers", index, timing.up_s, timing.tests_s, timing.teardown_s, total, counts, error,
                 _sweep(s.engine, {RUN: run_id}))


LOCAL = Local()
ROUNDS: dict[str, Callable[[Setup, int], Round]] = {
    "bed": _bed_round, "compose": _compose_round, "testcontainers": _testcontainers_round}


def _sweep(engine: Engine, labels: Mapping[str, str]) -> tuple[str, ...]:
    """Remove what a round left behind, saying what it was (there should be nothing)."""
    left = []
    for container in engine.containers(labels):
        engine.remove(container.id)
        left.append(f"container {container.name}")
    for network in engine.networks(labels):
        engine.remove_network(network.name)
        left.append(f"network {network.name}")
    return tuple(left)


def _timed(argv: list[str], env: Mapping[str, str], timeout: float, clock: Callable[[], float],
           run: Exec = LOCAL) -> tuple[float, Done]:
    """Any exit code is the caller's to read; running out of ``timeout`` is ``Failed``."""
    started = clock()
    done = run.capture(argv, env=env, timeout=timeout, ok=None)
    return clock() - started, done


def _tail(done: Done) -> str:
    return done.tail(3).replace("\n", " | ")[:400]


def _compose_version(environ: Mapping[str, str], run: Exec = LOCAL) -> str:
    done = run.capture(["docker", "compose", "version", "--short"], env=environ, timeout=30, ok=None,
                       error=EngineError, hint="install the docker CLI; `make bench-peers` installs Compose v2 itself.")
    version = done.stdout.decode("utf-8", "replace").strip().lstrip("v")
    if done.returncode != 0 or not version.startswith("2."):
        raise EngineError(f"`docker compose` (v2) does not answer ({_tail(done) or 'no output'}).",
                          hint="run scripts/ensure-compose.sh (`make bench-peers` does), or install the plugin.")
    return f"docker compose {version}"


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # not every platform has one
        return None


def _shown(load: float | None) -> str:
    return "?" if load is None else f"{load:.2f}"


def _testcontainers_version() -> str:
    import importlib.metadata

    return importlib.metadata.version("testcontainers")
