"""Running a tier's session: start it (in a fresh runner or forked in a warm one), follow its
output live, wait for it within its budget while the services it needs are watched, and collect
what it left behind (how it ended, its records, its log tail). Parts of one tier join as one.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import threading
from collections.abc import Sequence

from ..console import Console
from ..engine.protocol import State
from ..model import evidence
from ..model.results import Cause
from ..policy import verdict
from ..runner import bed_contract as contract
from ..stack.owner import Service, Stack
from ..stack.watch import Watch
from ..text import LineCutter
from . import parts, sessions
from .catalog import Tier, budget, check_name
from .command import COLD, PYTEST, TIERS_DIR, Context, Paths, container_spec, share

LOG_TAIL = 20


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
    down: Cause | None = None  # a dependency the watch saw go down
    asked: tuple[str, ...] = ()  # the node ids it was asked to run (a re-run)
    sessions: int = 1  # the sessions that wrote the records (a tier run in parts: one each)

    @functools.cached_property
    def evidence(self) -> evidence.Evidence:
        return evidence.parse(self.records, self.sessions)

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
    extra = {contract.WAIT_FOR: ",".join(wait_for), contract.WAIT_BUDGET: str(ctx.config.wait_budget_s)} \
        if wait_for else {}
    if part is not None:
        extra |= share(part, ctx)
    extra[contract.SESSION] = token
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
    return TierRun(started.tier.name, started.label, exit_code, session.state(),
                   started.ctx.clock() - started.at, session.tail(LOG_TAIL),
                   session.read(paths.records), watcher.down, started.asked)


def joined(runs: Sequence[TierRun]) -> TierRun:
    """The parts of one tier (``start(part=...)``), as one run of it (``bed.tiers.parts``)."""
    if len(runs) == 1:
        return runs[0]
    code = parts.join_exit([r.exit_code for r in runs])
    odd = next((r.state for r in runs if r.state.status != "exited" or r.state.oom_killed), None)
    return TierRun(runs[0].tier, runs[0].check, code, odd or State("exited", code), max(r.duration_s for r in runs),
                   "\n".join(r.log_tail for r in runs if r.log_tail), parts.join_records([r.records for r in runs]),
                   next((r.down for r in runs if r.down), None), sessions=len(runs))


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

    cutter = LineCutter()  # a 50 MB line is cut to its first 8 KiB, said, and never holds up the lines after it
    for chunk in session.output():
        for line in cutter.feed(chunk):
            show(line)
    for line in cutter.end():
        if line.strip():
            show(line)
    if hidden:
        console.stream(label, f"({hidden} lines of third-party warnings hidden; `bed run -v` shows them)")
