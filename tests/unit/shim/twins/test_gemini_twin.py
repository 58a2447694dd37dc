"""The Gemini (AI Studio) twin, driven by google-genai: the key, the proto's unknown-field refusals
(Schema included), and Google's error bodies with RetryInfo."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from google.genai import errors, types

from .clients import WEATHER, collect, fault, gemini, http, journal, new_shim, run

MODEL = "gemini-2.5-flash"


def _tool(parameters: dict[str, Any]) -> types.GenerateContentConfig:
    declaration = types.FunctionDeclaration(name="weather", description="the weather", parameters=parameters)
    return types.GenerateContentConfig(tools=[types.Tool(function_declarations=[declaration])])


def test_plain_streamed_tool_count_and_embedding_answers_parse() -> None:
    shim = new_shim()
    client = gemini(shim)
    plain = run(lambda: client.aio.models.generate_content(model=MODEL, contents="hello gemini"))
    assert (plain.text or "").startswith("[mini-agent] hello gemini")
    chunks = run(lambda: collect(client.aio.models.generate_content_stream(model=MODEL, contents="hello gemini")))
    assert "".join(c.text or "" for c in chunks) == plain.text
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP  # type: ignore[index]
    called = run(lambda: client.aio.models.generate_content(model=MODEL, contents="weather?", config=_tool(WEATHER)))
    (call,) = called.function_calls or []
    assert call.name == "weather"
    assert "city" in (call.args or {})
    counted = run(lambda: client.aio.models.count_tokens(model=MODEL, contents="one two three"))
    assert counted.total_tokens == 3
    vectors = run(lambda: client.aio.models.embed_content(model="text-embedding-004", contents=["a", "b"]))
    assert len(vectors.embeddings or []) == 2
    paths = [e["path"] for e in journal(shim)]
    assert paths[0] == f"/twins/gemini/v1beta/models/{MODEL}:generateContent"
    assert f"/twins/gemini/v1beta/models/{MODEL}:streamGenerateContent" in paths
    assert {e["twin"] for e in journal(shim)} == {"gemini"}


@pytest.mark.parametrize("how", ["header", "query"])
def test_a_key_in_the_header_or_the_query(how: str) -> None:
    shim = new_shim()
    headers, query = ({"x-goog-api-key": "AIza"}, "") if how == "header" else ({}, "?key=AIza")

    async def call() -> httpx.Response:
        async with http(shim, headers) as c:
            return await c.post(f"/twins/gemini/v1beta/models/{MODEL}:generateContent{query}",
                                json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})

    assert run(call).status_code == 200
    assert journal(shim)[-1]["query"] in ("", "key=<redacted>")


def test_no_key_is_googles_403() -> None:
    shim = new_shim()

    async def call() -> httpx.Response:
        async with http(shim) as c:
            return await c.post(f"/twins/gemini/v1beta/models/{MODEL}:generateContent",
                                json={"contents": [{"parts": [{"text": "hi"}]}]})

    answer = run(call)
    assert answer.status_code == 403
    assert answer.json()["error"]["status"] == "PERMISSION_DENIED"


BAD_SCHEMAS: list[tuple[dict[str, Any], str]] = [
    ({**WEATHER, "additionalProperties": False}, 'Unknown name "additionalProperties" at '
                                                 "'tools[0].function_declarations[0].parameters'"),
    ({"type": "object", "properties": {"city": {"type": "string", "const": "Paris"}}},
     "Unknown name \"const\" at 'tools[0].function_declarations[0].parameters.properties[0].value'"),
    ({"type": "object", "properties": {"city": {"$ref": "#/defs/x"}}}, 'Unknown name "$ref"'),
    ({"type": "objekt"}, "Invalid value at 'tools[0].function_declarations[0].parameters.type'"),
]


@pytest.mark.parametrize(("schema", "why"), BAD_SCHEMAS, ids=["additionalProperties", "const", "ref", "type"])
def test_a_tool_schema_google_refuses_is_a_400(schema: dict[str, Any], why: str) -> None:
    shim = new_shim()
    body = {"contents": [{"role": "user", "parts": [{"text": "weather?"}]}],
            "tools": [{"functionDeclarations": [{"name": "weather", "parameters": schema}]}]}

    async def call() -> httpx.Response:
        async with http(shim, {"x-goog-api-key": "AIza"}) as c:
            return await c.post(f"/twins/gemini/v1beta/models/{MODEL}:generateContent", json=body)

    answer = run(call)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert why in answer.json()["error"]["message"]
    assert why in journal(shim)[-1]["refused"]["why"]


def test_full_json_schema_goes_in_parameters_json_schema() -> None:
    declaration = types.FunctionDeclaration(name="weather", parameters_json_schema={**WEATHER,
                                                                                    "additionalProperties": False})
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[declaration])])
    called = run(lambda: gemini(new_shim()).aio.models.generate_content(model=MODEL, contents="w?", config=config))
    assert called.function_calls


@pytest.mark.parametrize(("body", "why"), [
    ({"contents": [{"parts": [{"text": "x"}]}], "generation_config": {}, "temperatur": 1}, 'Unknown name "temperatur"'),
    ({"contents": []}, "contents is not specified"),
    ({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}, "Please use a valid role: user, model."),
    ({"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"temperature": 2.5}}, "temperature"),
], ids=["unknown-field", "no-contents", "role", "temperature"])
def test_a_body_google_refuses_raises_the_sdks_client_error(body: dict[str, Any], why: str) -> None:
    shim = new_shim()

    async def call() -> httpx.Response:
        async with http(shim, {"x-goog-api-key": "AIza"}) as c:
            return await c.post(f"/twins/gemini/v1beta/models/{MODEL}:generateContent", json=body)

    answer = run(call)
    assert answer.status_code == 400
    assert why in answer.json()["error"]["message"]


def test_a_429_is_resource_exhausted_with_retry_info() -> None:
    client = gemini(new_shim(), headers=fault("status=429;retry_after=7"))
    with pytest.raises(errors.ClientError) as caught:
        run(lambda: client.aio.models.generate_content(model=MODEL, contents="hi"))
    assert (caught.value.code, caught.value.status) == (429, "RESOURCE_EXHAUSTED")
    retry = [d for d in caught.value.details["error"]["details"] if d["@type"].endswith("RetryInfo")]
    assert retry == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}]


def test_a_server_fault_raises_the_sdks_server_error() -> None:
    client = gemini(new_shim(), headers=fault("status=503"))
    with pytest.raises(errors.ServerError) as caught:
        run(lambda: client.aio.models.generate_content(model=MODEL, contents="hi"))
    assert caught.value.status == "UNAVAILABLE"
