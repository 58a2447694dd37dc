"""What the benchmarks share: the output folder, summary statistics, and bare service boots."""

from __future__ import annotations

import dataclasses
import statistics
import threading
import time
from pathlib import Path

from ..config.settings import Config
from ..engine.protocol import ContainerSpec, ExecResult
from ..images.build import ImageRef
from ..model.containers import VENV_PYTHON
from ..stack import wait
from ..stack.owner import Service, Stack
from ..stack.services import IDLE, PROBE_ALIAS, ServiceSpec


def out_dir(config: Config) -> Path:
    path = config.artifacts_dir.parent / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stats(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 2), "median": round(statistics.median(values), 2), "max": round(max(values), 2)}


def probe(stack: Stack, images: dict[str, ImageRef]) -> Service:
    assert stack.network is not None
    spec = ContainerSpec(name="", image=images["python"].tag, labels={}, command=IDLE, network=stack.network,
                         aliases=(PROBE_ALIAS,), memory="64m")
    return stack.start("probe", "probe", spec)


def bare_boot(stack: Stack, prober: Service, spec: ServiceSpec, container: ContainerSpec, budget_s: float) -> float:
    """Seconds from start to healthy of one service alone; a service that never serves is an error,
    never a number."""
    started = time.monotonic()
    service = stack.start(f"floor-{spec.alias}", "floor", dataclasses.replace(container, aliases=(spec.alias,)))

    def from_network(url: str, seconds: float) -> ExecResult:
        return stack.engine.exec(prober.id, wait.probe_argv(VENV_PYTHON, url, seconds))

    wait.wait_healthy(service, from_network, spec.network_url(spec.health), budget_s, cancel=threading.Event())
    took = time.monotonic() - started
    stack.engine.remove(service.id)
    return took
