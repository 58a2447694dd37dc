"""How long things may take: each tier's budget, and the workers a runner gets."""

from __future__ import annotations

DETERMINISTIC_S = 600.0  # the seed's rule: the deterministic tier finishes within 600 s


SERVED = ("nd", "agents")  # the tiers through the proxy and the shim: ALL_SMOKES_ND_TIMEOUT bounds each


def tier_budget(tier: str, *, disabled: bool, nd_budget_s: float) -> float | None:
    """None: no budget (READINESS_DISABLE_TIMEOUT=1). Health waits stay bounded either way."""
    if disabled:
        return None
    return nd_budget_s if tier in SERVED else DETERMINISTIC_S


# The agents tier runs up to three agent clients at once (its turns run side by side), up to about
# 650 MB each (OpenCode; node-based Gemini CLI and Qwen Code 300-400 MB, sizing their heap from the
# host's memory, not the container's): under 2g the runner was OOM-killed mid-turn.
AGENTS_MEMORY = "4g"
_UNITS = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def runner_memory(tier: str, configured: str) -> str:
    """A runner's memory limit: BED_RUNNER_MEMORY, but at least AGENTS_MEMORY for the agents tier."""
    if tier == "agents" and _bytes(configured) < _bytes(AGENTS_MEMORY):
        return AGENTS_MEMORY
    return configured


def _bytes(size: str) -> int:
    """A docker memory size ("512m", "2g", "1024") in bytes; an unreadable one counts as 0."""
    text = size.strip().lower()
    unit = _UNITS.get(text[-1:], 1) if text else 1
    digits = text.rstrip("bkmg")
    return int(digits) * unit if digits.isdigit() else 0


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
# tests mostly wait on the proxy (retries, timeouts), run in parts at once. `bed bench reuse` on two
# cores, best of 3 (full gate), 2026-12-03: one part each 6.03 s; ND in 2 parts 5.17 s; both in 2
# parts 4.78 s; both in 3 parts 5.57 s; ND in 3 and the agents in 2 parts 4.79 s. 2026-12-04, the
# agents tier at 4 turns (no control turns when green) and 40% less ND CPU (one TLS context a
# session), which made the agents' part the longest path: ND 3 + agents 2 3.15-3.29 s; ND 4 +
# agents 2 3.34-3.40; ND 4 + agents 1 3.08-3.14; ND 3 + agents 1 2.93-3.03 s. An agent turn is a CLI
# process of its own, CPU-bound: a second agents part only adds a session and contention.
WARM_PARTS = {"nd": 3, "agents": 1}


def parts(tier: str, *, warm: bool, rerun: bool, sharded: bool) -> int:
    """How many sessions a tier runs as: one, unless it is served, warm, a whole tier and not a CI shard."""
    return WARM_PARTS.get(tier, 1) if warm and not rerun and not sharded else 1
