"""`bed bench`: where the time goes, measured against the floor in the same run.

    bed bench            the warm core gate N times (the whole `make` target, venv check and
                         reports included), phase by phase, against its floor:
                         max(proxy bare boot, shim bare boot, deterministic tier run directly)
                         + the ND tier run directly in the runner image
    bed bench shim       each shim surface (chat, Responses, Messages; plain) back to back with a
                         bare ASGI hello app on the same server stack (uvicorn + uvloop +
                         httptools), same image: the median ratio per surface
    bed bench gateway    LiteLLM proxy overhead over the shim: latency percentiles, plain and
                         streamed, and requests per second at a few concurrency levels

Every load targets loopback only and is bounded in time and count. Results are written
as JSON (and Markdown, and a PNG for the gateway) under local/artifacts/bench/.
"""

from __future__ import annotations

import asyncio
import io
import json
import statistics
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import docker
import httpx

from . import _load, _router, _run, _tiers
from ._config import Config
from ._console import Console
from ._engine import connect
from ._images import ImageRef, ensure_images
from ._results import RunResult
from ._services import PROXY, ROUTER_PATH, SHIM
from ._stack import Stack

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
UVICORN = ["/opt/venv/bin/python", "-m", "uvicorn", "--host", "0.0.0.0", "--port", "8788",  # noqa: S104
           "--no-access-log", "--loop", "uvloop", "--http", "httptools"]


def _out_dir(config: Config) -> Path:
    path = config.artifacts_dir.parent / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stats(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 2), "median": round(statistics.median(values), 2), "max": round(max(values), 2)}


# --- the core gate against its floor ---------------------------------------------------------


def bench_core(config: Config, environ: Mapping[str, str], console: Console, runs: int) -> dict[str, Any]:
    client = connect(environ)
    mark = time.monotonic()
    images = ensure_images(client, config, console)
    image_check = time.monotonic() - mark
    phases: dict[str, list[float]] = {}
    make = ["make", "-s", "-C", str(config.source), "project-ready-core-only-with-docker"]
    report_path = Config.from_env(environ, root=config.source).report_path  # where that make run reports
    for i in range(runs):
        started = time.monotonic()
        done = subprocess.run(make, env=dict(environ), stdin=subprocess.DEVNULL, capture_output=True, check=False)
        wall = time.monotonic() - started
        result = RunResult.from_dict(json.loads(report_path.read_text()))
        console.step(f"run {i + 1}/{runs}: {result.verdict} (exit {done.returncode}) in {wall:.2f} s")
        for key, value in {**result.timings, "wall (make)": wall}.items():
            phases.setdefault(key, []).append(value)
        for check in result.checks:
            phases.setdefault(f"tier {check.name}", []).append(check.duration_s)
    floor = _floor(client, config, images, console)
    bed_median = statistics.median(phases["wall (make)"])
    report: dict[str, Any] = {"runs": runs, "image_check_s": round(image_check, 3),
              "phases": {k: _stats(v) for k, v in sorted(phases.items())}, "floor": floor,
              "ratio": round(bed_median / floor["floor_s"], 3)}
    console.plain(f"{'phase':28} {'min':>7} {'median':>7} {'max':>7}")
    for key, row in report["phases"].items():
        console.plain(f"{key:28} {row['min']:7.2f} {row['median']:7.2f} {row['max']:7.2f}")
    console.plain(f"floor: {floor['floor_s']:.2f} s = max(proxy bare {floor['proxy_bare_s']:.2f}, shim bare "
                  f"{floor['shim_bare_s']:.2f}, deterministic direct {floor['deterministic_direct_s']:.2f}) "
                  f"+ ND direct {floor['nd_direct_s']:.2f}")
    console.plain(f"bed (median make wall) {bed_median:.2f} s / floor {floor['floor_s']:.2f} s = "
                  f"{report['ratio']:.2f}x")
    (_out_dir(config) / "core.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def _floor(client: docker.DockerClient, config: Config, images: dict[str, ImageRef],
           console: Console) -> dict[str, float]:
    """The same work without bed: bare containers and the tiers run straight in the runner."""
    key = _run.new_master_key()
    console.redact.add(key)
    router = _router.plan(None, config.group, config.bases.network, strict=True)
    quiet = Console(out=io.StringIO(), redact=console.redact)
    ctx = _tiers.Context(config=config, master_key=key, router_yaml=router.text, environ={})
    with Stack(client, config, images, quiet, key) as stack:
        stack.create_network()
        shim_s = _bare_boot(stack, "floor-shim", images["shim"].tag, SHIM.port, SHIM.health, {}, [])
        proxy_s = _bare_boot(stack, "floor-proxy", images["litellm"].tag, PROXY.port, PROXY.health,
                             {"LITELLM_MASTER_KEY": key, **dict(PROXY.env)}, [(router.text.encode(), ROUTER_PATH)])
        det_s = _direct(stack, _tiers.TIERS["deterministic"], ctx)
        stack.start_services(router.text)
        nd_s = _direct(stack, _tiers.TIERS["nd"], ctx)
    return {"proxy_bare_s": round(proxy_s, 2), "shim_bare_s": round(shim_s, 2),
            "deterministic_direct_s": round(det_s, 2), "nd_direct_s": round(nd_s, 2),
            "floor_s": round(max(proxy_s, shim_s, det_s) + nd_s, 2)}


def _bare_boot(stack: Stack, name: str, image: str, port: int, health: str, env: dict[str, str],
               files: list[tuple[bytes, str]]) -> float:
    started = time.monotonic()
    service = stack.start(name, "floor", image, env=env, ports={port: None}, files=files)
    url = service.url(port, health)
    with httpx.Client(timeout=1) as http:
        while time.monotonic() - started < 120:
            try:
                if http.get(url).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.02)
    took = time.monotonic() - started
    service.raw.remove(force=True)
    return took


def _direct(stack: Stack, tier: _tiers.Tier, ctx: _tiers.Context) -> float:
    started = time.monotonic()
    service = stack.start_runner(f"floor-{tier.name}", _tiers.argv(tier, ctx), _tiers.env(tier, ctx),
                                 networked=_tiers.networked(tier, ctx.config))
    service.raw.wait(timeout=600)
    return time.monotonic() - started


# --- the shim against a bare ASGI app ----------------------------------------------------------


def bench_shim(config: Config, environ: Mapping[str, str], console: Console, seconds: float,
               concurrency: int, rounds: int = 3) -> dict[str, Any]:
    client = connect(environ)
    images = ensure_images(client, config, console)
    results: dict[str, list[dict[str, float]]] = {f"{n} {s}": [] for s in SURFACES for n in ("hello", "shim")}
    pairs: dict[str, list[float]] = {s: [] for s in SURFACES}
    apps = {"hello": ["bed_shim._hello:app"], "shim": ["bed_shim.app:create_app", "--factory"]}
    with Stack(client, config, images, Console(out=io.StringIO()), "unused-key") as stack:
        stack.create_network()
        servers = {name: stack.start(f"bench-{name}", "bench", images["shim"].tag, env={}, ports={SHIM.port: None},
                                     command=[*UVICORN, *app], cpus=1.0) for name, app in apps.items()}
        for r in range(rounds):
            for surface, (path, body, headers) in SURFACES.items():
                rps = {}
                for name, server in servers.items():  # back to back, so drift on the machine hits both alike
                    url = server.url(SHIM.port, path)
                    _warm(url, body, headers)
                    outcome = _load.load(url, body, concurrency=concurrency, seconds=seconds, headers=headers)
                    results[f"{name} {surface}"].append(outcome.summary())
                    rps[name] = outcome.rps
                    console.step(f"{name:5} {surface:9} round {r + 1}: {outcome.rps:8.0f} req/s  "
                                 f"p50 {outcome.percentile(50):.2f} ms p99 {outcome.percentile(99):.2f} ms  "
                                 f"errors {outcome.errors}")
                pairs[surface].append(rps["shim"] / rps["hello"])
        for server in servers.values():
            server.raw.remove(force=True)
    ratios = {s: round(statistics.median(values), 3) for s, values in pairs.items()}
    report = {"seconds": seconds, "concurrency": concurrency, "cpus_per_server": 1.0, "rounds": results,
              "ratios": ratios, "ratio_shim_over_hello": min(ratios.values())}
    for surface, ratio in ratios.items():
        console.plain(f"shim {surface} / bare ASGI hello (median of {rounds} back-to-back pairs, 1 CPU each, "
                      f"{concurrency} connections): {ratio:.2f}x")
    (_out_dir(config) / "shim.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def _warm(url: str, body: bytes, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.post(url, content=body, headers=headers, timeout=1).status_code == 200:
                _load.load(url, body, concurrency=4, seconds=0.5, headers=headers)
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} never answered")


# --- the gateway's overhead ------------------------------------------------------------------------


async def _streamed(url: str, headers: dict[str, str], concurrency: int, seconds: float) -> _load.LoadResult:
    """Streamed completions (chunked SSE) through httpx: each latency is to the last byte."""
    body = {"model": "codex-agent-1", "stream": True, "messages": [{"role": "user", "content": "bench"}]}
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as http:

        async def worker() -> None:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                async with http.stream("POST", url, json=body, headers=headers) as response:
                    async for _ in response.aiter_bytes():
                        pass
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return _load.LoadResult(len(latencies), 0, time.monotonic() - started, tuple(latencies))


def bench_gateway(config: Config, environ: Mapping[str, str], console: Console, seconds: float,
                  levels: tuple[int, ...]) -> dict[str, Any]:
    client = connect(environ)
    images = ensure_images(client, config, console)
    key = _run.new_master_key()
    console.redact.add(key)
    router = _router.plan(None, config.group, config.bases.network, strict=True)
    series: dict[str, _load.LoadResult] = {}
    table: list[dict[str, Any]] = []

    def record(path: str, mode: str, level: int, result: _load.LoadResult) -> None:
        table.append({"path": path, "mode": mode, "concurrency": level, **result.summary()})
        series[f"{path} {mode} c={level}"] = result
        console.step(f"{path:6} {mode:8} c={level:<3} {result.rps:8.1f} req/s p50 {result.percentile(50):7.2f} "
                     f"p95 {result.percentile(95):7.2f} p99 {result.percentile(99):7.2f} ms")

    with Stack(client, config, images, Console(out=io.StringIO(), redact=console.redact), key) as stack:
        stack.create_network()
        stack.start_services(router.text)
        targets = {"direct": (stack.services["shim"].url(SHIM.port, "/v1/chat/completions"), {}),
                   "proxy": (stack.services["proxy"].url(PROXY.port, "/v1/chat/completions"),
                             {"Authorization": f"Bearer {key}"})}
        for path, (url, headers) in targets.items():
            _load.load(url, CHAT, concurrency=2, seconds=1, headers=headers)  # warm up
            for level in levels:
                record(path, "plain", level, _load.load(url, CHAT, concurrency=level, seconds=seconds,
                                                        headers=headers))
            record(path, "streamed", levels[0], asyncio.run(_streamed(url, headers, levels[0], seconds)))
    out = _out_dir(config)
    markdown = _markdown(table)
    (out / "gateway.md").write_text(markdown)
    (out / "gateway.json").write_text(json.dumps(table, indent=2) + "\n")
    plot = _plot(series, out / "gateway.png")
    console.plain(markdown)
    console.plain(f"wrote {out / 'gateway.md'}, gateway.json" + (f", {plot.name}" if plot else ""))
    return {"table": table}


def _markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| path | mode | concurrency | req/s | p50 ms | p95 ms | p99 ms | requests | errors |",
             "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['path']} | {r['mode']} | {r['concurrency']} | {r['rps']} | {r['p50_ms']} | {r['p95_ms']} | "
              f"{r['p99_ms']} | {r['requests']} | {r['errors']} |" for r in rows]
    return "\n".join(lines) + "\n"


def _plot(series: dict[str, _load.LoadResult], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(9, 5))
    for name, s in series.items():
        if s.latencies_ms:
            ordered = sorted(s.latencies_ms)
            ax.plot(ordered, [i / len(ordered) for i in range(len(ordered))], label=name)
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_ylabel("fraction of requests")
    ax.set_title("LiteLLM proxy vs direct to the shim: latency CDF")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
