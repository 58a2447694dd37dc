"""Finding and removing what runs left behind: `bed down` (one run's stack: this folder's kept one) and
`bed gc` (runs that are provably dead, see ``bed.policy.gc``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import tenacity

from ..engine.labels import KEEP, PROJECT, RUN, Identity, here, process_started
from ..engine.protocol import Engine
from ..policy import gc

SWEEPS = 3  # a killed process may leave a create request the engine completes a moment later
SWEEP_PAUSE_S = 0.5
Doomed = Callable[[Mapping[str, str]], bool]


def down(engine: Engine, run_id: str) -> dict[str, int]:
    """One run's stack, whatever its kind (a kept stack is one run)."""
    return remove(engine, lambda labels: labels.get(RUN) == run_id, {RUN: run_id})


def kept_runs(engine: Engine) -> list[str]:
    """The runs whose stacks `bed up` keeps on this engine, from any folder."""
    return sorted({c.labels.get(RUN, "") for c in engine.containers({PROJECT: "bed", KEEP: "1"})} - {""})


def collect(engine: Engine, *, kept_too: bool, identity: Identity | None = None,
            started_of: gc.StartedOf = process_started) -> dict[str, int]:
    """Runs whose creating process is provably gone (and kept stacks with ``kept_too``)."""
    me = identity or here()
    return remove(engine, lambda labels: gc.sweepable(labels, me, started_of, kept_too=kept_too), {})


def remove(engine: Engine, doomed: Doomed, selector: Mapping[str, str]) -> dict[str, int]:
    """Remove whole runs: every container and network of a run one of whose resources is doomed.

    It sweeps again (at most SWEEPS passes, SWEEP_PAUSE_S apart: tenacity) until a pass finds
    nothing more of the runs it removes.
    """
    labels = {PROJECT: "bed", **selector}
    removed = {"containers": 0, "networks": 0}
    runs: set[str] = set()

    def sweep() -> int:
        containers = engine.containers(labels)
        networks = engine.networks(labels)
        runs.update(c.labels.get(RUN, "") for c in containers if doomed(c.labels))
        runs.update(n.labels.get(RUN, "") for n in networks if doomed(n.labels))
        gone = sum(engine.remove(c.id) for c in containers if c.labels.get(RUN, "") in runs)
        nets = sum(engine.remove_network(n.name) for n in networks if n.labels.get(RUN, "") in runs)
        removed["containers"] += gone
        removed["networks"] += nets
        return gone + nets

    tenacity.Retrying(retry=tenacity.retry_if_result(lambda found: found > 0),
                      stop=tenacity.stop_after_attempt(SWEEPS), wait=tenacity.wait_fixed(SWEEP_PAUSE_S),
                      retry_error_callback=lambda _: 0)(sweep)
    return removed
