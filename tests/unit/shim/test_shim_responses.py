"""The Responses API surface, driven by the official openai client (create, stream, the stream helper)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai import BadRequestError, NotFoundError

from bed.shim.app import Shim

from .test_shim_fixtures import MODEL, WEATHER, Raw, new_shim, openai_client, run, sse_events

TOOLS: list[Any] = [{"type": "function", "name": "lookup", "parameters": WEATHER}]
TEXT_EVENTS = ["response.created", "response.in_progress", "response.output_item.added",
               "response.content_part.added", "response.output_text.delta", "response.output_text.done",
               "response.content_part.done", "response.output_item.done", "response.completed"]


@pytest.fixture
def shim() -> Shim:
    return new_shim()


def test_plain_text_answer_with_usage(shim: Shim) -> None:
    async def ask() -> Any:
        return await openai_client(shim).responses.create(model=MODEL, input="hello responses",
                                                          instructions="be brief", reasoning={"effort": "low"})

    first = run(ask())
    assert first.status == "completed"
    assert first.output_text.startswith("[mini-agent] hello responses")
    assert first.usage.input_tokens == 4  # "be brief" + "hello responses"
    assert first.usage.output_tokens == len(first.output_text.split())
    assert first.usage.total_tokens == first.usage.input_tokens + first.usage.output_tokens
    assert first.usage.input_tokens_details.cached_tokens == 0
    assert first.usage.output_tokens_details.reasoning_tokens == 0
    assert first.reasoning.effort == "low"
    assert run(ask()).id == first.id  # deterministic, ids included


def test_stream_carries_the_full_event_sequence(shim: Shim) -> None:
    async def ask() -> list[Any]:
        stream = await openai_client(shim).responses.create(model=MODEL, input="hello stream", stream=True)
        return [event async for event in stream]

    events = run(ask())
    kinds = [e.type for e in events]
    deltas = kinds.count("response.output_text.delta")
    assert deltas > 3
    assert kinds == TEXT_EVENTS[:4] + ["response.output_text.delta"] * deltas + TEXT_EVENTS[5:]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    done = events[-1].response
    assert done.output_text == text
    assert done.usage.output_tokens == len(text.split())
    assert events[0].response.id == done.id
    assert events[0].response.status == "in_progress"


def test_stream_helper_gives_the_same_answer_as_a_plain_call(shim: Shim) -> None:
    async def both() -> tuple[Any, Any]:
        client = openai_client(shim)
        async with client.responses.stream(model=MODEL, input="same answer") as stream:
            async for _ in stream:
                pass
            streamed = await stream.get_final_response()
        plain = await client.responses.create(model=MODEL, input="same answer")
        return streamed, plain

    streamed, plain = run(both())
    assert streamed.output_text == plain.output_text


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_function_call_round_trip(shim: Shim, stream: bool) -> None:
    async def turn(items: list[Any]) -> Any:
        client = openai_client(shim)
        if not stream:
            return await client.responses.create(model=MODEL, input=items, tools=TOOLS)
        async with client.responses.stream(model=MODEL, input=items, tools=TOOLS) as events:
            kinds = [e.type async for e in events]
            assert "response.completed" in kinds
            return await events.get_final_response()

    question: list[Any] = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "weather?"}]}]
    first = run(turn(question))
    call = first.output[0]
    assert (call.type, call.name) == ("function_call", "lookup")
    assert call.call_id.startswith("call_")
    assert isinstance(json.loads(call.arguments)["city"], str)
    result = {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}
    second = run(turn([*question, call.model_dump(exclude_none=True), result]))
    assert second.output[0].type == "message"
    assert second.output_text.startswith("[mini-agent] weather?")


def test_streamed_function_call_events(shim: Shim) -> None:
    body = {"model": MODEL, "input": "call it", "tools": TOOLS, "stream": True}
    events = sse_events(Raw(shim).post("/v1/responses", body).text)
    kinds = [name for name, _ in events]
    assert kinds == ["response.created", "response.in_progress", "response.output_item.added",
                     "response.function_call_arguments.delta", "response.function_call_arguments.done",
                     "response.output_item.done", "response.completed"]
    assert all(name == data["type"] for name, data in events)
    added, delta, done = events[2][1], events[3][1], events[4][1]
    assert added["item"]["arguments"] == ""
    assert delta["item_id"] == added["item"]["id"] == done["item_id"]
    assert json.loads(done["arguments"]) == json.loads(events[-1][1]["response"]["output"][0]["arguments"])


def test_custom_tool_gets_a_custom_tool_call(shim: Shim) -> None:
    custom = [{"type": "custom", "name": "apply_patch", "description": "free text"}]
    reply = Raw(shim).post("/v1/responses", {"model": MODEL, "input": "patch", "tools": custom}).json()
    item = reply["output"][0]
    assert (item["type"], item["name"]) == ("custom_tool_call", "apply_patch")
    assert isinstance(item["input"], str)
    events = sse_events(Raw(shim).post("/v1/responses", {"model": MODEL, "input": "patch", "tools": custom,
                                                          "stream": True}).text)
    assert "response.custom_tool_call_input.done" in [name for name, _ in events]


def test_previous_response_id_continues_the_conversation(shim: Shim) -> None:
    async def go() -> tuple[Any, Any, Any]:
        client = openai_client(shim)
        first = await client.responses.create(model=MODEL, input="first turn")
        second = await client.responses.create(model=MODEL, input="second turn", previous_response_id=first.id)
        fresh = await client.responses.create(model=MODEL, input="second turn")
        return first, second, fresh

    first, second, fresh = run(go())
    assert second.previous_response_id == first.id
    assert second.usage.input_tokens == 2 + len(first.output_text.split()) + 2  # both inputs and the first output
    assert second.output_text != fresh.output_text  # the history is part of what was said
    raw = Raw(shim)
    assert raw.request("GET", f"/v1/responses/{first.id}").json()["output"][0]["id"] == first.output[0].id
    items = raw.request("GET", f"/v1/responses/{second.id}/input_items").json()["data"]
    assert [i["role"] for i in items] == ["user", "assistant", "user"]


def test_unknown_previous_response_is_a_404_in_openai_shape(shim: Shim) -> None:
    async def ask() -> None:
        await openai_client(shim).responses.create(model=MODEL, input="x", previous_response_id="resp_nope")

    with pytest.raises(NotFoundError) as caught:
        run(ask())
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["code"] == "previous_response_not_found"
    assert error["param"] == "previous_response_id"


def test_store_false_and_delete(shim: Shim) -> None:
    raw = Raw(shim)
    kept = raw.post("/v1/responses", {"model": MODEL, "input": "kept"}).json()
    unkept = raw.post("/v1/responses", {"model": MODEL, "input": "not kept", "store": False}).json()
    assert raw.request("GET", f"/v1/responses/{unkept['id']}").status_code == 404
    assert raw.request("DELETE", f"/v1/responses/{kept['id']}").json()["deleted"] is True
    assert raw.request("GET", f"/v1/responses/{kept['id']}").status_code == 404
    # Served again from the answer cache, the response is stored again.
    raw.post("/v1/responses", {"model": MODEL, "input": "kept"})
    assert raw.request("GET", f"/v1/responses/{kept['id']}").status_code == 200


def test_max_output_tokens_makes_an_incomplete_response(shim: Shim) -> None:
    raw = Raw(shim)
    reply = raw.post("/v1/responses", {"model": MODEL, "input": "cut me short", "max_output_tokens": 2}).json()
    assert reply["status"] == "incomplete"
    assert reply["incomplete_details"] == {"reason": "max_output_tokens"}
    assert reply["output"][0]["content"][0]["text"] == "[mini-agent] cut"
    events = sse_events(raw.post("/v1/responses", {"model": MODEL, "input": "cut me short", "max_output_tokens": 2,
                                                   "stream": True}).text)
    assert events[-1][0] == "response.incomplete"


@pytest.mark.parametrize("path", ["/v1/responses", "/responses", "/v1/v1/responses"])
def test_every_path_litellm_may_use(shim: Shim, path: str) -> None:
    assert Raw(shim).post(path, {"model": MODEL, "input": "where"}).json()["object"] == "response"


def test_bad_requests(shim: Shim) -> None:
    async def ask(**kw: Any) -> None:
        await openai_client(shim).responses.create(**kw)

    with pytest.raises(BadRequestError, match="model is required"):
        run(ask(model="", input="x"))
    with pytest.raises(BadRequestError, match="input must be"):
        run(ask(model=MODEL, input=7))
    with pytest.raises(BadRequestError, match="max_output_tokens"):
        run(ask(model=MODEL, input="x", max_output_tokens=-1))
