"""Each shim surface against a bare ASGI hello app, on the same server stack in the same image, 1 CPU each."""

from __future__ import annotations

import io
import json
import statistics
from collections.abc import Mapping
from typing import Any

from .. import loopback
from ..config.settings import Config
from ..console import Console
from ..engine.protocol import ContainerSpec, Engine
from ..errors import StackError
from ..images.build import Recipe, ensure_images
from ..model.containers import VENV_PYTHON
from ..stack.owner import Stack
from ..stack.services import SHIM
from . import load
from .common import out_dir

CHAT = json.dumps({"model": "codex-agent-1", "messages": [{"role": "user", "content": "bench"}]}).encode()
# What `bed bench shim` sends to each surface of the shim (plain): path, body, headers.
SURFACES: dict[str, tuple[str, bytes, dict[str, str]]] = {
    "chat": ("/v1/chat/completions", CHAT, {}),
    "responses": ("/v1/responses", json.dumps({"model": "codex-agent-1", "input": "bench"}).encode(), {}),
    "messages": ("/v1/messages", json.dumps({"model": "codex-agent-1", "max_tokens": 64,
                                             "messages": [{"role": "user", "content": "bench"}]}).encode(),
                 {"anthropic-version": "2023-06-01"}),
}
# The shim image's own server command, for either app (0.0.0.0 inside the container only).
UVICORN = (VENV_PYTHON, "-m", "uvicorn", "--host", "0.0.0.0", "--port", "8788",  # noqa: S104
           "--no-access-log", "--loop", "uvloop", "--http", "httptools")


def bench_shim(config: Config, environ: Mapping[str, str], engine: Engine, console: Console, seconds: float,
               concurrency: int, rounds: int = 3) -> dict[str, Any]:
    """Each surface of the shim back to back with the bare hello (both servers up at once), so drift
    on the machine hits both alike; the median ratio over ``rounds`` pairs, per surface."""
    images = ensure_images(engine, Recipe.of(config), console)
    results: dict[str, list[dict[str, float]]] = {f"{n} {s}": [] for s in SURFACES for n in ("hello", "shim")}
    pairs: dict[str, list[float]] = {s: [] for s in SURFACES}
    apps = {"hello": ("bed_shim._hello:app",), "shim": ("bed_shim.app:create_app", "--factory")}
    with Stack(engine, config.run_id, Console(out=io.StringIO())) as stack:
        ports = {}
        for name, app in apps.items():
            spec = ContainerSpec(name="", image=images["shim"].tag, labels={}, command=(*UVICORN, *app),
                                 network="bridge", publish={SHIM.port: None}, nano_cpus=1_000_000_000)
            ports[name] = engine.published_port(stack.start(f"bench-{name}", "bench", spec).id, SHIM.port)
        for r in range(rounds):
            for surface, (path, body, headers) in SURFACES.items():
                rps = {}
                for name, port in ports.items():
                    url = f"http://127.0.0.1:{port}{path}"
                    warm(url, body, headers)
                    outcome = load.load(url, body, concurrency=concurrency, seconds=seconds, headers=headers)
                    results[f"{name} {surface}"].append(outcome.summary())
                    rps[name] = outcome.rps
                    console.step(f"{name:5} {surface:9} round {r + 1}: {outcome.rps:8.0f} req/s  "
                                 f"p50 {outcome.percentile(50):.2f} ms p99 {outcome.percentile(99):.2f} ms  "
                                 f"errors {outcome.errors}")
                pairs[surface].append(rps["shim"] / rps["hello"] if rps["hello"] else 0.0)
    ratios = {s: round(statistics.median(values), 3) for s, values in pairs.items()}
    report = {"seconds": seconds, "concurrency": concurrency, "cpus_per_server": 1.0, "rounds": results,
              "ratios": ratios, "ratio_shim_over_hello": min(ratios.values())}
    for surface, ratio in ratios.items():
        console.plain(f"shim {surface} / bare ASGI hello (median of {rounds} back-to-back pairs, 1 CPU each, "
                      f"{concurrency} connections): {ratio:.2f}x")
    (out_dir(config) / "shim.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def warm(url: str, body: bytes, headers: dict[str, str] | None = None, budget_s: float = 30) -> None:
    """Until the server answers 2xx, then a short warm-up load; a server that never answers is an error."""
    if not loopback.answers(url, budget_s=budget_s, method="POST", body=body,
                            headers={"content-type": "application/json", **(headers or {})}):
        raise StackError(f"{url} never answered 2xx within {budget_s:g} s.", hint="read the container's log.")
    load.load(url, body, concurrency=4, seconds=0.5, headers=headers)
