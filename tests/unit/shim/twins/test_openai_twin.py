"""The OpenAI twin, driven by the openai SDK: every answer type parses, every refusal is OpenAI's."""

from __future__ import annotations

import json
from typing import Any

import openai as sdk
import pytest

from .clients import OPENAI_TOOL, collect, fault, journal, new_shim, openai, run

USER = [{"role": "user", "content": "hello twin"}]


def test_plain_streamed_and_tool_answers_parse() -> None:
    shim = new_shim()
    client = openai(shim, "openai", "/v1")
    plain = run(lambda: client.chat.completions.create(model="gpt-4.1-mini", messages=USER))  # type: ignore[arg-type]
    assert (plain.choices[0].message.content or "").startswith("[mini-agent] hello twin")
    assert plain.usage is not None
    assert plain.usage.total_tokens > 0
    chunks = run(lambda: collect(client.chat.completions.create(  # type: ignore[call-overload]
        model="gpt-4.1-mini", messages=USER, stream=True, stream_options={"include_usage": True})))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == plain.choices[0].message.content
    assert chunks[-1].usage is not None
    called = run(lambda: client.chat.completions.create(model="gpt-4.1-mini", messages=USER,  # type: ignore[arg-type]
                                                        tools=[OPENAI_TOOL]))
    (call,) = called.choices[0].message.tool_calls or []
    assert call.function.name == "weather"
    assert "city" in json.loads(call.function.arguments)
    answered = [*USER, called.choices[0].message.model_dump(exclude_none=True),
                {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    final = run(lambda: client.chat.completions.create(model="gpt-4.1-mini", messages=answered,  # type: ignore[arg-type]
                                                       tools=[OPENAI_TOOL]))
    assert final.choices[0].finish_reason == "stop"
    assert {e["twin"] for e in journal(shim)} == {"openai"}


def test_embeddings_and_models() -> None:
    shim = new_shim()
    client = openai(shim, "openai", "/v1")
    vectors = run(lambda: client.embeddings.create(model="text-embedding-3-small", input=["a", "b"]))
    assert len(vectors.data) == 2
    assert [m.id for m in run(lambda: collect(client.models.list()))] == ["codex-agent-1"]


def test_a_missing_key_is_a_401_the_sdk_raises_as_authentication_error() -> None:
    shim = new_shim()
    client = openai(shim, "openai", "/v1")
    with pytest.raises(sdk.AuthenticationError) as caught:  # the SDK insists on a key: the header is blanked
        run(lambda: client.chat.completions.create(model="m", messages=USER,  # type: ignore[arg-type]
                                                   extra_headers={"Authorization": ""}))
    assert caught.value.code == "invalid_api_key"
    assert journal(shim)[-1]["refused"]["status"] == 401


BAD: list[tuple[dict[str, Any], str]] = [
    ({"bogus_knob": 1}, "Unrecognized request argument supplied: bogus_knob"),
    ({"temperature": 3}, "Invalid 'temperature'"),
    ({"n": 0}, "'n'"),
    ({"tools": [{"type": "function", "function": {"name": "has space", "parameters": {"type": "object"}}}]},
     "does not match pattern"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "string"}}}]},
     "Invalid schema for function 'f'"),
    ({"tool_choice": "required"}, "'tool_choice' is only allowed when 'tools' are specified"),
    ({"messages": [{"role": "robot", "content": "x"}]}, "Invalid value: 'robot'"),
    ({"messages": [*USER, {"role": "tool", "tool_call_id": "call_x", "content": "x"}]},
     "must be a response to a preceeding message with 'tool_calls'"),
    ({"messages": [*USER, {"role": "assistant", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, *USER]},
     "did not have response messages: call_1"),
]


@pytest.mark.parametrize(("extra", "why"), BAD, ids=[b[1][:30] for b in BAD])
def test_a_body_the_api_refuses_is_a_400_in_openai_shape(extra: dict[str, Any], why: str) -> None:
    shim = new_shim()
    client = openai(shim, "openai", "/v1")
    body = {"model": "gpt-4.1-mini", "messages": USER, **extra}
    with pytest.raises(sdk.BadRequestError) as caught:
        run(lambda: client.chat.completions.create(model="gpt-4.1-mini", messages=USER,  # type: ignore[arg-type]
                                                   extra_body=extra))
    assert why in caught.value.message
    assert caught.value.body["type"] == "invalid_request_error"  # type: ignore[index]
    entry = journal(shim)[-1]
    assert entry["twin"] == "openai"
    assert why in entry["refused"]["why"]
    assert entry["body"] == body


def test_a_429_carries_openai_retry_headers() -> None:
    shim = new_shim()
    client = openai(shim, "openai", "/v1")
    with pytest.raises(sdk.RateLimitError) as caught:
        run(lambda: client.chat.completions.create(model="m", messages=USER,  # type: ignore[arg-type]
                                                   extra_headers=fault("status=429;retry_after=2")))
    headers = caught.value.response.headers
    assert headers["retry-after"] == "2"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-reset-requests"] == "2s"
    assert caught.value.code == "rate_limit_exceeded"


def test_the_responses_api_answers_behind_the_key() -> None:
    shim = new_shim()
    reply = run(lambda: openai(shim, "openai", "/v1").responses.create(model="gpt-4.1-mini", input="hello twin"))
    assert reply.output_text.startswith("[mini-agent] hello twin")
