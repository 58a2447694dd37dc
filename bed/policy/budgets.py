"""How long things may take: each tier's budget, and the workers a runner gets."""

from __future__ import annotations

DETERMINISTIC_S = 600.0  # the seed's rule: the deterministic tier finishes within 600 s


SERVED = ("nd", "agents")  # the tiers through the proxy and the shim: ALL_SMOKES_ND_TIMEOUT bounds each


def tier_budget(tier: str, *, disabled: bool, nd_budget_s: float) -> float | None:
    """None: no budget (READINESS_DISABLE_TIMEOUT=1). Health waits stay bounded either way."""
    if disabled:
        return None
    return nd_budget_s if tier in SERVED else DETERMINISTIC_S


def workers(requested: int | None, cpus: int, *, live: bool = False, live_minimum: int = 2) -> tuple[int | None, bool]:
    """The pytest-xdist workers a runner gets, and whether the request was capped at the cores.

    Live release smokes wait on remote APIs, not on the CPU, so they get a small minimum.
    """
    capped = requested is not None and requested > cpus
    count = min(requested, cpus) if requested is not None else None
    if live:
        count = max(count or 0, live_minimum)
    return count, capped


# On a kept stack's warm runner a part costs a fork, not an interpreter: the served tiers, whose
# tests mostly wait on the proxy (retries, timeouts, agent turns), run in parts at once.
# `bed bench reuse` on two cores, best of 3 (full gate): one part each 6.03 s; ND in 2 parts 5.17 s;
# both in 2 parts 4.78 s; both in 3 parts 5.57 s; both in 4 parts 6.08 s; ND in 3 and the agents
# in 2 parts 4.79 s, and 3.26 s without the agents tier (2 parts: 3.86 s). Past that, CPU is the limit.
WARM_PARTS = {"nd": 3, "agents": 2}


def parts(tier: str, *, warm: bool, rerun: bool, sharded: bool) -> int:
    """How many sessions a tier runs as: one, unless it is served, warm, a whole tier and not a CI shard."""
    return WARM_PARTS.get(tier, 1) if warm and not rerun and not sharded else 1
