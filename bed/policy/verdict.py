"""From a tier's evidence to its check result, and from the checks to the run's verdict.

READY only on evidence that each required test ran and passed. The rules below are tried in
order; the first that applies decides the check. Anything bed cannot explain is NOT READY
with a cause that says why. A SKIP is only for a dependency bed started correctly that then
went down (seen by bed's own watch), or for tests that skipped themselves; either fails the
gate when STRICT or READINESS_EXPECT requires the check.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable

from ..model.evidence import CollectSkip, Evidence, Selection
from ..model.results import Cause, CheckResult, Status

PYTEST_EXIT = {2: "was interrupted (exit 2)", 3: "hit an internal error (exit 3)",
               4: "refused its arguments (exit 4)"}
# pytest's last line ("==== 1 passed in 0.02s ===="): the session ran, whatever the records say.
_SUMMARY = re.compile(r"=+ .*\b(passed|failed|error|errors|skipped|no tests ran)\b.* in [\d.]+s.* =+$")


@dataclasses.dataclass(frozen=True)
class Rules:
    """What a check must satisfy."""

    check: str
    tier: str
    required: bool  # STRICT, or READINESS_EXPECT names the tier or a service it needs
    hermetic: bool = False  # any skip fails it (the deterministic tier)
    shard: bool = False  # one of N shards: having nothing left to run is allowed
    suite: bool = False  # a project's own suite, chosen by tier marker
    budget_s: float | None = None
    memory: str = "2g"
    narrowed: str = ""  # `bed run -- ARGS`: the pytest arguments the user narrowed the run with


@dataclasses.dataclass(frozen=True)
class Ending:
    """How the tier's runner ended, as the engine saw it."""

    exit_code: int | None  # None: stopped at its budget
    duration_s: float = 0.0
    oom_killed: bool = False
    state: str = ""
    log_tail: str = ""
    down: Cause | None = None  # a dependency bed's watch saw go down while the tier ran


@dataclasses.dataclass(frozen=True)
class Case:
    rules: Rules
    ending: Ending
    evidence: Evidence
    flaky: frozenset[str] = frozenset()  # failed, then passed on the re-run
    quarantined: frozenset[str] = frozenset()  # failed for good, but in quarantine: do not gate

    @property
    def gating(self) -> tuple[str, ...]:
        return tuple(n for n in self.evidence.failed if n not in self.flaky and n not in self.quarantined)

    @property
    def module_skips(self) -> tuple[CollectSkip, ...]:
        return module_skips(self.evidence, self.rules.tier, suite=self.rules.suite)

    @property
    def skips(self) -> tuple[tuple[str, str, str], ...]:
        """(node id, location, why) of every skip: the tests', then the modules' skipped at import."""
        ev = self.evidence
        return (*((n, ev.tests[n].location, why) for n, why in ev.skipped),
                *((s.nodeid, s.location, f"skipped at import: {s.message}") for s in self.module_skips))


def module_skips(evidence: Evidence, tier: str, *, suite: bool) -> tuple[CollectSkip, ...]:
    """Modules skipped at import that belong to the tier: in bed's own tiers every one (a tier is
    a folder); in a project's suite those whose source names the tier's marker, and those whose
    tier nothing names (they count in every tier: when in doubt, a hermetic tier fails on them)."""
    skips = evidence.collect_skips
    return skips if not suite else tuple(s for s in skips if tier in s.tiers or not s.tiers)


def required(tier: str, needs: Iterable[str], *, strict: bool, expect: Iterable[str]) -> bool:
    """STRICT, or READINESS_EXPECT names the tier or a service it needs: not passing fails the gate."""
    expected = set(expect)
    return strict or tier in expected or any(service in expected for service in needs)


def judge(case: Case) -> CheckResult:
    ev = case.evidence
    base = CheckResult(
        name=case.rules.check, tier=case.rules.tier, status=Status.PASSED, duration_s=round(case.ending.duration_s, 2),
        tests=len(ev.tests) + len(case.module_skips), failures=len(ev.failed), skipped=len(case.skips),
        required=case.rules.required,
        flaky=tuple(n for n in ev.failed if n in case.flaky),
        quarantined=tuple(n for n in ev.failed if n in case.quarantined and n not in case.flaky),
        outcomes={n: "flaky" if n in case.flaky else t.outcome for n, t in ev.tests.items()},
    )
    for rule in RULES:
        found = rule(case, base)
        if found is not None:
            return found
    return _passed(base)


def health(case: Case) -> CheckResult | None:
    """Only whether the session itself held up (it started, finished, agreed with itself, collected
    without errors): for a session that runs no test, such as the census's ``--collect-only``."""
    base = CheckResult(name=case.rules.check, tier=case.rules.tier, status=Status.PASSED,
                       duration_s=round(case.ending.duration_s, 2), required=case.rules.required)
    for rule in RULES[: RULES.index(_failures)]:
        found = rule(case, base)
        if found is not None:
            return found
    return None


def _went_down(case: Case, base: CheckResult) -> CheckResult | None:
    down = case.ending.down
    if down is None:
        return None
    status = Status.FAILED if case.rules.required else Status.SKIPPED
    return dataclasses.replace(base, status=status, reason=down.message, cause=down)


def _over_budget(case: Case, base: CheckResult) -> CheckResult | None:
    if case.ending.exit_code is not None:
        return None
    limit = case.rules.budget_s or 0
    return _error(base, f"over its {limit:.0f} s budget",
                  Cause(f"{case.rules.check} (budget)", "", f"stopped after {limit:.0f} s", case.ending.log_tail))


def _oom(case: Case, base: CheckResult) -> CheckResult | None:
    if not case.ending.oom_killed:
        return None
    why = f"the runner was OOM-killed (BED_RUNNER_MEMORY={case.rules.memory}; raise it)"
    return _error(base, why, Cause(case.rules.check, "", why, case.ending.log_tail))


def _never_started(case: Case, base: CheckResult) -> CheckResult | None:
    if case.evidence.started:
        return None
    last = _last_line(case.ending.log_tail)
    if _SUMMARY.search(last):
        why = f"bed's records of this session are gone, yet pytest's output says it ran ({last}): " \
              "did a test remove them?"
        return _failed(base, why, Cause(case.rules.check, "", why, case.ending.log_tail))
    if case.ending.exit_code == 4:
        why = f"pytest refused its arguments (exit 4): {last}"
        return _failed(base, why, Cause(case.rules.check, "", why, case.ending.log_tail))
    why = f"the runner ended {case.ending.state or f'with exit code {case.ending.exit_code}'} before pytest " \
          f"started a session: {last}"
    return _error(base, why, Cause(case.rules.check, "", why, case.ending.log_tail))


def _contradicts(case: Case, base: CheckResult) -> CheckResult | None:
    """Records that contradict each other, or that were lost mid-session: nothing in them can be trusted."""
    ev = case.evidence
    found = (ev.lost, *ev.conflicts) if ev.lost else ev.conflicts
    if not found:
        return None
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    why = f"the records contradict themselves: {found[0]}{more}"
    return _failed(base, why, Cause(case.rules.check, "", why, case.ending.log_tail))


def _unfinished(case: Case, base: CheckResult) -> CheckResult | None:
    ev = case.evidence
    if ev.finished:
        return None
    inside = next((n for n, t in ev.tests.items() if t.outcome == "incomplete"), None)
    earlier = next((n for n in ev.failed if n != inside), None)
    why = (f"the pytest session never finished (the runner exited {case.ending.exit_code}): "
           + (f"the process ended inside {inside}" if inside else "it ended between tests (os._exit, a signal?)"))
    if inside is None and earlier is not None:  # the failed test is the first thing to read
        first = ev.tests[earlier]
        return _failed(base, f"{why}; before that, {earlier} failed",
                       Cause(earlier, first.location, first.message or first.outcome, case.ending.log_tail))
    location = ev.tests[inside].location if inside else ""
    return _failed(base, why, Cause(inside or case.rules.check, location, why, case.ending.log_tail))


def _disagrees(case: Case, base: CheckResult) -> CheckResult | None:
    why = _disagreement(case.evidence, case.ending.exit_code)
    if not why:
        return None
    return _failed(base, f"the evidence disagrees: {why}",
                   Cause(case.rules.check, "", f"the evidence disagrees: {why}", case.ending.log_tail))


def _disagreement(ev: Evidence, exit_code: int | None) -> str:
    """How the records disagree with themselves or with the runner's exit ("" when they agree)."""
    if ev.problems:
        return f"the records hold {len(ev.problems)} line(s) bed's plugin did not write ({ev.problems[0]})"
    if ev.exitstatus != exit_code:
        return (f"{ev.hook_error} (pytest's exit {ev.exitstatus}, the runner's {exit_code})" if ev.hook_error
                else f"pytest finished with exit {ev.exitstatus}, but the runner exited {exit_code}")
    if ev.exitstatus == 0 and ev.failed:
        return f"pytest exited 0, yet {len(ev.failed)} test(s) failed ({ev.failed[0]})"
    if ev.exitstatus == 1 and not ev.failed and not ev.collect_errors:
        return "pytest exited 1 (tests failed), yet no failing test was recorded"
    return ""


def _collection_errors(case: Case, base: CheckResult) -> CheckResult | None:
    errors = case.evidence.collect_errors
    if not errors:
        return None
    first = errors[0]
    return _failed(base, f"{len(errors)} error(s) while collecting tests",
                   Cause(first.nodeid, first.location, f"collection error: {first.message}"))


def _pytest_error(case: Case, base: CheckResult) -> CheckResult | None:
    status = case.evidence.exitstatus
    if status not in PYTEST_EXIT:
        return None
    why = f"pytest {PYTEST_EXIT[status]}: {_last_line(case.ending.log_tail)}"
    return _failed(base, why, Cause(case.rules.check, "", why, case.ending.log_tail))


def _failures(case: Case, base: CheckResult) -> CheckResult | None:
    gating = case.gating
    if not gating:
        return None
    first = case.evidence.tests[gating[0]]
    return dataclasses.replace(base, status=Status.FAILED, reason=f"{len(gating)} test(s) failed",
                               cause=Cause(first.nodeid, first.location, first.message or first.outcome))


def _empty(case: Case, base: CheckResult) -> CheckResult | None:
    ev, sel = case.evidence, case.evidence.selection
    if ev.tests or case.module_skips:
        return None
    chosen = _nothing_to_run(case, base, sel)
    if chosen is not None:
        return chosen
    why = _nothing_ran(sel)
    return _failed(base, why, Cause(case.rules.check, "", why, case.ending.log_tail))


def _nothing_to_run(case: Case, base: CheckResult, sel: Selection | None) -> CheckResult | None:
    """The verdict when the selection left this check nothing to run (a suite without the tier's tests, an
    emptied shard, arguments that pick none of its tests); None when it does not say so."""
    if sel is None:
        return None
    if case.rules.suite and sel.tier_marked == 0 and sel.selected == 0:
        return _not_run(case, base, case.rules.check, f"no test of the suite is marked {case.rules.tier}")
    if case.rules.shard and sel.by_shard > 0 and sel.selected == 0:
        return dataclasses.replace(base, status=Status.SKIPPED, reason="this shard has nothing left to run")
    if case.rules.narrowed and sel.selected == 0 and sel.collected > 0 and sel.by_options > 0:
        # asked for: the arguments pick tests of other tiers (the census fails a run in which no tier runs one)
        own = sel.tier_marked if sel.tier_marked is not None else sel.collected  # a suite: the tier's own tests
        return _not_run(case, base, case.rules.check, f"`-- {case.rules.narrowed}` selects none of its {own} tests")
    return None


def _nothing_ran(sel: Selection | None) -> str:
    if sel is None:
        return "no test ran"
    if sel.selected > 0:
        return f"{sel.selected} test(s) were selected, yet none ran"
    if sel.collected > 0 and sel.by_options > 0:
        return f"the selection (PYTEST_ADDOPTS: -k/-m) selects none of the {sel.collected} collected tests"
    return "no test was collected" if sel.collected == 0 else "no test ran"


def _hermetic_skip(case: Case, base: CheckResult) -> CheckResult | None:
    skips = case.skips
    if not case.rules.hermetic or not skips:
        return None
    nodeid, location, why = skips[0]
    return _failed(base, f"the {case.rules.tier} tier may not skip",
                   Cause(nodeid, location, f"skipped in a hermetic tier: {why}"))


def _all_skipped(case: Case, base: CheckResult) -> CheckResult | None:
    ev, skips = case.evidence, case.skips
    if not skips or len(ev.skipped) != len(ev.tests):
        return None
    reasons = sorted({why for _, _, why in skips})
    return _not_run(case, base, skips[0][0], "; ".join(reasons)[:500])


RULES: tuple[Callable[[Case, CheckResult], CheckResult | None], ...] = (
    _went_down, _over_budget, _oom, _contradicts, _never_started, _unfinished, _disagrees, _collection_errors,
    _pytest_error,
    _failures, _empty, _hermetic_skip, _all_skipped,
)


def _passed(base: CheckResult) -> CheckResult:
    if not base.flaky and not base.quarantined:
        return base
    note = (f"{len(base.flaky)} flaky test(s) passed on re-run; "
            f"{len(base.quarantined)} quarantined failure(s) do not gate")
    return dataclasses.replace(base, reason=note)


def _not_run(case: Case, base: CheckResult, nodeid: str, reason: str) -> CheckResult:
    """Nothing ran: a SKIP, or a failure with its cause when STRICT or READINESS_EXPECT requires it."""
    if not case.rules.required:
        return dataclasses.replace(base, status=Status.SKIPPED, reason=reason)
    return _failed(base, reason, Cause(nodeid, "", f"required (STRICT / READINESS_EXPECT) but skipped: {reason}"))


def _failed(base: CheckResult, reason: str, cause: Cause) -> CheckResult:
    return dataclasses.replace(base, status=Status.FAILED, reason=reason, cause=cause)


def _error(base: CheckResult, reason: str, cause: Cause) -> CheckResult:
    return dataclasses.replace(base, status=Status.ERROR, reason=reason, cause=cause)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "(no output)"


def ready(checks: Iterable[CheckResult], *, narrowed: bool = False) -> bool:
    """READY: every check passed, or skipped without being required; and at least one check ran.
    ``narrowed`` (`bed run -- ARGS`): and at least one test ran, so a selection that selects
    nothing anywhere (a typo in ``-k``) is never READY."""
    checks = tuple(checks)
    return bool(checks) and all(
        c.status is Status.PASSED or (c.status is Status.SKIPPED and not c.required) for c in checks) and (
        not narrowed or any(c.tests for c in checks))
