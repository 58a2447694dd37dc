"""A small "bring your own" suite with one deliberately flaky test.

test_flaky_once fails the first time it runs against a fresh shim and passes on the
immediate re-run: the shim's journal is the state that changes between the two.
"""

import os

import httpx
import pytest

MARKER = "own-suite-flaky-probe"


@pytest.mark.deterministic
def test_hermetic_arithmetic() -> None:
    assert sum(range(5)) == 10


@pytest.mark.nd
def test_proxy_answers_through_the_group() -> None:
    response = httpx.post(os.environ["BED_PROXY_URL"] + "/v1/chat/completions", timeout=30,
                          headers={"Authorization": "Bearer " + os.environ["LITELLM_MASTER_KEY"]},
                          json={"model": os.environ["BED_GROUP"], "messages": [{"role": "user", "content": "mine"}]})
    assert response.status_code == 200


@pytest.mark.nd
def test_flaky_once() -> None:
    admin = os.environ["MINI_AGENT_API_BASE"].removesuffix("/v1")
    seen_before = [e for e in httpx.get(admin + "/_bed/journal", timeout=10).json()["entries"]
                   if MARKER in str(e["body"])]
    httpx.post(admin + "/v1/chat/completions", timeout=10,
               json={"model": "codex-agent-1", "messages": [{"role": "user", "content": MARKER}]})
    assert seen_before, "first attempt against a fresh shim: fails on purpose"
