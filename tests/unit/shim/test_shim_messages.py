"""The Anthropic Messages surface, driven by the official anthropic client."""

from __future__ import annotations

from typing import Any

import pytest
from anthropic import BadRequestError

from bed.shim.app import Shim

from .test_shim_fixtures import MODEL, WEATHER, Raw, anthropic_client, new_shim, run, sse_events

TOOLS: list[Any] = [{"name": "lookup", "description": "weather", "input_schema": WEATHER}]
HEADERS = {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-secret"}


@pytest.fixture
def shim() -> Shim:
    return new_shim()


def test_plain_message(shim: Shim) -> None:
    async def ask(system: Any) -> Any:
        return await anthropic_client(shim).messages.create(
            model=MODEL, max_tokens=64, system=system, messages=[{"role": "user", "content": "hello claude"}])

    reply = run(ask("be brief"))
    assert reply.type == "message"
    assert reply.role == "assistant"
    assert reply.stop_reason == "end_turn"
    assert reply.content[0].type == "text"
    assert reply.content[0].text.startswith("[mini-agent] hello claude")
    assert reply.usage.input_tokens == 4
    assert reply.usage.output_tokens == len(reply.content[0].text.split())
    # The system prompt as a list of blocks is the same conversation.
    assert run(ask([{"type": "text", "text": "be brief"}])).content[0].text == reply.content[0].text


def test_stream_parses_with_the_sdk_and_matches_the_plain_answer(shim: Shim) -> None:
    messages: list[Any] = [{"role": "user", "content": "stream please"}]

    async def both() -> tuple[Any, Any, list[str]]:
        client = anthropic_client(shim)
        async with client.messages.stream(model=MODEL, max_tokens=64, messages=messages) as stream:
            kinds = [event.type async for event in stream]
            final = await stream.get_final_message()
        plain = await client.messages.create(model=MODEL, max_tokens=64, messages=messages)
        return final, plain, kinds

    final, plain, kinds = run(both())
    assert final.content[0].text == plain.content[0].text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == plain.usage.output_tokens
    assert kinds[0] == "message_start"
    assert kinds[-1] == "message_stop"


def test_stream_framing_is_event_then_data(shim: Shim) -> None:
    body = {"model": MODEL, "max_tokens": 64, "stream": True, "messages": [{"role": "user", "content": "frames"}]}
    response = Raw(shim).post("/v1/messages", body, headers=HEADERS)
    assert response.headers["content-type"] == "text/event-stream"
    blocks = response.text.split("\n\n")
    assert blocks[-1] == ""
    assert all(b.startswith("event: ") and "\ndata: {" in b for b in blocks[:-1])
    events = sse_events(response.text)
    assert all(name == data["type"] for name, data in events)
    kinds = [name for name, _ in events]
    deltas = kinds.count("content_block_delta")
    assert kinds == ["message_start", "content_block_start", "ping", *["content_block_delta"] * deltas,
                     "content_block_stop", "message_delta", "message_stop"]
    assert events[-2][1]["delta"]["stop_reason"] == "end_turn"
    assert events[-2][1]["usage"]["output_tokens"] == deltas


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_tool_use_then_tool_result(shim: Shim, stream: bool) -> None:
    async def turn(messages: list[Any]) -> Any:
        client = anthropic_client(shim)
        if not stream:
            return await client.messages.create(model=MODEL, max_tokens=64, tools=TOOLS, messages=messages)
        async with client.messages.stream(model=MODEL, max_tokens=64, tools=TOOLS, messages=messages) as events:
            return await events.get_final_message()

    question: list[Any] = [{"role": "user", "content": "weather?"}]
    first = run(turn(question))
    assert first.stop_reason == "tool_use"
    use = first.content[0]
    assert (use.type, use.name) == ("tool_use", "lookup")
    assert use.id.startswith("toolu_")
    assert isinstance(use.input["city"], str)
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id,
                                           "content": [{"type": "text", "text": "sunny"}]}]}
    second = run(turn([*question, {"role": "assistant", "content": [use.model_dump()]}, result]))
    assert second.stop_reason == "end_turn"
    assert second.content[0].text.startswith("[mini-agent] weather?")


def test_tool_choice_none_and_forced(shim: Shim) -> None:
    raw = Raw(shim)
    body = {"model": MODEL, "max_tokens": 64, "tools": TOOLS, "messages": [{"role": "user", "content": "x"}]}
    assert raw.post("/v1/messages", {**body, "tool_choice": {"type": "none"}}).json()["stop_reason"] == "end_turn"
    forced = raw.post("/v1/messages", {**body, "tool_choice": {"type": "tool", "name": "lookup"}}).json()
    assert forced["content"][0]["name"] == "lookup"


def test_stop_sequences_and_max_tokens(shim: Shim) -> None:
    raw = Raw(shim)
    body = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "hello stop here"}]}
    stopped = raw.post("/v1/messages", {**body, "stop_sequences": ["stop"]}).json()
    assert (stopped["stop_reason"], stopped["stop_sequence"]) == ("stop_sequence", "stop")
    assert stopped["content"][0]["text"] == "[mini-agent] hello "
    short = raw.post("/v1/messages", {**body, "max_tokens": 2}).json()
    assert short["stop_reason"] == "max_tokens"
    assert short["content"][0]["text"] == "[mini-agent] hello"


def test_count_tokens(shim: Shim) -> None:
    async def count() -> Any:
        return await anthropic_client(shim).messages.count_tokens(
            model=MODEL, system="two words", messages=[{"role": "user", "content": "one two three"}])

    assert run(count()).input_tokens == 5


def test_models_in_anthropic_shape(shim: Shim) -> None:
    async def listing() -> tuple[Any, Any]:
        client = anthropic_client(shim)
        return await client.models.list(), await client.models.retrieve("other")

    page, one = run(listing())
    assert [m.id for m in page.data] == [MODEL, "other"]
    assert page.data[0].type == "model"
    assert page.data[0].display_name == MODEL
    assert page.has_more is False
    assert (page.first_id, page.last_id) == (MODEL, "other")
    assert one.id == "other"
    raw = Raw(shim)
    assert raw.request("GET", "/v1/models").json()["object"] == "list"  # no Anthropic header: OpenAI's shape
    missing = raw.request("GET", "/v1/models/nope", headers=HEADERS)
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found_error"


def test_headers_are_journaled_and_a_missing_version_is_tolerated(shim: Shim) -> None:
    raw = Raw(shim)
    body = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
    assert raw.post("/v1/messages", body, headers=HEADERS).status_code == 200
    assert raw.post("/v1/messages", body).status_code == 200
    with_headers, without = raw.journal()
    assert with_headers["headers"]["anthropic-version"] == "2023-06-01"
    assert with_headers["headers"]["x-api-key"] == "<redacted>"
    assert "sk-ant-secret" not in str(raw.journal())
    assert "anthropic-version" not in without["headers"]


def test_bad_request_is_an_anthropic_error(shim: Shim) -> None:
    async def ask() -> None:
        await anthropic_client(shim).messages.create(model=MODEL, max_tokens=8, messages=[])

    with pytest.raises(BadRequestError) as caught:
        run(ask())
    assert caught.value.body == {"type": "error", "error": {
        "type": "invalid_request_error", "message": "model and a non-empty messages list are required"}}


@pytest.mark.parametrize("path", ["/v1/messages", "/messages", "/v1/v1/messages"])
def test_every_path_litellm_may_use(shim: Shim, path: str) -> None:
    # LiteLLM's anthropic/ provider appends /v1/messages to its api_base, even one ending in /v1.
    body = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "where"}]}
    assert Raw(shim).post(path, body).json()["type"] == "message"
