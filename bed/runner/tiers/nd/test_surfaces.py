"""The surfaces agents really call, through the real proxy, with the official SDKs:
the OpenAI Responses API (what the Codex CLI speaks) and Anthropic Messages (Claude Code).

Each runs both ways LiteLLM serves them to an OpenAI-compatible upstream, and the shim's
journal proves which way the request took:
    native  the group itself (openai/): /v1/responses passes through to the upstream's
            /responses, and /v1/messages is adapted onto it
    bridge  <group>-chat (custom_openai/): both are bridged to the upstream's /chat/completions
Tool round trips are scripted on the shim (a tool call, then a text quoting the tool's output),
so the whole agent loop crosses the gateway twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import urllib.request
import uuid
from typing import Any

import http_clients
import pytest
from anthropic import Anthropic
from openai import OpenAI

GROUP = os.environ.get("BED_GROUP", "codex-agent-1")
WAYS = {"native": (GROUP, ("/responses",)), "bridge": (f"{GROUP}-chat", ("/chat/completions",))}
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
pytestmark = [pytest.mark.needs_proxy, pytest.mark.needs_bed_shim]


def _admin(shim_base: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(shim_base.removesuffix("/v1") + path, data=data, method=method,  # noqa: S310
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - a bed network URL
        text = response.read().decode()
    return json.loads(text) if text.strip() else None


def _sent(shim_base: str, marker: str) -> list[dict[str, Any]]:
    entries = _admin(shim_base, "GET", "/_bed/journal")["entries"]
    return [e for e in entries if marker in json.dumps(e.get("body"))]


def _script(shim_base: str, marker: str) -> None:
    _admin(shim_base, "POST", "/_bed/scripts", {"contains": marker, "steps": [
        {"tool": "get_weather", "arguments": {"city": "Paris"}},
        {"text": f"{marker} weather: {{tool_output}}"}]})


@pytest.fixture(scope="module")
def openai_client(proxy_url: str, master_key: str, shim_base: str) -> OpenAI:
    return http_clients.openai_client(api_key=master_key, base_url=proxy_url + "/v1", max_retries=0, timeout=60)


@pytest.fixture(scope="module")
def anthropic_client(proxy_url: str, master_key: str, shim_base: str) -> Anthropic:
    return http_clients.anthropic_client(auth_token=master_key, base_url=proxy_url, max_retries=0, timeout=60)


def _marker(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:12]}"


def _took_the_way(shim_base: str, marker: str, way: str) -> list[dict[str, Any]]:
    sent = _sent(shim_base, marker)
    assert sent, f"nothing with {marker} reached the shim"
    paths = {e["path"] for e in sent}
    assert all(p.endswith(WAYS[way][1]) for p in paths), f"{way}: the upstream got {paths}"
    return sent


@pytest.mark.parametrize("way", list(WAYS))
def test_responses_plain(openai_client: OpenAI, shim_base: str, way: str) -> None:
    marker = _marker("responses-plain")
    reply = openai_client.responses.create(model=WAYS[way][0], input=f"say {marker}", instructions="be brief")
    assert marker in reply.output_text
    assert reply.usage is not None
    assert reply.usage.output_tokens > 0
    _took_the_way(shim_base, marker, way)


@pytest.mark.parametrize("way", list(WAYS))
def test_responses_streamed(openai_client: OpenAI, shim_base: str, way: str) -> None:
    marker = _marker("responses-stream")
    with openai_client.responses.stream(model=WAYS[way][0], input=f"stream {marker}") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[0] == "response.created"
    assert "response.output_text.delta" in kinds
    assert kinds[-1] == "response.completed"
    assert marker in final.output_text
    _took_the_way(shim_base, marker, way)


@pytest.mark.parametrize("way", list(WAYS))
def test_responses_tool_round_trip(openai_client: OpenAI, shim_base: str, way: str) -> None:
    marker = _marker("responses-tool")
    _script(shim_base, marker)
    tools: Any = [{"type": "function", "name": "get_weather", "description": "weather", "parameters": WEATHER}]
    first = openai_client.responses.create(model=WAYS[way][0], input=f"weather? {marker}", tools=tools)
    calls = [item for item in first.output if item.type == "function_call"]
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [("get_weather", {"city": "Paris"})]
    result = f"sunny-{uuid.uuid4().hex[:6]}"
    history: Any = [{"role": "user", "content": f"weather? {marker}"}, *[c.model_dump() for c in calls],
                    {"type": "function_call_output", "call_id": calls[0].call_id, "output": result}]
    final = openai_client.responses.create(model=WAYS[way][0], input=history, tools=tools)
    assert f"{marker} weather: {result}" in final.output_text
    assert len(_took_the_way(shim_base, marker, way)) == 2  # each leg as the gateway sent it


@pytest.mark.parametrize("way", list(WAYS))
def test_messages_plain(anthropic_client: Anthropic, shim_base: str, way: str) -> None:
    marker = _marker("messages-plain")
    reply = anthropic_client.messages.create(model=WAYS[way][0], max_tokens=256, system="be brief",
                                             messages=[{"role": "user", "content": f"say {marker}"}])
    text = "".join(block.text for block in reply.content if block.type == "text")
    assert marker in text
    assert reply.stop_reason == "end_turn"
    _took_the_way(shim_base, marker, way)


@pytest.mark.parametrize("way", list(WAYS))
def test_messages_streamed(anthropic_client: Anthropic, shim_base: str, way: str) -> None:
    marker = _marker("messages-stream")
    with anthropic_client.messages.stream(model=WAYS[way][0], max_tokens=256,
                                          messages=[{"role": "user", "content": f"stream {marker}"}]) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len([p for p in pieces if p]) > 1
    assert marker in "".join(pieces)
    assert final.stop_reason == "end_turn"
    _took_the_way(shim_base, marker, way)


@pytest.mark.parametrize("way", list(WAYS))
def test_messages_tool_round_trip(anthropic_client: Anthropic, shim_base: str, way: str) -> None:
    marker = _marker("messages-tool")
    _script(shim_base, marker)
    tools: Any = [{"name": "get_weather", "description": "weather", "input_schema": WEATHER}]
    ask: Any = {"role": "user", "content": f"weather? {marker}"}
    first = anthropic_client.messages.create(model=WAYS[way][0], max_tokens=256, tools=tools, messages=[ask])
    uses = [block for block in first.content if block.type == "tool_use"]
    assert [(u.name, u.input) for u in uses] == [("get_weather", {"city": "Paris"})]
    assert first.stop_reason == "tool_use"
    result = f"rainy-{uuid.uuid4().hex[:6]}"
    final = anthropic_client.messages.create(model=WAYS[way][0], max_tokens=256, tools=tools, messages=[
        ask, {"role": "assistant", "content": [u.model_dump() for u in uses]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": uses[0].id, "content": result}]}])
    text = "".join(block.text for block in final.content if block.type == "text")
    assert f"{marker} weather: {result}" in text
    assert len(_took_the_way(shim_base, marker, way)) == 2


def test_a_429_on_the_responses_surface_is_retried(openai_client: OpenAI, shim_base: str) -> None:
    marker = _marker("responses-429")
    _admin(shim_base, "POST", "/_bed/faults", {"fault": "status=429;retry_after=0", "times": 1, "contains": marker})
    reply = openai_client.responses.create(model=GROUP, input=f"say {marker}")
    assert marker in reply.output_text
    assert len(_sent(shim_base, marker)) >= 2, "the proxy did not retry the 429"


def test_a_cut_stream_on_the_messages_surface_ends_promptly_and_truncated(anthropic_client: Anthropic,
                                                                          shim_base: str) -> None:
    marker = _marker("messages-cut")
    ask: Any = [{"role": "user", "content": f"a long answer please {marker}"}]
    full = anthropic_client.messages.create(model=GROUP, max_tokens=256, messages=ask)
    whole = "".join(block.text for block in full.content if block.type == "text")
    _admin(shim_base, "POST", "/_bed/faults", {"fault": "cut_after=4", "times": 10, "contains": marker})
    started = time.monotonic()
    pieces: list[str] = []
    # A client may see the cut as an error, or as a short answer; either way it must end promptly.
    # No retries and no fallback: the router would otherwise try the cut stream six times (the
    # generated config's 2 retries, on the group and on its fallback): 5.7 s of what the 429
    # tests already prove.
    with contextlib.suppress(Exception), anthropic_client.messages.stream(
            model=GROUP, max_tokens=256, messages=ask, extra_body={"num_retries": 0, "fallbacks": []}) as stream:
        pieces.extend(stream.text_stream)
    received = "".join(pieces)
    assert time.monotonic() - started < 15, "a cut upstream stream must not hang the client"
    assert whole.startswith(received)
    assert len(received) < len(whole), "the cut should have truncated the answer"
