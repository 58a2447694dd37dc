"""The Mistral and Groq twins, driven by the openai SDK (both are OpenAI-compatible), each with
the refusals its own API adds."""

from __future__ import annotations

import json
import re
from typing import Any

import openai as sdk
import pytest

from .clients import OPENAI_TOOL, collect, fault, journal, new_shim, openai, run

USER = [{"role": "user", "content": "hello twin"}]
BASES = {"mistral": "/v1", "groq": "/openai/v1"}


@pytest.mark.parametrize("twin", ["mistral", "groq"])
def test_plain_streamed_and_tool_round_trip(twin: str) -> None:
    shim = new_shim()
    client = openai(shim, twin, BASES[twin])
    plain = run(lambda: client.chat.completions.create(model="m", messages=USER))  # type: ignore[arg-type]
    assert (plain.choices[0].message.content or "").startswith("[mini-agent] hello twin")
    chunks = run(lambda: collect(client.chat.completions.create(model="m", messages=USER, stream=True)))  # type: ignore[call-overload]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == plain.choices[0].message.content
    called = run(lambda: client.chat.completions.create(model="m", messages=USER, tools=[OPENAI_TOOL]))  # type: ignore[arg-type]
    (call,) = called.choices[0].message.tool_calls or []
    assert "city" in json.loads(call.function.arguments)
    answered = [*USER, called.choices[0].message.model_dump(exclude_none=True),
                {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    final = run(lambda: client.chat.completions.create(model="m", messages=answered, tools=[OPENAI_TOOL]))  # type: ignore[arg-type]
    assert final.choices[0].finish_reason == "stop"
    assert {e["twin"] for e in journal(shim)} == {twin}


def test_mistral_tool_call_ids_are_nine_letters_and_digits() -> None:
    called = run(lambda: openai(new_shim(), "mistral", "/v1").chat.completions.create(
        model="m", messages=USER, tools=[OPENAI_TOOL]))  # type: ignore[arg-type]
    assert re.fullmatch(r"[a-zA-Z0-9]{9}", (called.choices[0].message.tool_calls or [])[0].id)


MISTRAL_BAD: list[tuple[dict[str, Any], int, str]] = [
    ({"seed": 3}, 422, "Extra inputs are not permitted"),
    ({"messages": [{"role": "user", "content": "x", "name": "bob"}]}, 422, "Extra inputs are not permitted"),
    ({"messages": [*USER, {"role": "assistant", "tool_calls": [
        {"id": "call_abc123", "type": "function", "function": {"name": "weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_abc123", "content": "sun"}]}, 400,
     "Tool call id was call_abc123 but must be a-z, A-Z, 0-9, with a length of 9."),
    ({"messages": [*USER, {"role": "assistant", "content": "hi"}]}, 400,
     "Expected last role User or Tool (or Assistant with prefix True) for serving but got assistant"),
]


@pytest.mark.parametrize(("extra", "status", "why"), MISTRAL_BAD, ids=["seed", "user-name", "call-id", "last-role"])
def test_mistral_refuses_what_mistral_refuses(extra: dict[str, Any], status: int, why: str) -> None:
    shim = new_shim()
    with pytest.raises(sdk.APIStatusError) as caught:
        run(lambda: openai(shim, "mistral", "/v1").chat.completions.create(
            model="m", messages=USER, extra_body=extra))  # type: ignore[arg-type]
    body: Any = caught.value.body
    assert caught.value.status_code == status
    assert body["object"] == "error"
    message = body["message"]["detail"][0]["msg"] if status == 422 else body["message"]
    assert message == why
    assert journal(shim)[-1]["refused"]["status"] == status


def test_mistral_takes_its_own_arguments() -> None:
    reply = run(lambda: openai(new_shim(), "mistral", "/v1").chat.completions.create(
        model="m", messages=USER, tools=[OPENAI_TOOL],  # type: ignore[arg-type]
        extra_body={"safe_prompt": True, "random_seed": 1, "tool_choice": "any"}))
    assert reply.choices[0].message.tool_calls


GROQ_BAD: list[tuple[dict[str, Any], str]] = [
    ({"n": 2}, "'n' : number must be at most 1"),
    ({"logprobs": True}, "'logprobs' : property 'logprobs' is unsupported"),
    ({"logit_bias": {"1": 2}}, "'logit_bias' : property 'logit_bias' is unsupported"),
    ({"messages": [{"role": "user", "content": "x", "name": "bob"}]}, "property 'name' is unsupported"),
    ({"frobnicate": 1}, "property 'frobnicate' is unsupported"),
]


@pytest.mark.parametrize(("extra", "why"), GROQ_BAD, ids=["n", "logprobs", "logit_bias", "name", "unknown"])
def test_groq_refuses_what_its_docs_list(extra: dict[str, Any], why: str) -> None:
    shim = new_shim()
    with pytest.raises(sdk.BadRequestError) as caught:
        run(lambda: openai(shim, "groq", "/openai/v1").chat.completions.create(
            model="m", messages=USER, extra_body=extra))  # type: ignore[arg-type]
    assert why in caught.value.message
    assert caught.value.body["type"] == "invalid_request_error"  # type: ignore[index]
    assert why in journal(shim)[-1]["refused"]["why"]


def test_groq_answers_carry_x_groq() -> None:
    client = openai(new_shim(), "groq", "/openai/v1")
    reply = run(lambda: client.chat.completions.create(model="m", messages=USER))  # type: ignore[arg-type]
    assert (reply.model_extra or {})["x_groq"]["id"].startswith("req_")
    chunks = run(lambda: collect(client.chat.completions.create(model="m", messages=USER, stream=True)))  # type: ignore[call-overload]
    assert "usage" in (chunks[-1].model_extra or {})["x_groq"]


@pytest.mark.parametrize(("twin", "header"), [("groq", "x-ratelimit-remaining-requests"),
                                              ("mistral", "ratelimitbysize-remaining")])
def test_a_429_carries_the_providers_retry_headers(twin: str, header: str) -> None:
    with pytest.raises(sdk.RateLimitError) as caught:
        run(lambda: openai(new_shim(), twin, BASES[twin]).chat.completions.create(
            model="m", messages=USER, extra_headers=fault("status=429;retry_after=2")))  # type: ignore[arg-type]
    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.response.headers[header] == "0"


@pytest.mark.parametrize("twin", ["mistral", "groq"])
def test_no_key_is_a_401(twin: str) -> None:
    with pytest.raises(sdk.AuthenticationError):
        run(lambda: openai(new_shim(), twin, BASES[twin]).chat.completions.create(
            model="m", messages=USER, extra_headers={"Authorization": ""}))  # type: ignore[arg-type]
