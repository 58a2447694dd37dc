"""What every twin shares with the agent surfaces: one pipeline (journal, cache, faults, scripts)."""

from __future__ import annotations

from typing import Any

import httpx

from bed.shim.app import Shim

from .clients import http, journal, new_shim, run

CHAT = {"model": "gpt-x", "messages": [{"role": "user", "content": "hello pipeline"}]}
KEY = {"Authorization": "Bearer sk-twin"}


def _post(shim: Shim, path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    async def call() -> httpx.Response:
        async with http(shim, headers) as c:
            return await c.post(path, json=body)

    return run(call)


def test_an_unknown_twin_or_route_is_a_404_journaled_with_why() -> None:
    shim = new_shim()
    answer = _post(shim, "/twins/cohere/v1/chat", CHAT, KEY)
    assert answer.status_code == 404
    assert "the shim has twins for anthropic, azure" in answer.json()["error"]["message"]
    answer = _post(shim, "/twins/openai/v2/chat/completions", CHAT, KEY)
    assert answer.status_code == 404
    entry = journal(shim)[-1]
    assert entry["twin"] == "openai"
    assert entry["refused"]["why"] == "the openai twin has no route POST /v2/chat/completions"


def test_the_answer_cache_never_serves_a_request_the_twin_refuses() -> None:
    shim = new_shim()
    assert _post(shim, "/twins/openai/v1/chat/completions", CHAT, KEY).status_code == 200
    assert _post(shim, "/twins/openai/v1/chat/completions", CHAT, KEY).status_code == 200  # from the cache
    assert _post(shim, "/twins/openai/v1/chat/completions", CHAT).status_code == 401
    assert [e.get("refused", {}).get("status") for e in journal(shim)] == [None, None, 401]


def test_queued_faults_and_model_suffixes_reach_a_twin_in_its_own_shape() -> None:
    shim = new_shim()
    assert _post(shim, "/_bed/faults", {"fault": "status=429;retry_after=1", "model": "claude-q"}).status_code == 200
    body = {"model": "claude-q", "max_tokens": 9, "messages": CHAT["messages"]}
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    limited = _post(shim, "/twins/anthropic/v1/messages", body, headers)
    assert limited.status_code == 429
    assert limited.json()["error"]["type"] == "rate_limit_error"
    assert limited.headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert _post(shim, "/twins/anthropic/v1/messages", body, headers).status_code == 200  # consumed
    suffixed = _post(shim, "/twins/azure/openai/deployments/dep~status=503/chat/completions?api-version=2024-10-21",
                     {"messages": CHAT["messages"]}, {"api-key": "k"})
    assert (suffixed.status_code, suffixed.json()["error"]["code"]) == (503, "503")


def test_a_script_answers_through_a_twin() -> None:
    shim = new_shim()
    script = {"contains": "MARK-1", "steps": [{"text": "scripted for MARK-1"}]}
    assert _post(shim, "/_bed/scripts", script).status_code == 200
    body = {"contents": [{"role": "user", "parts": [{"text": "say MARK-1"}]}]}
    answer = _post(shim, "/twins/gemini/v1beta/models/g:generateContent", body, {"x-goog-api-key": "k"})
    assert answer.json()["candidates"][0]["content"]["parts"][0]["text"] == "scripted for MARK-1"


def test_the_agent_surfaces_stay_lenient() -> None:
    shim = new_shim()  # no key, an argument no API knows: the agent-facing route still answers
    assert _post(shim, "/v1/chat/completions", {**CHAT, "bogus": 1}).status_code == 200
    assert "twin" not in journal(shim)[-1]
