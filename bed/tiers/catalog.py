"""The tiers bed runs, and what each one's check must satisfy.

    deterministic -> check all_smokes_core   no network at all; any skip is a failure
    nd            -> check all_smokes_nd     runner -> proxy -> shim on the bed network
    agents        -> check agent_clients     the real agent CLIs -> proxy -> shim
    release       -> check release_smokes    live providers; only with LIVE_PROVIDERS=1 (and
                                             then networked); otherwise it runs with no network
                                             and every smoke is a SKIP naming what is missing
    census        -> check census            a project's suite, collected by plain pytest before
                                             any tier selects from it (no test runs)
"""

from __future__ import annotations

import dataclasses
import shlex

from ..config.settings import Config
from ..policy import budgets, verdict


@dataclasses.dataclass(frozen=True)
class Tier:
    name: str
    check: str
    folder: str
    networked: bool
    needs: tuple[str, ...]
    hermetic: bool = False  # any skip fails it
    image: str = "runner"  # the image its runner is made from


# A project's suite, collected the way plain pytest sees it, before any tier selects from it: the
# census every collected test is accounted against (``bed.policy.census``). No network; it runs no test.
CENSUS = Tier("census", "census", ".", networked=False, needs=(), hermetic=True)
TIERS = {
    "deterministic": Tier("deterministic", "all_smokes_core", "deterministic", networked=False, needs=(),
                          hermetic=True),
    "nd": Tier("nd", "all_smokes_nd", "nd", networked=True, needs=("shim", "proxy")),
    "agents": Tier("agents", "agent_clients", "agents", networked=True, needs=("shim", "proxy"), image="agents"),
    "release": Tier("release", "release_smokes", "release", networked=True, needs=()),
}


def required(tier: Tier, config: Config) -> bool:
    return verdict.required(tier.name, tier.needs, strict=config.strict, expect=config.expect)


def rules(tier: Tier, config: Config) -> verdict.Rules:
    return verdict.Rules(
        check=check_name(tier, config), tier=tier.name, required=required(tier, config), hermetic=tier.hermetic,
        shard=tier.name == "nd" and config.shard is not None, suite=config.suite is not None,
        budget_s=budget(tier, config), memory=budgets.runner_memory(tier.name, config.runner_memory),
        narrowed=shlex.join(config.pytest_args))


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
