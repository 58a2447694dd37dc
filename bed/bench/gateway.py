"""The LiteLLM proxy's overhead over the shim: latency percentiles and throughput, plain and streamed.

gateway.md holds the table and its charts as Mermaid blocks (bed/report/mermaid.py), which
GitHub and GitLab draw: no plotting library needed.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from ..config import router as _router
from ..config.settings import Config
from ..console import Console
from ..engine.protocol import Engine
from ..images.build import Recipe, ensure_images
from ..pipeline.stages.prepare import new_master_key
from ..report import mermaid
from ..stack.bringup import Plan, bring_up
from ..stack.owner import Stack
from ..stack.services import PROXY, SHIM
from . import load
from .common import out_dir
from .shim import CHAT, warm

STREAMED = json.dumps({"model": "codex-agent-1", "stream": True,
                       "messages": [{"role": "user", "content": "bench"}]}).encode()


def bench_gateway(config: Config, environ: Mapping[str, str], engine: Engine, console: Console, seconds: float,
                  levels: tuple[int, ...]) -> dict[str, Any]:
    images = ensure_images(engine, Recipe.of(config), console)
    key = new_master_key()
    console.redact.add(key)
    router = _router.plan(None, config.group, config.bases.network, strict=True)
    table: list[dict[str, Any]] = []

    def record(path: str, mode: str, level: int, result: load.LoadResult) -> None:
        table.append({"path": path, "mode": mode, "concurrency": level, **result.summary()})
        console.step(f"{path:6} {mode:8} c={level:<3} {result.rps:8.1f} req/s p50 {result.percentile(50):7.2f} "
                     f"p95 {result.percentile(95):7.2f} p99 {result.percentile(99):7.2f} ms  errors {result.errors}")

    with Stack(engine, config.run_id, Console(out=io.StringIO(), redact=console.redact)) as stack:
        stack.create_network()
        services = bring_up(stack, Plan.of(config, images, router, key, publish=True))
        shim_port = engine.published_port(services.shim.id, SHIM.port)
        proxy_port = engine.published_port(services.proxy.id, PROXY.port)
        targets = {"direct": (f"http://127.0.0.1:{shim_port}/v1/chat/completions", {}),
                   "proxy": (f"http://127.0.0.1:{proxy_port}/v1/chat/completions", {"Authorization": f"Bearer {key}"})}
        for path, (url, headers) in targets.items():
            warm(url, CHAT, headers)
            for level in levels:
                record(path, "plain", level, load.load(url, CHAT, concurrency=level, seconds=seconds, headers=headers))
            record(path, "streamed", levels[0], load.load(url, STREAMED, concurrency=levels[0], seconds=seconds,
                                                          headers=headers))
    out = out_dir(config)
    markdown = _markdown(table)
    (out / "gateway.md").write_text(markdown)
    (out / "gateway.json").write_text(json.dumps(table, indent=2) + "\n")
    console.plain(markdown)
    console.plain(f"wrote {out / 'gateway.md'}, gateway.json")
    return {"table": table}


def _markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| path | mode | concurrency | req/s | p50 ms | p95 ms | p99 ms | requests | errors |",
             "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['path']} | {r['mode']} | {r['concurrency']} | {r['rps']} | {r['p50_ms']} | {r['p95_ms']} | "
              f"{r['p99_ms']} | {r['requests']} | {r['errors']} |" for r in rows]
    return "\n".join([*lines, "", *_charts(rows)]) + "\n"


def _charts(rows: list[dict[str, Any]]) -> list[str]:
    """p50, p99 and throughput per path, mode and concurrency, as Mermaid bar charts."""
    out: list[str] = []
    for key, title, unit in (("p50_ms", "p50 latency (ms)", "ms"), ("p99_ms", "p99 latency (ms)", "ms"),
                             ("rps", "throughput (req/s)", "req/s")):
        bars = [(f"{r['path']} {r['mode']} c={r['concurrency']}", float(r[key])) for r in rows if r["requests"]]
        block = mermaid.bar_chart(title, unit, bars)
        out += [*block, ""] if block else []
    return out
