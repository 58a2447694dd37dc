"""HTTP from this machine to what bed published on its loopback: httpx, every call bounded.

bed's own readiness waits run inside the bed network (bed/stack/wait.py); what the host calls
directly is few and short: a kept shim's reset, `bed doctor`'s check that a published port
answers here, a bench's "is it serving yet" and the compare legs' latency bench. They all go
through here: one client (httpx), loopback only (the project's network rule), and a wait for a
first 2xx driven by tenacity within a budget. The throughput benches' load generator stays a
raw keep-alive client (bed/bench/load.py): a general-purpose client would cap the rate it can
measure.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx
import tenacity

LOOPBACK = ("127.0.0.1", "localhost", "::1")
TRANSIENT = (httpx.TransportError, httpx.HTTPStatusError)  # refused, reset, timed out, or not 2xx yet


def client(timeout_s: float) -> httpx.Client:
    """A client for loopback only: no proxy from the environment (HTTP_PROXY must not catch 127.0.0.1)."""
    return httpx.Client(timeout=timeout_s, trust_env=False)


def check(url: str) -> str:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise ValueError(f"bed calls only loopback from the host, not {host}")
    return url


def post(url: str, body: bytes = b"{}", *, timeout_s: float = 5.0, headers: Mapping[str, str] | None = None) -> bool:
    """One POST; whether it answered 2xx (a refusal or a timeout is False)."""
    try:
        with client(timeout_s) as http:
            return http.post(check(url), content=body, headers={"content-type": "application/json",
                                                                **(headers or {})}).is_success
    except httpx.HTTPError:
        return False


def answers(url: str, *, budget_s: float, method: str = "GET", body: bytes | None = None,
            headers: Mapping[str, str] | None = None, timeout_s: float = 1.0, pause_s: float = 0.05) -> bool:
    """Whether ``url`` answers 2xx within ``budget_s`` (asked again after a refusal, a reset, a
    timeout or a non-2xx answer, ``pause_s`` apart; tenacity keeps the count and the budget)."""
    check(url)

    @tenacity.retry(retry=tenacity.retry_if_exception_type(TRANSIENT), stop=tenacity.stop_after_delay(budget_s),
                    wait=tenacity.wait_fixed(pause_s), retry_error_callback=lambda _: False)
    def ask(http: httpx.Client) -> bool:
        http.request(method, url, content=body, headers=dict(headers or {})).raise_for_status()
        return True

    with client(timeout_s) as http:
        return bool(ask(http))


def timed(http: httpx.Client, url: str, body: bytes, headers: Mapping[str, str]) -> float | None:
    """Milliseconds until the whole answer of one POST arrived (a stream read to its last event);
    None when it was not 2xx, or the connection failed or timed out."""
    started = time.perf_counter()
    try:
        with http.stream("POST", check(url), content=body, headers=dict(headers)) as answer:
            answer.read()
            ok = answer.is_success
    except httpx.HTTPError:
        return None
    return (time.perf_counter() - started) * 1000 if ok else None
