"""Every deployment of the router config, through the proxy and LiteLLM's real adapter for its
provider, against the shim's twin of that provider (bed/shim/twins): a plain answer, a streamed
one and a tool round trip, on each surface the deployment serves (chat completions; an
Anthropic deployment also Messages).

bed hands the list in BED_TWIN_SMOKES (bed/config/twins.py derives it from the router config):
one entry per deployment, with the group ``bed-twin/<group>/<index>`` that serves it against its
twin, with fake keys. Its test ids name the deployment: ``[fast#0-gemini-chat]``. A deployment
whose provider has no twin is a loud SKIP naming it. A failure says what the gateway answered
and, from the shim's journal, the request the twin refused and why.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import http_clients
import pytest

SMOKES: list[dict[str, Any]] = json.loads(os.environ.get("BED_TWIN_SMOKES") or "[]")
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TOOL = {"type": "function", "function": {"name": "weather", "description": "the weather in a city",
                                         "parameters": WEATHER}}
pytestmark = [pytest.mark.needs_proxy, pytest.mark.needs_bed_shim]


def _params() -> list[Any]:
    if not SMOKES:  # run outside `bed run` (a compose runner, a shell): nothing says what to call
        return [pytest.param(None, "chat", id="no-deployments",
                             marks=pytest.mark.skip(reason="NO TWIN SMOKES: BED_TWIN_SMOKES is not set (bed run sets "
                                                           "it from the router config)"))]
    return [pytest.param(s, surface, id=f"{s['group']}#{s['index']}-{s['provider']}-{surface}")
            for s in SMOKES for surface in s["surfaces"]]


def _journal(shim_base: str, marker: str) -> list[dict[str, Any]]:
    entries = http_clients.get(shim_base.removesuffix("/v1") + "/_bed/journal", timeout=10).json()["entries"]
    return [e for e in entries if marker in json.dumps(e["body"])]


def _fail(smoke: dict[str, Any], surface: str, error: Exception, shim_base: str, marker: str) -> None:
    """One line a CAUSE can carry: the request the twin refused and why (its journal) first, as
    that is the provider's own verdict on what LiteLLM sent; then what the gateway answered."""
    status = getattr(error, "status_code", None) or "?"
    where = (f"{smoke['group']}#{smoke['index']} ({smoke['provider']}, {smoke['model']}) on {surface}, through the "
             f"proxy against its twin ({smoke['twin_group']})")
    refused = [e for e in _journal(shim_base, marker) if e.get("refused")]
    said = " ".join(str(error).split())[:300]
    if refused:
        entry = refused[0]
        why = (f"the {entry.get('twin')} twin refused {entry['method']} {entry['path']} with "
               f"{entry['refused']['status']}: {entry['refused']['why']}; LiteLLM sent "
               f"{json.dumps(entry['body'])[:500]}")
        pytest.fail(f"{where}: {why} | the gateway answered HTTP {status}: {said}", pytrace=False)
    pytest.fail(f"{where}: HTTP {status}: {said}", pytrace=False)


def _chat(proxy_url: str, key: str, group: str, marker: str) -> None:
    client = http_clients.openai_client(api_key=key, base_url=proxy_url + "/v1", max_retries=0, timeout=60)
    ask = [{"role": "user", "content": f"say {marker}"}]
    plain = client.chat.completions.create(model=group, messages=ask)
    assert marker in (plain.choices[0].message.content or ""), plain
    pieces = [c.choices[0].delta.content or "" for c in client.chat.completions.create(model=group, messages=ask,
                                                                                        stream=True) if c.choices]
    assert marker in "".join(pieces), pieces
    called = client.chat.completions.create(model=group, messages=ask, tools=[TOOL])
    (call,) = called.choices[0].message.tool_calls or [None]
    assert call is not None, called
    assert call.function.name == "weather", call
    assert "city" in json.loads(call.function.arguments or "{}"), call
    answered = [*ask, called.choices[0].message.model_dump(exclude_none=True),
                {"role": "tool", "tool_call_id": call.id, "content": f"sunny-{marker}"}]
    final = client.chat.completions.create(model=group, messages=answered, tools=[TOOL])
    assert final.choices[0].finish_reason == "stop", final
    assert final.choices[0].message.content, final


def _messages(proxy_url: str, key: str, group: str, marker: str) -> None:
    client = http_clients.anthropic_client(auth_token=key, base_url=proxy_url, max_retries=0, timeout=60)
    ask = [{"role": "user", "content": f"say {marker}"}]
    plain = client.messages.create(model=group, max_tokens=256, messages=ask)
    assert marker in "".join(b.text for b in plain.content if b.type == "text"), plain
    with client.messages.stream(model=group, max_tokens=256, messages=ask) as stream:
        assert marker in "".join(stream.text_stream)
    tool = {"name": "weather", "description": "the weather in a city", "input_schema": WEATHER}
    called = client.messages.create(model=group, max_tokens=256, messages=ask, tools=[tool])
    use = next((b for b in called.content if b.type == "tool_use"), None)
    assert use is not None, called
    assert use.name == "weather", use
    answered = [*ask, {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in called.content]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id,
                                              "content": f"sunny-{marker}"}]}]
    final = client.messages.create(model=group, max_tokens=256, messages=answered, tools=[tool])
    assert final.stop_reason == "end_turn", final


@pytest.mark.parametrize(("smoke", "surface"), _params())
def test_deployment_against_its_twin(smoke: dict[str, Any], surface: str, proxy_url: str, master_key: str,
                                     shim_base: str) -> None:
    if smoke["skip"]:
        pytest.skip(smoke["skip"])
    marker = f"twin-{uuid.uuid4().hex[:12]}"
    try:
        (_messages if surface == "messages" else _chat)(proxy_url, master_key, smoke["twin_group"], marker)
    except Exception as error:  # an SDK's error, or an answer that lost what was asked (AssertionError)
        _fail(smoke, surface, error, shim_base, marker)
    sent = _journal(shim_base, marker)
    assert sent, f"nothing reached the {smoke['provider']} twin for {smoke['twin_group']}"
    assert {e.get("twin") for e in sent} == {smoke["twin"]}, [e["path"] for e in sent]
    # The tool's result reached the twin in the provider's own shape (LiteLLM translated it there).
    assert any(f"sunny-{marker}" in json.dumps(e["body"]) for e in sent), "the tool result never reached the twin"
