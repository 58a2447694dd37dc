"""The shim against a bare ASGI hello app, on the same server stack in the same image, 1 CPU each."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Mapping
from typing import Any

from ..config.settings import Config
from ..console import Console
from ..engine.protocol import ContainerSpec, Engine
from ..errors import StackError
from ..images.build import Recipe, ensure_images
from ..stack.owner import Stack
from ..stack.services import SHIM, VENV_PYTHON
from . import load
from .common import out_dir

CHAT = json.dumps({"model": "codex-agent-1", "messages": [{"role": "user", "content": "bench"}]}).encode()
# The shim image's own server command, for either app (0.0.0.0 inside the container only).
UVICORN = (VENV_PYTHON, "-m", "uvicorn", "--host", "0.0.0.0", "--port", "8788",  # noqa: S104
           "--no-access-log", "--loop", "uvloop", "--http", "httptools")


def bench_shim(config: Config, environ: Mapping[str, str], engine: Engine, console: Console, seconds: float,
               concurrency: int, rounds: int = 2) -> dict[str, Any]:
    images = ensure_images(engine, Recipe(config.base_image, config.ca_bundle), console)
    results: dict[str, list[dict[str, float]]] = {"hello": [], "shim": []}
    apps = {"hello": ("bed_shim._hello:app",), "shim": ("bed_shim.app:create_app", "--factory")}
    with Stack(engine, config.run_id, Console(out=io.StringIO())) as stack:
        for r in range(rounds):  # alternate, so drift on the machine hits both alike
            for name, app in apps.items():
                spec = ContainerSpec(name="", image=images["shim"].tag, labels={}, command=(*UVICORN, *app),
                                     network="bridge", publish={SHIM.port: None}, nano_cpus=1_000_000_000)
                service = stack.start(f"bench-{name}-{r}", "bench", spec)
                url = f"http://127.0.0.1:{engine.published_port(service.id, SHIM.port)}/v1/chat/completions"
                warm(url, CHAT)
                outcome = load.load(url, CHAT, concurrency=concurrency, seconds=seconds)
                engine.remove(service.id)
                results[name].append(outcome.summary())
                console.step(f"{name:5} round {r + 1}: {outcome.rps:8.0f} req/s  p50 {outcome.percentile(50):.2f} ms "
                             f"p99 {outcome.percentile(99):.2f} ms  errors {outcome.errors}")
    best = {n: max(rows, key=lambda row: row["rps"]) for n, rows in results.items()}
    ratio = round(best["shim"]["rps"] / best["hello"]["rps"], 3)
    report = {"seconds": seconds, "concurrency": concurrency, "cpus_per_server": 1.0, "rounds": results,
              "best": best, "ratio_shim_over_hello": ratio}
    console.plain(f"shim / bare ASGI hello (best of {rounds}, 1 CPU each, {concurrency} connections): {ratio:.2f}x")
    (out_dir(config) / "shim.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def warm(url: str, body: bytes, headers: dict[str, str] | None = None, budget_s: float = 30) -> None:
    """Until the server answers 2xx, then a short warm-up load; a server that never answers is an error."""
    deadline = time.monotonic() + budget_s
    while time.monotonic() < deadline:
        try:
            if load.load(url, body, concurrency=1, seconds=0.2, max_requests=1, headers=headers).requests:
                load.load(url, body, concurrency=4, seconds=0.5, headers=headers)
                return
        except (OSError, EOFError):  # refused, or closed mid-answer: not serving yet
            pass
        time.sleep(0.05)
    raise StackError(f"{url} never answered 2xx within {budget_s:g} s.", hint="read the container's log.")
