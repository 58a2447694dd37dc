"""Splitting a tier into N balanced shards, by recorded durations when there are some.

Dependency-free on purpose: the runner image carries a copy as ``bed_shards`` and the
tiers' conftest uses it to select its part, so bed and the runner split identically.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping

DEFAULT_S = 1.0


def parse(spec: str) -> tuple[int, int]:
    """``"2/3"`` -> ``(2, 3)``; ValueError with a readable message otherwise."""
    index, sep, total = spec.partition("/")
    if not sep or not index.strip().isdigit() or not total.strip().isdigit():
        raise ValueError(f"shard {spec!r} is not I/N (for example 1/2)")
    i, n = int(index), int(total)
    if not 1 <= i <= n:
        raise ValueError(f"shard {spec!r}: I must be between 1 and N")
    return i, n


def partition(nodeids: Iterable[str], total: int, durations: Mapping[str, float]) -> list[list[str]]:
    """Longest-first greedy split into ``total`` parts of near-equal expected time.

    Deterministic: the same ids and durations always give the same parts, on every machine.
    Tests without a recorded duration count as the median of the known ones.
    """
    ids = sorted(set(nodeids))
    known = [d for d in (durations.get(i) for i in ids) if d is not None and d >= 0]
    default = statistics.median(known) if known else DEFAULT_S
    cost = {i: durations.get(i, default) for i in ids}
    parts: list[list[str]] = [[] for _ in range(total)]
    loads = [0.0] * total
    for nodeid in sorted(ids, key=lambda i: (-cost[i], i)):
        k = min(range(total), key=lambda j: (loads[j], j))
        parts[k].append(nodeid)
        loads[k] += cost[nodeid]
    return [sorted(p) for p in parts]
