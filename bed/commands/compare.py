"""`bed compare`: the gate against several LiteLLM gateways, one stack each, and every regression
from one gateway to the next (compare.md, compare.json).

    bed compare --litellm 1.100.5 --litellm 1.108.7 [--jobs 2]   every leg here, then the comparison
    bed compare --agents claude-code@2.1.300 --agents claude-code@2.1.328   agent versions on one gateway
    bed compare --leg 1.108.7 [--agents SPEC] --out DIR             one leg alone (a CI matrix job)
    bed compare --merge DIR [DIR ...]                              legs written by --leg, joined in that order

Gateways are named as ``litellm`` takes them (a release, ``path:DIR``, ``image:REF``), earlier
first; without --litellm, ``[tool.bed.compare] litellm = [...]`` names them. Agent version sets
are named as BED_AGENTS takes them (``[tool.bed.compare] agents = [...]``); a compare varies the
gateways or the agents, not both at once. An agent cell lines up across legs whatever its version
(``test_agent_turn[claude-code@*-messages-native-tool]``), so a release that breaks a route shows as
that cell's regression.

Exit codes: 0 when no gateway regresses from the one before it, 1 when one does. A gateway that
cannot be built or booted is a broken leg, shown as a regression with its error (not an
IMAGE_ERROR exit: the comparison of the other gateways is still worth having). Any other error
keeps bed's usual code. ``--leg`` exits 0 once its leg is written, whatever the leg's verdict:
the merge judges.
"""

from __future__ import annotations

import argparse
import dataclasses
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..compare import bench, legs, merge
from ..compare.gateways import Wanted, agent_legs, spec_of, wanted, wanted_all
from ..compare.legs import LEG_FILE, Options, run_leg, shown
from ..config import clients
from ..config.settings import GATES, TIERS, Config, project_table
from ..console import Console
from ..errors import EXIT_READY, ConfigError
from ..model.comparison import Comparison, RunInfo
from ..report import compare as report
from . import common
from .run import add_stack_arguments

HELP = "run the gate against several LiteLLM gateways (one stack each) and name every regression between them"
TABLE_KEYS = ("litellm", "agents", "gate", "jobs", "bench_seconds")
MAX_JOBS = 8
JOIN_AFTER_INTERRUPT_S = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--litellm", action="append", metavar="GATEWAY",
                        help="a gateway as `litellm` takes it: a release (1.108.7), path:DIR (a fork checkout) or "
                             "image:REF; repeat it, earlier gateway first (default: [tool.bed.compare] litellm)")
    parser.add_argument("--agents", action="append", metavar="SPEC",
                        help="an agent version set as BED_AGENTS takes it (claude-code@2.1.300,...); repeat it to "
                             "compare agent versions on one gateway, earlier first "
                             "(default: [tool.bed.compare] agents)")
    parser.add_argument("--gate", choices=sorted(GATES), help="the gate every leg runs (default core)")
    parser.add_argument("--tier", help=f"comma list of tiers to run instead of the gate's ({', '.join(TIERS)})")
    parser.add_argument("--jobs", type=int, metavar="N", help="legs that run at once, in threads (default 1)")
    parser.add_argument("--bench-seconds", type=float, metavar="S",
                        help=f"seconds per latency measurement of each proxy (default {bench.DEFAULT_SECONDS:g}; "
                             "0: no bench)")
    parser.add_argument("--leg", metavar="GATEWAY", help="run this one leg alone into --out DIR (a CI matrix job)")
    parser.add_argument("--merge", nargs="+", metavar="DIR", help="join legs written by --leg, earlier gateway first")
    parser.add_argument("--out", metavar="DIR",
                        help="where the comparison goes (default local/artifacts/compare); with --leg, the leg")
    add_stack_arguments(parser)


@dataclasses.dataclass(frozen=True)
class Settings:
    gateways: tuple[object, ...]
    where: str  # how messages name where the gateways came from
    gate: str
    jobs: int
    bench_seconds: float
    agents: tuple[object, ...] = ()  # agent version sets (BED_AGENTS forms), when those vary instead
    agents_where: str = ""


def settings(args: argparse.Namespace, root: Path) -> Settings:
    """Flags first, then [tool.bed.compare], then the defaults; every value checked."""
    where, table = project_table(root, "compare")
    for key in table:
        if key not in TABLE_KEYS:
            raise ConfigError(f"{where} has an unknown key {key!r}.", hint=f"the keys are: {', '.join(TABLE_KEYS)}.")
    if args.litellm:
        gateways, named = tuple(args.litellm), "--litellm"
    else:
        listed = table.get("litellm", [])
        if not isinstance(listed, list):
            raise ConfigError(f"{where} litellm is not a list.", hint='write litellm = ["1.100.5", "1.108.7"].')
        gateways, named = tuple(listed), f"{where} litellm"
    gate = args.gate or table.get("gate", "core")
    if gate not in GATES:
        raise ConfigError(f"{where} gate = {gate!r} is not a gate.", hint=f"use one of: {', '.join(sorted(GATES))}.")
    jobs = _number(args.jobs, "--jobs", table, "jobs", where, 1, (1, MAX_JOBS), int)
    seconds = _number(args.bench_seconds, "--bench-seconds", table, "bench_seconds", where, bench.DEFAULT_SECONDS,
                      (0, bench.MAX_SECONDS), float)
    agents, agents_where = _agent_sets(args, table, where)
    return Settings(gateways, named, gate, int(jobs), float(seconds), agents, agents_where)


def _agent_sets(args: argparse.Namespace, table: Mapping[str, Any], where: str) -> tuple[tuple[object, ...], str]:
    if getattr(args, "agents", None):
        return tuple(args.agents), "--agents"
    listed = table.get("agents", [])
    if not isinstance(listed, list):
        raise ConfigError(f"{where} agents is not a list.",
                          hint='write agents = ["claude-code@2.1.300", "claude-code@2.1.328"].')
    return tuple(listed), f"{where} agents"


def _number(flag: object, flag_name: str, table: Mapping[str, Any], key: str, table_name: str, default: float,
            bounds: tuple[float, float], kind: type[int] | type[float]) -> float:
    """The flag, else the table's value, else the default; a CONFIG_ERROR naming where it came from."""
    if flag is not None:
        value, where = flag, flag_name
    else:
        value, where = table.get(key, default), f"{table_name} {key}"
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and not isinstance(value, int)):
        raise ConfigError(f"{where} = {value!r} is not a number.", hint=f"give a number from {low:g} to {high:g}.")
    if not low <= value <= high:
        raise ConfigError(f"{where} = {value:g} is out of range.", hint=f"give a number from {low:g} to {high:g}.")
    return value


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    root = Path.cwd().resolve()
    chosen = settings(args, root)
    modes = [m for m, on in (("--leg", args.leg), ("--merge", args.merge)) if on]
    if len(modes) > 1:
        raise ConfigError("--leg and --merge do not go together.",
                          hint="run each leg with --leg G --out DIR, then once --merge DIR1 DIR2 ...")
    if args.merge:
        if args.litellm:
            raise ConfigError("--merge reads the gateways from the legs; --litellm does not go with it.",
                              hint="pass the legs' folders in the order to compare, earlier gateway first.")
        return merge_legs(args, environ, console, root)
    config = common.config(argparse.Namespace(**{**vars(args), "gate": chosen.gate}), environ)
    options = Options(root, chosen.gate, config.tiers, True if args.strict else None, args.router_config,
                      chosen.bench_seconds)
    if args.leg:
        return one_leg(args, environ, console, options)
    return compare_here(args, environ, console, chosen, config, options)


def one_leg(args: argparse.Namespace, environ: Mapping[str, str], console: Console, options: Options) -> int:
    if not args.out:
        raise ConfigError("--leg needs --out DIR: the folder its results go to.",
                          hint="bed compare --leg 1.108.7 --out local/artifacts/compare/legs/1.108.7")
    if args.litellm:
        raise ConfigError("--leg runs one gateway; --litellm does not go with it.", hint="name it with --leg alone.")
    one = wanted(args.leg, root=options.root, where="--leg")
    if args.agents:
        if len(args.agents) > 1:
            raise ConfigError("--leg runs one agent version set; --agents names several.",
                              hint="one --agents SPEC per leg (a CI matrix job each).")
        one = dataclasses.replace(one, name=f"{one.name} {args.agents[0].replace(' ', '')}",
                                  agents=clients.parse("--agents", args.agents[0]).spec)
    engine = common.engine(environ)
    doc = run_leg(one, Path(args.out), options, environ, engine, console)
    what = doc["error"]["line"] if doc["error"] else doc["verdict"]
    console.plain(f"leg {one.name}: {doc['status']} ({what}); wrote {shown(options.root, Path(args.out) / LEG_FILE)}")
    console.plain("next: bed compare --merge DIR1 DIR2 ... (earlier gateway first) joins the legs")
    return EXIT_READY


def compare_here(args: argparse.Namespace, environ: Mapping[str, str], console: Console, chosen: Settings,
                 config: Config, options: Options) -> int:
    gateways = _legs(chosen, config, options)
    if chosen.jobs > 1 and config.bases.host_port is not None:
        raise ConfigError(f"--jobs {chosen.jobs}: legs side by side cannot all publish the shim on 127.0.0.1:"
                          f"{config.bases.host_port} (MINI_AGENT_API_BASE).",
                          hint="unset MINI_AGENT_API_BASE for the compare, or run the legs one at a time.")
    out = Path(args.out).resolve() if args.out else config.artifacts_dir.parent / "compare"
    todo = [(one, out / "legs" / one.slug) for one in gateways]
    engine = common.engine(environ)
    console.step(f"bed compare: {' -> '.join(g.name for g in gateways)}; gate {chosen.gate} "
                 f"({','.join(config.tiers)}); {min(chosen.jobs, len(todo))} leg(s) at a time; "
                 f"{shown(options.root, out)}/")
    started = time.monotonic()

    def one(index: int, wanted_one: Wanted, folder: Path, registry: dict[str, legs.Observed]) -> None:
        label = f"leg {index}/{len(todo)} {wanted_one.name}"
        mine = console.labelled(wanted_one.name) if chosen.jobs > 1 else console
        console.step(f"{label}: started")
        leg_started = time.monotonic()
        doc = run_leg(wanted_one, folder, options, environ, engine, mine, registry)
        what = f"BROKEN: {doc['error']['line']}" if doc["error"] else doc["verdict"]
        console.step(f"{label}: {what} ({time.monotonic() - leg_started:.1f} s)")

    if chosen.jobs > 1:
        in_parallel(todo, chosen.jobs, one)
    else:
        for index, (wanted_one, folder) in enumerate(todo, 1):
            one(index, wanted_one, folder, {})
    doc = merge.document(merge.load_all([folder for _, folder in todo]), options.root)
    note = (f"legs ran {chosen.jobs} at a time: each leg's boot time and latencies shared the machine's cores "
            "with the other legs' tiers" if chosen.jobs > 1 and len(todo) > 1 else "")
    run_info = RunInfo("local", chosen.jobs, round(time.monotonic() - started, 1), note)
    return write_report(doc.with_run(run_info), out, options.root, console)


def _legs(chosen: Settings, config: Config, options: Options) -> list[Wanted]:
    """The gateways, or one gateway (the one named, else the run's) with a leg per agent version set."""
    if not chosen.agents:
        return wanted_all(chosen.gateways, root=options.root, where=chosen.where)
    if len(chosen.gateways) > 1:
        raise ConfigError(f"{chosen.where} and {chosen.agents_where} both vary: a compare varies the gateways or "
                          "the agents' versions, one at a time.",
                          hint="name one gateway (or none: the run's) to compare agent versions on it.")
    gateway = wanted(chosen.gateways[0], root=options.root, where=chosen.where) if chosen.gateways else \
        Wanted(config.gateway, spec_of(config.gateway), config.gateway.value)
    return agent_legs(chosen.agents, gateway, where=chosen.agents_where)


def in_parallel(todo: list[tuple[Wanted, Path]], jobs: int,
                one: Callable[[int, Wanted, Path, dict[str, legs.Observed]], None]) -> None:
    """The legs in threads, ``jobs`` at a time. The first error stops legs not yet started (it is
    raised once the running ones end); Ctrl-C / SIGTERM removes every running leg's stack at once.

    Daemon threads: an image build in flight cannot be cancelled, and must not keep an
    interrupted bed alive until it ends.
    """
    registry: dict[str, legs.Observed] = {}
    errors: list[BaseException] = []
    slots = threading.Semaphore(jobs)
    stop = threading.Event()

    def worker(index: int, wanted_one: Wanted, folder: Path) -> None:
        with slots:
            if stop.is_set():
                return
            try:
                one(index, wanted_one, folder, registry)
            except BaseException as exc:  # handed to the main thread, which raises it
                errors.append(exc)
                stop.set()

    threads = [threading.Thread(target=worker, args=(i, w, f), name=f"bed-leg-{w.slug}", daemon=True)
               for i, (w, f) in enumerate(todo, 1)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)  # short joins: the main thread must stay able to take a signal
    except BaseException:
        stop.set()
        for observed in list(registry.values()):
            if observed.started is not None:
                observed.started.close()
        deadline = time.monotonic() + JOIN_AFTER_INTERRUPT_S
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        raise
    if errors:
        raise errors[0]


def merge_legs(args: argparse.Namespace, environ: Mapping[str, str], console: Console, root: Path) -> int:
    started = time.monotonic()
    legs = merge.load_all([Path(d).resolve() for d in args.merge])
    doc = merge.document(legs, root).with_run(RunInfo("merge", None, round(time.monotonic() - started, 1)))
    out = Path(args.out).resolve() if args.out else Config.from_env(environ, root=root).artifacts_dir.parent / "compare"
    return write_report(doc, out, root, console)


def write_report(doc: Comparison, out: Path, root: Path, console: Console) -> int:
    written = report.write(doc, out, console.redact)
    for line in report.console_lines(doc):
        console.plain(line)
    console.plain("reports: " + ", ".join(shown(root, p) for p in written))
    console.plain(f"COMPARE: {report.summary(doc)} ({report.title(doc)})")
    return doc.exit_code

