"""The Anthropic twin, driven by the anthropic SDK: x-api-key, anthropic-version, max_tokens, tool
rules, and Anthropic's error bodies and rate-limit headers."""

from __future__ import annotations

from typing import Any

import anthropic as sdk
import httpx
import pytest

from .clients import WEATHER, anthropic, collect, fault, http, journal, new_shim, run

USER = [{"role": "user", "content": "hello claude"}]
TOOL = {"name": "weather", "description": "the weather", "input_schema": WEATHER}


def test_plain_streamed_tool_and_count_answers_parse() -> None:
    shim = new_shim()
    client = anthropic(shim)
    plain = run(lambda: client.messages.create(model="claude-x", max_tokens=64, messages=USER))  # type: ignore[arg-type]
    assert plain.content[0].type == "text"
    assert plain.content[0].text.startswith("[mini-agent] hello claude")
    events = run(lambda: collect(client.messages.create(model="claude-x", max_tokens=64, messages=USER,  # type: ignore[arg-type]
                                                        stream=True)))
    assert [e.type for e in events][-1] == "message_stop"
    called = run(lambda: client.messages.create(model="claude-x", max_tokens=64, messages=USER,  # type: ignore[arg-type]
                                                tools=[TOOL]))  # type: ignore[list-item]
    assert called.stop_reason == "tool_use"
    use = next(b for b in called.content if b.type == "tool_use")
    result = {"type": "tool_result", "tool_use_id": use.id, "content": "sun"}
    answered: list[Any] = [*USER, {"role": "assistant", "content": [b.model_dump() for b in called.content]},
                           {"role": "user", "content": [result]}]
    final = run(lambda: client.messages.create(model="claude-x", max_tokens=64, messages=answered,  # type: ignore[arg-type]
                                               tools=[TOOL]))  # type: ignore[list-item]
    assert final.stop_reason == "end_turn"
    counted = run(lambda: client.messages.count_tokens(model="claude-x", messages=USER))  # type: ignore[arg-type]
    assert counted.input_tokens == 2
    assert {e["twin"] for e in journal(shim)} == {"anthropic"}


async def _post(shim: Any, headers: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    async with http(shim, headers) as c:
        return await c.post("/twins/anthropic/v1/messages", json=body)


@pytest.mark.parametrize(("headers", "status", "why"), [
    ({"anthropic-version": "2023-06-01"}, 401, "x-api-key header is required"),
    ({"x-api-key": "k"}, 400, "anthropic-version: header is required"),
    ({"x-api-key": "k", "anthropic-version": "2023-10-01"}, 400,
     'anthropic-version: "2023-10-01" is not a valid version'),
], ids=["no-key", "no-version", "wrong-version"])
def test_headers_the_api_requires(headers: dict[str, str], status: int, why: str) -> None:
    shim = new_shim()
    answer = run(lambda: _post(shim, headers, {"model": "m", "max_tokens": 5, "messages": USER}))
    assert answer.status_code == status
    assert answer.json()["type"] == "error"
    assert answer.json()["error"]["message"] == why
    assert journal(shim)[-1]["refused"] == {"status": status, "why": why}


def test_max_tokens_is_required() -> None:
    shim = new_shim()
    answer = run(lambda: _post(shim, {"x-api-key": "k", "anthropic-version": "2023-06-01"},
                               {"model": "m", "messages": USER}))
    assert (answer.status_code, answer.json()["error"]["message"]) == (400, "max_tokens: Field required")


def test_the_sdk_raises_authentication_error_without_a_key() -> None:
    # This anthropic SDK sends its key as a Bearer token (the API takes that or x-api-key): blank it.
    with pytest.raises(sdk.AuthenticationError):
        run(lambda: anthropic(new_shim()).messages.create(  # the SDK insists on a key: the header is blanked
            model="m", max_tokens=5, messages=USER, extra_headers={"Authorization": sdk.Omit()}))  # type: ignore[arg-type]


BAD: list[tuple[dict[str, Any], str]] = [
    ({"max_tokens": 0}, "max_tokens: Input should be greater than or equal to 1"),
    ({"frequency_penalty": 1}, "frequency_penalty: Extra inputs are not permitted"),
    ({"temperature": 1.5}, "temperature: Input should be less than or equal to 1"),
    ({"messages": [{"role": "system", "content": "be nice"}, *USER]}, 'Unexpected role "system"'),
    ({"messages": [{"role": "user", "content": ""}]}, "all messages must have non-empty content"),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": " "}]}]},
     "text content blocks must contain non-whitespace text"),
    ({"messages": [*USER, {"role": "assistant", "content": "ok"},
                   {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "x"}]}]},
     "unexpected `tool_use_id` found in `tool_result` blocks: toolu_1"),
    ({"messages": [*USER, {"role": "assistant", "content": [
        {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {}}]}, *USER]},
     "`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1"),
    ({"tools": [{"name": "bad name", "input_schema": WEATHER}]}, "tools.0.custom.name: String should match pattern"),
    ({"tools": [{"name": "weather"}]}, "tools.0.custom.input_schema: Field required"),
    ({"tools": [{"name": "weather", "input_schema": {"type": "array"}}]},
     "input_schema.type: Input should be 'object'"),
    ({"tools": [TOOL, TOOL]}, "Tool names must be unique"),
    ({"tool_choice": {"type": "any"}}, "tool_choice may only be specified while providing tools"),
]


@pytest.mark.parametrize(("extra", "why"), BAD, ids=[b[1][:40] for b in BAD])
def test_a_body_the_api_refuses_is_a_400_the_sdk_raises(extra: dict[str, Any], why: str) -> None:
    shim = new_shim()
    with pytest.raises(sdk.BadRequestError) as caught:
        run(lambda: anthropic(shim).messages.create(model="claude-x", max_tokens=64, messages=USER,  # type: ignore[arg-type]
                                                    extra_body=extra))
    assert caught.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert why in caught.value.body["error"]["message"]  # type: ignore[index]
    assert why in journal(shim)[-1]["refused"]["why"]


def test_a_429_carries_anthropics_rate_limit_headers() -> None:
    with pytest.raises(sdk.RateLimitError) as caught:
        run(lambda: anthropic(new_shim()).messages.create(model="m", max_tokens=5, messages=USER,  # type: ignore[arg-type]
                                                          extra_headers=fault("status=429;retry_after=4")))
    headers = caught.value.response.headers
    assert headers["retry-after"] == "4"
    assert headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert headers["anthropic-ratelimit-tokens-reset"].endswith("Z")
    assert caught.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]


def test_an_overload_is_anthropics_529() -> None:
    with pytest.raises(sdk.APIStatusError) as caught:
        run(lambda: anthropic(new_shim()).messages.create(model="m", max_tokens=5, messages=USER,  # type: ignore[arg-type]
                                                          extra_headers=fault("status=529")))
    assert caught.value.status_code == 529
    assert caught.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
