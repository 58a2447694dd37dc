"""A short, bounded latency bench of a compare leg's proxy, on the stack the gate just used.

Each surface agents call through the gateway (chat completions, the Responses API, Anthropic
Messages), plain and streamed, one request at a time over the proxy's published loopback port:
a few warm-up requests, then at most MAX_REQUESTS or ``seconds``, whichever ends first; every
request waits at most TIMEOUT_S. So one leg's bench costs at most about 6 x (``seconds`` + a
warm-up) and never hangs. A surface the gateway does not serve shows as errors, with no latency.

The stack is the one the gate's tiers ran on (kept up for this stage, before the teardown), so
no second proxy has to boot. Only one bench runs at a time in a process: legs running side by
side still share the machine's cores with the other leg's tiers, which the report says.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from ..bench import load
from ..pipeline.stages.images import Built
from ..pipeline.stages.prepare import Inputs, Prepared
from ..pipeline.stages.stack import Running
from ..pipeline.stages.tiers import TierOutcomes
from ..stack.bringup import bring_up
from ..stack.services import PROXY

MAX_REQUESTS = 200
WARM = 3
TIMEOUT_S = 10.0
DEFAULT_SECONDS = 1.0
MAX_SECONDS = 30.0
MODES = ("plain", "streamed")
_ONE_AT_A_TIME = threading.Lock()


def surfaces(group: str) -> dict[str, tuple[str, dict[str, Any], dict[str, str]]]:
    """What the bench sends: surface -> (path, plain body, extra headers)."""
    return {
        "chat": ("/v1/chat/completions", {"model": group, "messages": [{"role": "user", "content": "bench"}]}, {}),
        "responses": ("/v1/responses", {"model": group, "input": "bench"}, {}),
        "messages": ("/v1/messages", {"model": group, "max_tokens": 64,
                                      "messages": [{"role": "user", "content": "bench"}]},
                     {"anthropic-version": "2023-06-01"}),
    }


def measure(base_url: str, key: str, group: str, seconds: float) -> dict[str, dict[str, dict[str, Any]]]:
    """{surface: {mode: {p50_ms, p99_ms, requests, errors}}}; p50/p99 are None when nothing answered 2xx."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for surface, (path, body, extra) in surfaces(group).items():
        headers = {"Authorization": f"Bearer {key}", **extra}
        for mode in MODES:
            payload = json.dumps({**body, "stream": True} if mode == "streamed" else body).encode()
            url = base_url + path
            load.load(url, payload, concurrency=1, seconds=seconds + TIMEOUT_S, max_requests=WARM, headers=headers,
                      timeout_s=TIMEOUT_S)
            result = load.load(url, payload, concurrency=1, seconds=seconds, max_requests=MAX_REQUESTS,
                               headers=headers, timeout_s=TIMEOUT_S)
            answered = bool(result.latencies_ms)
            out.setdefault(surface, {})[mode] = {
                "p50_ms": round(result.percentile(50), 2) if answered else None,
                "p99_ms": round(result.percentile(99), 2) if answered else None,
                "requests": result.requests, "errors": result.errors,
            }
    return out


def stage(seconds: float, into: dict[str, Any]) -> Callable[[Inputs, Prepared, Built, Running, TierOutcomes], None]:
    """A step run after the tiers, on the stack they used: it benches the run's proxy into ``into``
    (``latency`` or ``bench_note``)."""

    def bench(inputs: Inputs, prepared: Prepared, built: Built, running: Running, tiers: TierOutcomes) -> None:
        if seconds <= 0:
            into["bench_note"] = "bench off (--bench-seconds 0)"
            return
        if not built.engine.info().local:
            into["bench_note"] = ("bench skipped: the engine is remote (DOCKER_HOST), so the proxy's published "
                                  "port is not on this machine's loopback")
            return
        # A gate without the ND tier started no services: bring them up for the bench.
        services = tiers.services or bring_up(running.stack, running.plan)
        port = built.engine.published_port(services.proxy.id, PROXY.port)
        console = inputs.console
        with _ONE_AT_A_TIME, console.progress("benching the proxy"):
            console.step(f"bench: chat, responses, messages; plain and streamed; {seconds:g} s or "
                         f"{MAX_REQUESTS} requests each, one at a time, through 127.0.0.1:{port}")
            into["latency"] = measure(f"http://127.0.0.1:{port}", prepared.master_key, inputs.config.group, seconds)
        for surface, modes in into["latency"].items():
            console.step("bench " + surface + ": " + "; ".join(
                f"{mode} p50 {m['p50_ms']} p99 {m['p99_ms']} ms ({m['requests']} ok, {m['errors']} errors)"
                for mode, m in modes.items()))

    return bench
