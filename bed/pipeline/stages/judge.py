"""The judge stage: policy turns each tier's evidence into a check (flakes and quarantine applied),
the census accounts for every collected test, and the checks make the verdict. Pure: it reads the
outcomes and the flake book and returns a new book; nothing here prints or writes a file.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping

from ...config.settings import Config
from ...errors import BedError
from ...model.census import Account
from ...model.quarantine import Book
from ...model.results import Cause, CheckResult, Status
from ...policy import census, flakes, quarantine, verdict
from ...tiers import catalog
from .tiers import Outcome, TierOutcomes

SETUP = "setup"  # the check of a run that ended before its tiers could be judged


@dataclasses.dataclass(frozen=True)
class Verdict:
    checks: tuple[CheckResult, ...]  # in the tiers' order, the census last
    book: Book  # the flake book after this run
    account: Account | None = None  # what became of each collected test
    quarantined: tuple[str, ...] = ()  # newly quarantined this run
    repromoted: tuple[str, ...] = ()  # out of quarantine after enough clean runs
    narrowed: bool = False  # `bed run -- ARGS`: the user narrowed the run's selection

    @property
    def ready(self) -> bool:
        return verdict.ready(self.checks, narrowed=self.narrowed)


def judge(config: Config, book: Book, tiers: TierOutcomes, now: datetime.datetime) -> Verdict:
    book = book.copy()
    checks: list[CheckResult] = []
    newly: list[str] = []
    back: list[str] = []
    for name, outcome in tiers.outcomes.items():
        check = _judge_one(config, book, catalog.TIERS[name], outcome, tiers.proxy_tail)
        checks.append(check)
        first = outcome.first
        if first.down is None and flakes.trustworthy(first.evidence):
            still = [n for n in first.evidence.failed if n not in check.flaky]
            changes = quarantine.record(book, check.name, flaky=sorted(check.flaky), failed=still,
                                        passed=first.evidence.passed, now=now, repromote_after=config.repromote_after)
            newly += changes.quarantined
            back += changes.repromoted
    account, census_check = _census(config, tiers, {c.tier: c for c in checks})
    order = list(catalog.TIERS)
    checks.sort(key=lambda c: order.index(c.tier))
    return Verdict((*checks, census_check), book, account, tuple(newly), tuple(back), bool(config.pytest_args))


def _judge_one(config: Config, book: Book, tier: catalog.Tier, outcome: Outcome, proxy_tail: str) -> CheckResult:
    first, rerun = outcome.first, outcome.rerun
    evidence = first.evidence
    again = rerun.evidence if rerun is not None and rerun.down is None else None
    flaky = flakes.flaky(first.asked or evidence.failed, again) & set(evidence.failed)
    held = frozenset(n for n in evidence.failed if n not in flaky and book.is_quarantined(n))
    check = verdict.judge(verdict.Case(catalog.rules(tier, config), first.ending(), evidence, flaky, held))
    if check.cause is not None and not check.cause.log_tail and proxy_tail and catalog.served(tier, config):
        # A test that failed through the gateway: what the proxy said is the first thing to read.
        check = dataclasses.replace(check, cause=dataclasses.replace(check.cause, log_tail=proxy_tail))
    return check


def _census(config: Config, tiers: TierOutcomes, by_tier: Mapping[str, CheckResult]) -> tuple[Account, CheckResult]:
    """Every collected test accounted for: against the census session (a project's suite), or
    against each tier session's own collection (bed's tiers)."""
    sessions = {name: census.Session(name, o.first.evidence, frozenset(by_tier[name].flaky) if name in by_tier
                                     else frozenset())
                for name, o in tiers.outcomes.items()}
    reference = None
    if tiers.census is not None:
        rules = verdict.Rules(census.CHECK, census.TIER, required=True, budget_s=catalog.budget(catalog.CENSUS, config),
                              memory=config.runner_memory)
        broken = verdict.health(verdict.Case(rules, tiers.census.ending(), tiers.census.evidence))
        if broken is not None:
            return Account(0, ()), broken
        reference = tiers.census.evidence.census or ()
    account = census.account(reference, sessions, suite=config.suite is not None, run_tiers=config.tiers)
    failed = any(c.status in (Status.FAILED, Status.ERROR) for c in by_tier.values())
    return account, census.judge(account, strict=config.strict, tiers_failed=failed)


def setup_failed(stage: str, error: BedError, book: Book) -> Verdict:
    """A run that ended before its tiers could be judged (an image that would not build, a gateway
    that never became healthy): NOT READY, with the error as its cause."""
    message = error.line()
    check = CheckResult(name=SETUP, tier=SETUP, status=Status.ERROR, duration_s=0.0, required=True,
                        reason=f"the run ended in its {stage} stage: {error.kind}",
                        cause=Cause(f"bed {stage}", "", message, error.details))
    return Verdict((check,), book)
