"""Retries, timeouts and fallbacks of the real proxy, driven by shim faults and read back
from the shim's request journal (what the proxy actually sent)."""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

import http_clients
import httpx
import pytest

GROUP = os.environ.get("BED_GROUP", "codex-agent-1")
FALLBACK = f"{GROUP}-fallback"
pytestmark = [pytest.mark.needs_proxy, pytest.mark.needs_bed_shim]


@pytest.fixture(scope="module")
def shim_admin(shim_base: str) -> str:
    return shim_base.removesuffix("/v1")


def _queue(admin: str, fault: str, marker: str, times: int = 1) -> None:
    response = http_clients.post(f"{admin}/_bed/faults", json={"fault": fault, "times": times, "contains": marker},
                          timeout=10)
    assert response.status_code == 200, response.text


def _sent(admin: str, marker: str) -> list[dict[str, Any]]:
    entries = http_clients.get(f"{admin}/_bed/journal", timeout=10).json()["entries"]
    return [e for e in entries if marker in str(e["body"])]


def _ask(proxy_url: str, key: str, marker: str, **extra: Any) -> httpx.Response:
    body = {"model": GROUP, "messages": [{"role": "user", "content": marker}], **extra}
    return http_clients.post(f"{proxy_url}/v1/chat/completions", json=body, timeout=60,
                      headers={"Authorization": f"Bearer {key}"})


def _groups(proxy_url: str, key: str) -> set[str]:
    models = http_clients.get(f"{proxy_url}/v1/models", headers={"Authorization": f"Bearer {key}"}, timeout=10).json()
    return {m["id"] for m in models["data"]}


def test_a_429_is_retried_and_the_retry_is_in_the_journal(proxy_url: str, master_key: str, shim_admin: str) -> None:
    marker = f"retry-{uuid.uuid4().hex}"
    _queue(shim_admin, "status=429;retry_after=0", marker)
    response = _ask(proxy_url, master_key, marker)
    assert response.status_code == 200, response.text
    sent = _sent(shim_admin, marker)
    assert len(sent) >= 2, "the proxy did not retry the 429"
    assert {e["body"]["model"] for e in sent} <= {GROUP, FALLBACK}


def test_a_slow_upstream_hits_the_request_timeout(proxy_url: str, master_key: str, shim_admin: str) -> None:
    marker = f"slow-{uuid.uuid4().hex}"
    _queue(shim_admin, "latency_ms=5000", marker, times=10)
    started = time.monotonic()
    response = _ask(proxy_url, master_key, marker, timeout=0.5, num_retries=0, fallbacks=[])
    assert response.status_code in (408, 500, 504), response.text
    assert "timeout" in response.text.lower()
    assert time.monotonic() - started < 4, "the proxy waited for the slow upstream instead of timing out"


def test_a_failing_group_falls_back(proxy_url: str, master_key: str, shim_admin: str) -> None:
    if FALLBACK not in _groups(proxy_url, master_key):
        pytest.skip(f"the router config has no {FALLBACK} group (bring-your-own config)")
    marker = f"fallback-{uuid.uuid4().hex}"
    # Enough 500s to exhaust the retries of the primary group; the fallback is not faulted.
    http_clients.post(f"{shim_admin}/_bed/faults", json={"fault": "status=500", "times": 10, "contains": marker,
                                                   "model": GROUP}, timeout=10)
    response = _ask(proxy_url, master_key, marker, num_retries=0)  # retries are proven above; no backoff here
    assert response.status_code == 200, response.text
    sent = _sent(shim_admin, marker)
    assert sent[-1]["body"]["model"] == FALLBACK
    assert any(e["body"]["model"] == GROUP for e in sent)


def test_an_upstream_stream_cut_ends_promptly_and_truncated(proxy_url: str, master_key: str,
                                                            shim_admin: str, shim_base: str) -> None:
    marker = f"cut-{uuid.uuid4().hex}"
    messages = [{"role": "user", "content": marker}]
    full = http_clients.post(f"{shim_base}/chat/completions", json={"model": GROUP, "messages": messages},
                      timeout=10).json()["choices"][0]["message"]["content"]
    _queue(shim_admin, "cut_after=3", marker, times=10)
    started = time.monotonic()
    with http_clients.stream("POST", f"{proxy_url}/v1/chat/completions", timeout=30,
                      headers={"Authorization": f"Bearer {master_key}"},
                      json={"model": GROUP, "stream": True, "num_retries": 0, "fallbacks": [],
                            "messages": messages}) as response:
        frames = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert time.monotonic() - started < 10, "a cut upstream stream must not hang the client"
    pieces = [json.loads(f[6:])["choices"][0]["delta"].get("content") or ""
              for f in frames if f != "data: [DONE]" and json.loads(f[6:]).get("choices")]
    received = "".join(pieces)
    assert full.startswith(received)
    assert len(received) < len(full), "the cut should have truncated the answer"
    # What LiteLLM 1.108.7 does with a cut upstream stream: it closes it with its own [DONE],
    # so a client cannot tell the answer is truncated. Pinned here so a change is noticed.
    assert frames[-1] == "data: [DONE]"
