"""The Gemini surface: the exact requests LiteLLM 1.108.7's ``gemini/`` provider sends to an
``api_base``, and the response shapes it parses.

LiteLLM is not in the host venv, so these tests pin shapes: the request bodies below are what
that provider sent through the real proxy (captured from the shim's journal), and the answers
are checked field by field against what its parser reads (``candidates[].content.parts[]``
``text`` / ``functionCall``, ``finishReason``, ``usageMetadata``; a stream of ``data:`` chunks).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .test_shim_fixtures import MODEL, WEATHER, Raw, new_shim, sse_events

URL = f"/v1beta/models/{MODEL}:generateContent"
STREAM = f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"
# What LiteLLM sends (snake_case keys, as its transformation writes them).
LITELLM_TOOLS: list[Any] = [{"function_declarations": [{"name": "lookup", "parameters": WEATHER}]}]
LITELLM_LEG1: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": "weather? gem"}]}],
                                "tools": LITELLM_TOOLS}
LITELLM_LEG2: dict[str, Any] = {"contents": [
    {"role": "user", "parts": [{"text": "weather? gem"}]},
    {"role": "model", "parts": [{"function_call": {"name": "lookup", "args": {"city": "Paris"}, "id": "call_1"},
                                 "thoughtSignature": "c2tpcA=="}]},
    {"role": "user", "parts": [{"function_response": {"name": "lookup", "response": {"content": "sunny 21C"},
                                                      "id": "call_1"}}]}], "tools": LITELLM_TOOLS}


@pytest.fixture
def raw() -> Raw:
    return Raw(new_shim())


def _ask(text: str, **extra: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}], **extra}


def test_text_answer_shape(raw: Raw) -> None:
    reply = raw.post(URL, _ask("hello gemini"), headers={"x-goog-api-key": "g-secret"}).json()
    candidate = reply["candidates"][0]
    assert candidate["content"]["role"] == "model"
    text = candidate["content"]["parts"][0]["text"]
    assert text.startswith("[mini-agent] hello gemini")
    assert candidate["finishReason"] == "STOP"
    assert candidate["index"] == 0
    usage = reply["usageMetadata"]
    assert usage["promptTokenCount"] == 2
    assert usage["candidatesTokenCount"] == len(text.split())
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]
    assert reply["modelVersion"] == MODEL
    assert reply["responseId"]


def test_stream_is_sse_chunks_ending_with_the_finish_reason(raw: Raw) -> None:
    response = raw.post(STREAM, _ask("hello stream"))
    assert response.headers["content-type"] == "text/event-stream"
    chunks = [data for _, data in sse_events(response.text)]
    assert len(chunks) > 3
    assert all("finishReason" not in c["candidates"][0] for c in chunks[:-1])
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    text = "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks)
    assert text == raw.post(URL, _ask("hello stream")).json()["candidates"][0]["content"]["parts"][0]["text"]
    assert chunks[-1]["usageMetadata"]["candidatesTokenCount"] == len(text.split())
    assert all(c["usageMetadata"]["promptTokenCount"] == 2 for c in chunks)


def test_litellm_tool_round_trip(raw: Raw) -> None:
    first = raw.post(URL, LITELLM_LEG1).json()["candidates"][0]
    call = first["content"]["parts"][0]["functionCall"]
    assert call["name"] == "lookup"
    assert isinstance(call["args"]["city"], str)  # an object, not a JSON string
    assert first["finishReason"] == "STOP"
    second = raw.post(URL, LITELLM_LEG2).json()["candidates"][0]
    assert second["content"]["parts"][0]["text"].startswith("[mini-agent] weather? gem")


def test_streamed_function_call(raw: Raw) -> None:
    chunks = [data for _, data in sse_events(raw.post(STREAM.replace("?alt=sse", ""), LITELLM_LEG1).text)]
    assert len(chunks) == 1
    assert chunks[0]["candidates"][0]["content"]["parts"][0]["functionCall"]["name"] == "lookup"
    assert chunks[0]["candidates"][0]["finishReason"] == "STOP"


@pytest.mark.parametrize("case", ["camel", "snake"])
def test_rest_and_protobuf_spellings(raw: Raw, case: str) -> None:
    def key(camel: str, snake: str) -> str:
        return camel if case == "camel" else snake

    body = _ask("spell", **{
        key("systemInstruction", "system_instruction"): {"parts": [{"text": "be brief"}]},
        "tools": [{key("functionDeclarations", "function_declarations"): [{"name": "lookup", "parameters": WEATHER},
                                                                          {"name": "other", "parameters": {}}]}],
        key("toolConfig", "tool_config"): {key("functionCallingConfig", "function_calling_config"): {
            "mode": "ANY", key("allowedFunctionNames", "allowed_function_names"): ["other"]}},
        key("generationConfig", "generation_config"): {key("maxOutputTokens", "max_output_tokens"): 5}})
    reply = raw.post(URL, body).json()
    assert reply["candidates"][0]["content"]["parts"][0]["functionCall"]["name"] == "other"
    assert reply["usageMetadata"]["promptTokenCount"] == 3  # the system instruction counts
    body["tools"] = []
    short = raw.post(URL, body).json()["candidates"][0]
    assert short["finishReason"] == "MAX_TOKENS"
    assert len(short["content"]["parts"][0]["text"].split()) == 5


def test_mode_none_candidates_and_stop_sequences(raw: Raw) -> None:
    body = _ask("stop here please", tools=LITELLM_TOOLS, toolConfig={"functionCallingConfig": {"mode": "NONE"}},
                generationConfig={"candidateCount": 2, "stopSequences": ["please"]})
    reply = raw.post(URL, body).json()
    assert [c["index"] for c in reply["candidates"]] == [0, 1]
    assert all(c["content"]["parts"][0]["text"] == "[mini-agent] stop here " for c in reply["candidates"])


@pytest.mark.parametrize("prefix", ["/v1beta", "/v1", "", "/v1alpha"])
def test_every_api_base_form(raw: Raw, prefix: str) -> None:
    # LiteLLM builds {api_base}/models/{model}:{method}, whatever the api_base ends with.
    assert raw.post(f"{prefix}/models/{MODEL}:generateContent", _ask("where")).json()["candidates"]


def test_count_tokens_and_embeddings(raw: Raw) -> None:
    assert raw.post(f"/v1beta/models/{MODEL}:countTokens", _ask("three words here")).json()["totalTokens"] == 3
    wrapped = {"generateContentRequest": {"model": f"models/{MODEL}", **_ask("two words")}}
    assert raw.post(f"/v1beta/models/{MODEL}:countTokens", wrapped).json()["totalTokens"] == 2
    one = raw.post(f"/v1beta/models/{MODEL}:embedContent", {"content": {"parts": [{"text": "a"}]}}).json()
    batch = raw.post(f"/v1beta/models/{MODEL}:batchEmbedContents", {"requests": [
        {"model": f"models/{MODEL}", "content": {"parts": [{"text": t}]}} for t in ("a", "b")]}).json()
    assert one["embedding"]["values"] == batch["embeddings"][0]["values"] != batch["embeddings"][1]["values"]


def test_models_listing_in_gemini_shape(raw: Raw) -> None:
    listing = raw.request("GET", "/v1beta/models").json()
    assert [m["name"] for m in listing["models"]] == [f"models/{MODEL}", "models/other"]
    assert raw.request("GET", f"/v1beta/models/{MODEL}").json()["displayName"] == MODEL


def test_keys_are_redacted_in_the_journal(raw: Raw) -> None:
    raw.post(URL, _ask("secret"), headers={"x-goog-api-key": "g-header-secret"})
    raw.post(URL + "?key=g-query-secret&alt=json", _ask("secret"))
    header_entry, query_entry = raw.journal()
    assert header_entry["headers"]["x-goog-api-key"] == "<redacted>"
    assert query_entry["query"] == "key=<redacted>&alt=json"
    shown = json.dumps(raw.journal())
    assert "g-header-secret" not in shown
    assert "g-query-secret" not in shown


def test_errors_in_google_shape(raw: Raw) -> None:
    bad = raw.post(URL, {"contents": []})
    assert bad.status_code == 400
    assert bad.json() == {"error": {"code": 400, "message": "contents must be a non-empty list",
                                    "status": "INVALID_ARGUMENT"}}
    unknown = raw.post(f"/v1beta/models/{MODEL}:explode", _ask("x"))
    assert (unknown.status_code, unknown.json()["error"]["status"]) == (404, "NOT_FOUND")
