"""The Router resolves the model group to its deployment without any DNS lookup.

This is the failure the harness was born from: a group that LiteLLM treated as a host name
("Name or service not known"). The runner has no network here, and the socket resolver is
replaced by one that fails the test on any lookup, so the only way to pass is a Router that
maps ``codex-agent-1`` to the shim's base and hands the request to the patched transport.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket

import httpx
import pytest
import yaml
from hermetic import openai_answer

GROUP = os.environ.get("BED_GROUP", "codex-agent-1")
# This run's router config, as the proxy gets it: the Router under test is built from it.
MODEL_LIST = yaml.safe_load(os.environ["BED_ROUTER_YAML"])["model_list"]
BASE = next(e["litellm_params"]["api_base"] for e in MODEL_LIST if e["model_name"] == GROUP)


def _router():  # type: ignore[no-untyped-def]
    # The proxy registers the config's custom providers (custom_provider_map: bed's codex-agent)
    # before it builds its Router from the model list; so does this. Without it the Router
    # refuses the `codex-agent/` deployment, unless another test in the same worker happened to
    # register it first (which is how this passed, in one order, until xdist chose another).
    import codex_agent
    import litellm

    codex_agent.register()
    return litellm.Router(model_list=MODEL_LIST)


def test_network_is_really_off() -> None:
    # The runner starts with --network none: loopback is its only interface, so nothing
    # in this tier can reach anything, whatever it tries.
    assert sorted(os.listdir("/sys/class/net")) == ["lo"]


def test_dns_guard_catches_a_lookup(no_dns: list[str]) -> None:
    with pytest.raises(OSError, match="DNS lookup attempted"):
        socket.getaddrinfo("codex-agent-1", 80)
    assert no_dns == ["codex-agent-1"]
    no_dns.clear()  # the guard itself worked; the fixture's own check must not fail this test


def test_router_maps_group_to_base_sync(no_dns: list[str]) -> None:
    from openai import OpenAI

    seen: list[httpx.Request] = []
    client = OpenAI(api_key="sk-hermetic", base_url=BASE,
                    http_client=httpx.Client(transport=httpx.MockTransport(openai_answer(seen))))
    reply = _router().completion(model=GROUP, messages=[{"role": "user", "content": "ping"}], client=client)
    assert reply.choices[0].message.content == "pong"
    assert [str(r.url) for r in seen] == [f"{BASE}/chat/completions"]
    assert json.loads(seen[0].content)["model"] == GROUP


def test_router_maps_group_to_base_async(no_dns: list[str]) -> None:
    from openai import AsyncOpenAI

    seen: list[httpx.Request] = []
    client = AsyncOpenAI(api_key="sk-hermetic", base_url=BASE,
                         http_client=httpx.AsyncClient(transport=httpx.MockTransport(openai_answer(seen))))
    reply = asyncio.run(_router().acompletion(model=GROUP, messages=[{"role": "user", "content": "ping"}],
                                              client=client))
    assert reply.choices[0].message.content == "pong"
    assert [r.url.host for r in seen] == ["mini-agent"]


def test_unknown_group_is_a_router_error_not_a_host(no_dns: list[str]) -> None:
    import litellm

    with pytest.raises(litellm.exceptions.BadRequestError, match=r"(?i)invalid model name|no healthy deployments"):
        _router().completion(model="no-such-group-anywhere", messages=[{"role": "user", "content": "ping"}])
