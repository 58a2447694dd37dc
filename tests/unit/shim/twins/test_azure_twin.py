"""The Azure OpenAI twin, driven by the openai SDK's AzureOpenAI: deployment paths, api-version,
api-key, content-filter results, Azure's own refusals."""

from __future__ import annotations

import json

import httpx
import openai as sdk
import pytest

from .clients import OPENAI_TOOL, collect, fault, http, journal, new_shim, openai, run
from .clients import azure as azure_client

USER = [{"role": "user", "content": "hello azure"}]


def test_plain_streamed_and_tool_answers_parse_through_the_deployment_path() -> None:
    shim = new_shim()
    client = azure_client(shim)
    plain = run(lambda: client.chat.completions.create(model="my-gpt4o", messages=USER))  # type: ignore[arg-type]
    assert (plain.choices[0].message.content or "").startswith("[mini-agent] hello azure")
    assert plain.model == "my-gpt4o"  # the deployment names the model
    assert plain.model_extra
    assert plain.model_extra["prompt_filter_results"][0]["prompt_index"] == 0
    chunks = run(lambda: collect(client.chat.completions.create(model="my-gpt4o", messages=USER,  # type: ignore[call-overload]
                                                                stream=True)))
    assert chunks[0].choices == []  # Azure's first chunk: the prompt's filter results, no choice
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == plain.choices[0].message.content
    called = run(lambda: client.chat.completions.create(model="my-gpt4o", messages=USER,  # type: ignore[arg-type]
                                                        tools=[OPENAI_TOOL]))
    (call,) = called.choices[0].message.tool_calls or []
    assert "city" in json.loads(call.function.arguments)
    entry = journal(shim)[0]
    assert entry["path"] == "/twins/azure/openai/deployments/my-gpt4o/chat/completions"
    assert entry["query"] == "api-version=2024-10-21"
    assert entry["headers"]["api-key"] == "<redacted>"
    vectors = run(lambda: client.embeddings.create(model="my-embedder", input="text"))
    assert len(vectors.data[0].embedding) == 16


def test_the_v1_api_needs_no_version() -> None:
    shim = new_shim()
    reply = run(lambda: openai(shim, "azure", "/openai/v1").chat.completions.create(
        model="gpt-4o", messages=USER))  # type: ignore[arg-type]
    assert (reply.choices[0].message.content or "").startswith("[mini-agent]")


def test_no_key_is_azures_401() -> None:
    shim = new_shim()

    async def call() -> httpx.Response:
        async with http(shim) as c:
            return await c.post("/twins/azure/openai/deployments/d/chat/completions?api-version=2024-10-21",
                                json={"messages": USER})

    answer = run(call)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "401"
    assert "Access denied" in answer.json()["error"]["message"]


@pytest.mark.parametrize("version", ["", "v2", "2024-13"], ids=["missing", "word", "not-a-date"])
def test_a_deployment_path_without_a_valid_api_version_is_not_found(version: str) -> None:
    shim = new_shim()
    query = f"?api-version={version}" if version else ""

    async def call() -> httpx.Response:
        async with http(shim, {"api-key": "k"}) as c:
            return await c.post(f"/twins/azure/openai/deployments/d/chat/completions{query}", json={"messages": USER})

    answer = run(call)
    assert (answer.status_code, answer.json()) == (404, {"error": {"code": "404", "message": "Resource not found"}})
    assert journal(shim)[-1]["refused"] == {"status": 404, "why": "Resource not found"}


def test_the_sdk_raises_not_found_for_a_bad_version() -> None:
    with pytest.raises(sdk.NotFoundError):
        run(lambda: azure_client(new_shim(), version="latest-ish").chat.completions.create(
            model="d", messages=USER))  # type: ignore[arg-type]


def test_an_unknown_argument_is_refused_in_openai_shape() -> None:
    with pytest.raises(sdk.BadRequestError) as caught:
        run(lambda: azure_client(new_shim()).chat.completions.create(
            model="d", messages=USER, extra_body={"top_k": 3}))  # type: ignore[arg-type]
    assert "Unrecognized request argument supplied: top_k" in caught.value.message


def test_a_429_carries_azures_retry_headers() -> None:
    with pytest.raises(sdk.RateLimitError) as caught:
        run(lambda: azure_client(new_shim()).chat.completions.create(
            model="d", messages=USER, extra_headers=fault("status=429;retry_after=3")))  # type: ignore[arg-type]
    headers = caught.value.response.headers
    assert (headers["retry-after"], headers["retry-after-ms"]) == ("3", "3000")
    assert caught.value.body == {"code": "429", "message": caught.value.body["message"]}  # type: ignore[index]
    assert "Please retry after 3 second" in caught.value.message
