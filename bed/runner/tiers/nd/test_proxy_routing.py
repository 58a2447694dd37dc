"""runner -> LiteLLM proxy -> shim: the group routes, plain and streamed, behind the master key."""

from __future__ import annotations

import os
import uuid

import http_clients
import pytest
from openai import BadRequestError, OpenAI

GROUP = os.environ.get("BED_GROUP", "codex-agent-1")
AGENT = os.environ.get("BED_AGENT_IMAGE", "")  # your agent stands where the shim would
pytestmark = pytest.mark.needs_proxy


@pytest.fixture(scope="module")
def client(proxy_url: str, master_key: str, shim_base: str) -> OpenAI:
    return http_clients.openai_client(api_key=master_key, base_url=proxy_url + "/v1", max_retries=0, timeout=30)


def test_group_routes_through_proxy(client: OpenAI) -> None:
    reply = client.chat.completions.create(model=GROUP, messages=[{"role": "user", "content": "hello proxy"}])
    text = reply.choices[0].message.content or ""
    assert text.strip(), "the gateway answered with no text"
    if not AGENT:  # the bed shim's answer is known exactly; your agent's is its own
        assert text.startswith("[mini-agent] hello proxy"), text
    assert reply.usage is not None
    assert reply.usage.total_tokens > 0


def test_group_streams_through_proxy(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model=GROUP, messages=[{"role": "user", "content": "stream please"}], stream=True)
    pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
    text = "".join(pieces)
    assert len([p for p in pieces if p]) > (3 if not AGENT else 0), pieces
    if not AGENT:
        assert text.startswith("[mini-agent] stream please"), text


@pytest.mark.needs_bed_shim  # asserts the shim's own answers
def test_answers_are_deterministic(client: OpenAI) -> None:
    ask = {"model": GROUP, "messages": [{"role": "user", "content": "same question"}]}
    first = client.chat.completions.create(**ask).choices[0].message.content  # type: ignore[call-overload]
    second = client.chat.completions.create(**ask).choices[0].message.content  # type: ignore[call-overload]
    assert first == second


def _journal_has(shim_base: str, marker: str) -> bool:
    entries = http_clients.get(shim_base.removesuffix("/v1") + "/_bed/journal", timeout=10).json()["entries"]
    return any(marker in str(e["body"]) for e in entries)


@pytest.mark.needs_bed_shim  # reads the shim's journal
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sk-wrong-key"}], ids=["no-key", "wrong-key"])
def test_master_key_is_required(proxy_url: str, master_key: str, shim_base: str, headers: dict[str, str]) -> None:
    # Without a database, LiteLLM 1.108 answers a missing key with 500 and a wrong one with 400
    # ("No connected db"); what matters is that neither is served and neither reaches the shim.
    marker = f"auth-probe-{uuid.uuid4().hex}"
    body = {"model": GROUP, "messages": [{"role": "user", "content": marker}]}
    refused = http_clients.post(proxy_url + "/v1/chat/completions", json=body, headers=headers, timeout=30)
    assert refused.status_code >= 400, refused.text
    assert not _journal_has(shim_base, marker)
    allowed = http_clients.post(proxy_url + "/v1/chat/completions", json=body, timeout=30,
                         headers={"Authorization": f"Bearer {master_key}"})
    assert allowed.status_code == 200, allowed.text
    assert _journal_has(shim_base, marker)


def test_missing_group_is_a_400_not_a_dns_error(client: OpenAI) -> None:
    with pytest.raises(BadRequestError) as caught:
        client.chat.completions.create(model="no-such-group", messages=[{"role": "user", "content": "x"}])
    text = str(caught.value).lower()
    assert "name or service not known" not in text
    assert "no-such-group" in text


def test_proxy_health_endpoints(proxy_url: str) -> None:
    assert http_clients.get(proxy_url + "/health/liveliness", timeout=10).status_code == 200
    assert http_clients.get(proxy_url + "/health/readiness", timeout=10).status_code == 200
