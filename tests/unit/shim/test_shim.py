"""The shim in-process (httpx's ASGI transport), driven by the official openai client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from openai import AsyncOpenAI, BadRequestError, InternalServerError, RateLimitError

from bed.shim.app import Shim, create_app

MESSAGES: list[Any] = [{"role": "user", "content": "hello shim"}]


@pytest.fixture
def shim() -> Shim:
    return create_app({"MINI_AGENT_SEED": "test", "MINI_AGENT_MODELS": "codex-agent-1,other"})


def _client(shim: Shim) -> AsyncOpenAI:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=shim), base_url="http://shim")
    return AsyncOpenAI(api_key="sk-unused", base_url="http://shim/v1", http_client=http, max_retries=0)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_plain_completion_is_deterministic(shim: Shim) -> None:
    async def ask() -> str:
        reply = await _client(shim).chat.completions.create(model="codex-agent-1", messages=MESSAGES)
        assert reply.choices[0].finish_reason == "stop"
        assert reply.usage is not None
        assert reply.usage.prompt_tokens == 2
        return reply.choices[0].message.content or ""

    first, second = run(ask()), run(ask())
    assert first == second
    assert first.startswith("[mini-agent] hello shim")


def test_seed_changes_the_answer() -> None:
    async def ask(seed: str) -> str:
        reply = await _client(create_app({"MINI_AGENT_SEED": seed})).chat.completions.create(
            model="codex-agent-1", messages=MESSAGES)
        return reply.choices[0].message.content or ""

    assert run(ask("a")) != run(ask("b"))


def test_stream_with_usage_parses_with_openai(shim: Shim) -> None:
    async def ask() -> list[Any]:
        stream = await _client(shim).chat.completions.create(
            model="codex-agent-1", messages=MESSAGES, stream=True, stream_options={"include_usage": True})
        return [chunk async for chunk in stream]

    chunks = run(ask())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("[mini-agent] hello shim")
    assert chunks[-1].usage is not None
    assert chunks[-1].choices == []


def test_n_max_tokens_and_stop(shim: Shim) -> None:
    async def ask(**kw: Any) -> Any:
        return await _client(shim).chat.completions.create(model="codex-agent-1", messages=MESSAGES, **kw)

    two = run(ask(n=2))
    assert [c.index for c in two.choices] == [0, 1]
    short = run(ask(max_tokens=2))
    assert short.choices[0].message.content == "[mini-agent] hello"
    assert short.choices[0].finish_reason == "length"
    stopped = run(ask(stop=["shim"]))
    assert stopped.choices[0].message.content == "[mini-agent] hello "


def test_tool_call_when_tools_are_offered(shim: Shim) -> None:
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}}}

    async def ask() -> Any:
        return await _client(shim).chat.completions.create(model="codex-agent-1", messages=MESSAGES, tools=[tool])

    reply = run(ask())
    call = reply.choices[0].message.tool_calls[0]
    assert reply.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "lookup"
    assert set(json.loads(call.function.arguments)) == {"city", "days"}
    assert run(ask()).choices[0].message.tool_calls[0].id == call.id


def test_models_and_embeddings(shim: Shim) -> None:
    async def go() -> tuple[list[str], Any]:
        client = _client(shim)
        models = [m.id for m in (await client.models.list()).data]
        emb = await client.embeddings.create(model="codex-agent-1", input=["a", "b", "a"])
        return models, emb

    models, emb = run(go())
    assert models == ["codex-agent-1", "other"]
    vectors = [d.embedding for d in emb.data]
    assert vectors[0] == vectors[2] != vectors[1]
    assert abs(sum(v * v for v in vectors[0]) - 1) < 1e-3


@pytest.fixture
def raw(shim: Shim) -> Any:
    # A sync client over a tiny ASGI bridge, for status and header checks.
    async def call(method: str, url: str, **kw: Any) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=shim), base_url="http://shim") as c:
            return await c.request(method, url, **kw)

    class Bridge:
        def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
            return asyncio.run(call(method, url, **kw))

    return Bridge()


def test_fault_by_header_model_name_and_queue(shim: Shim, raw: Any) -> None:
    body = {"model": "codex-agent-1", "messages": MESSAGES}
    r = raw.request("POST", "/v1/chat/completions", json=body, headers={"x-bed-fault": "status=429;retry_after=2"})
    assert (r.status_code, r.headers["retry-after"]) == (429, "2")
    r = raw.request("POST", "/v1/chat/completions", json={**body, "model": "codex-agent-1~status=503"})
    assert r.status_code == 503
    raw.request("POST", "/_bed/faults", json={"fault": "status=500", "times": 2})
    codes = [raw.request("POST", "/v1/chat/completions", json=body).status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    r = raw.request("POST", "/v1/chat/completions", json=body, headers={"x-bed-fault": "malformed"})
    assert r.status_code == 200
    with pytest.raises(ValueError):  # noqa: PT011 - any JSON decoding error
        r.json()


def test_openai_client_sees_injected_errors(shim: Shim) -> None:
    async def ask(fault: str) -> None:
        await _client(shim).chat.completions.create(model="codex-agent-1~" + fault, messages=MESSAGES)

    with pytest.raises(RateLimitError):
        run(ask("status=429"))
    with pytest.raises(InternalServerError):
        run(ask("status=500"))
    with pytest.raises(BadRequestError, match="unknown fault"):
        run(ask("explode=1"))


def test_stream_cut_after_n_chunks(raw: Any) -> None:
    body = {"model": "codex-agent-1", "messages": MESSAGES, "stream": True}
    text = raw.request("POST", "/v1/chat/completions", json=body, headers={"x-bed-fault": "cut_after=2"}).text
    assert text.count("data: ") == 2
    assert "[DONE]" not in text


def test_journal_records_requests_without_credentials(raw: Any) -> None:
    raw.request("POST", "/v1/chat/completions", json={"model": "codex-agent-1", "messages": MESSAGES},
                headers={"Authorization": "Bearer sk-very-secret"})
    entries = raw.request("GET", "/_bed/journal").json()["entries"]
    assert entries[-1]["body"]["messages"] == MESSAGES
    assert entries[-1]["headers"]["authorization"] == "<redacted>"
    assert raw.request("DELETE", "/_bed/journal").json() == {"entries": []}


def test_journal_filters_by_a_marker_in_the_body(raw: Any) -> None:
    """A turn reads its own requests only: the whole journal of a run is megabytes of prompts."""
    for marker in ("bed-a-1", "bed-b-2", "bed-a-1"):
        raw.request("POST", "/v1/chat/completions",
                    json={"model": "codex-agent-1", "messages": [{"role": "user", "content": f"[{marker}] hi"}]})
    mine = raw.request("GET", "/_bed/journal?contains=bed-a-1").json()["entries"]
    assert len(mine) == 2
    assert all("bed-a-1" in m["body"]["messages"][0]["content"] for m in mine)
    assert raw.request("GET", "/_bed/journal?contains=nobody").json() == {"entries": []}
    assert len(raw.request("GET", "/_bed/journal").json()["entries"]) >= 3


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("GET", "/nope", None, 404),
    ("POST", "/v1/chat/completions", {"model": "codex-agent-1"}, 400),
    ("POST", "/v1/chat/completions", {"model": "codex-agent-1", "messages": MESSAGES, "n": 99}, 400),
    ("POST", "/v1/embeddings", {"model": "m", "input": []}, 400),
    ("POST", "/_bed/faults", {"fault": "status=429", "times": 0}, 400),
])
def test_bad_requests_get_openai_shaped_errors(raw: Any, method: str, path: str, body: Any, status: int) -> None:
    r = raw.request(method, path, json=body)
    assert r.status_code == status
    assert r.json()["error"]["message"]


def test_health_endpoints(raw: Any) -> None:
    for path in ("/health", "/health/liveliness", "/health/readiness"):
        assert raw.request("GET", path).status_code == 200


def test_non_json_body_is_a_400(raw: Any) -> None:
    assert raw.request("POST", "/v1/chat/completions", content=b"{nope").status_code == 400


def test_cached_answers_never_hide_a_fault(shim: Shim, raw: Any) -> None:
    body = {"model": "codex-agent-1", "messages": MESSAGES}
    first = raw.request("POST", "/v1/chat/completions", json=body)
    assert raw.request("POST", "/v1/chat/completions", json=body).content == first.content  # from the cache
    assert raw.request("POST", "/v1/chat/completions", json=body, headers={"x-bed-fault": "status=503"}).status_code \
        == 503
    raw.request("POST", "/_bed/faults", json={"fault": "status=429", "times": 1})
    assert raw.request("POST", "/v1/chat/completions", json=body).status_code == 429
    assert raw.request("POST", "/v1/chat/completions", json=body).content == first.content
    # Every request, cached or not, is in the journal.
    assert len(raw.request("GET", "/_bed/journal").json()["entries"]) == 5


def test_streamed_tool_call_parses_with_openai(shim: Shim) -> None:
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}}}}

    async def ask() -> list[Any]:
        stream = await _client(shim).chat.completions.create(model="codex-agent-1", messages=MESSAGES,
                                                             tools=[tool], stream=True)
        return [chunk async for chunk in stream]

    chunks = run(ask())
    calls = [c.choices[0].delta.tool_calls for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    assert calls[0][0].function.name == "lookup"
    arguments = json.loads(calls[0][0].function.arguments)
    assert set(arguments) == {"city"}
    assert isinstance(arguments["city"], str)
    assert arguments["city"]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_time_to_first_token_and_token_delay(raw: Any) -> None:
    import time

    body = {"model": "codex-agent-1", "messages": MESSAGES, "stream": True}
    started = time.monotonic()
    text = raw.request("POST", "/v1/chat/completions", json=body,
                       headers={"x-bed-fault": "ttft_ms=200;token_ms=20"}).text
    took = time.monotonic() - started
    frames = text.count("data: ")
    # 200 ms before the first chunk, then 20 ms between chunks: a lower bound, not a speed goal.
    assert took >= 0.2 + 0.02 * (frames - 3)
    assert text.rstrip().endswith("data: [DONE]")


def test_a_hang_never_answers(shim: Shim) -> None:
    async def ask() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=shim), base_url="http://shim") as c:
            await asyncio.wait_for(c.post("/v1/chat/completions", headers={"x-bed-fault": "hang"},
                                          json={"model": "codex-agent-1", "messages": MESSAGES}), timeout=0.3)

    with pytest.raises(asyncio.TimeoutError):
        run(ask())


def test_an_agent_loop_ends_after_a_tool_result(shim: Shim) -> None:
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}
    messages: list[Any] = [{"role": "user", "content": "loop"}]

    async def ask(**kw: Any) -> Any:
        reply = await _client(shim).chat.completions.create(model="codex-agent-1", messages=messages, tools=[tool],
                                                            **kw)
        return reply.choices[0]

    first = run(ask())
    assert first.finish_reason == "tool_calls"
    messages += [first.message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": first.message.tool_calls[0].id, "content": "done"}]
    assert run(ask()).finish_reason == "stop"
    assert run(ask(tool_choice="required")).finish_reason == "tool_calls"  # unless the request insists
    assert run(ask(tool_choice="required")).message.tool_calls[0].id != first.message.tool_calls[0].id


def test_every_credential_is_masked_in_the_journal(raw: Any) -> None:
    secrets = {"authorization": "Bearer sk-1", "api-key": "az-2", "x-api-key": "ant-3", "x-goog-api-key": "g-4",
               "proxy-authorization": "Basic p-5", "cookie": "c-6"}
    raw.request("POST", "/v1/chat/completions?key=q-7&api_key=q-8&keep=yes", headers=secrets,
                json={"model": "codex-agent-1", "messages": MESSAGES})
    entry = raw.request("GET", "/_bed/journal").json()["entries"][-1]
    assert {k: entry["headers"][k] for k in secrets} == dict.fromkeys(secrets, "<redacted>")
    assert entry["query"] == "key=<redacted>&api_key=<redacted>&keep=yes"
    shown = json.dumps(entry)
    assert not any(s in shown for s in ("sk-1", "az-2", "ant-3", "g-4", "p-5", "c-6", "q-7", "q-8"))


def test_everything_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from bed.shim import _scripts, app
    from bed.shim._http import MAX_BODY
    from bed.shim._journal import Journal
    from bed.shim.surfaces.responses import Store

    monkeypatch.setattr(app, "CACHE_SIZE", 3)
    shim = create_app({})
    scripts = _scripts.Scripts(limit=2)
    for marker in ("a", "b", "c"):
        scripts.add(_scripts.Script.parse({"contains": marker, "steps": [{"text": marker}]}))
    assert [s["contains"] for s in scripts.listing()] == ["b", "c"]
    store = Store(limit=2)
    for ident in ("r1", "r2", "r3"):
        store.put({"id": ident, "output": []}, [])
    assert (store.get("r1"), len(store)) == (None, 2)

    async def many() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=shim), base_url="http://shim") as c:
            for i in range(6):
                await c.post("/v1/chat/completions",
                             json={"model": "codex-agent-1", "messages": [{"role": "user", "content": str(i)}]})

    run(many())
    assert len(shim._cache) == 3
    assert raw_status(shim, b"x" * (MAX_BODY + 1)) == 413
    journal = Journal(limit=2)
    for i in range(3):
        journal.record("POST", f"/{i}", [], b"")
    assert [e["path"] for e in journal.entries()] == ["/1", "/2"]


def raw_status(shim: Shim, body: bytes) -> int:
    async def call() -> int:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=shim), base_url="http://shim") as c:
            return (await c.post("/v1/chat/completions", content=body)).status_code

    return int(run(call()))
