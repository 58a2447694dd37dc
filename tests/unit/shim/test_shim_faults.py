"""One fault model on every surface: the same spec does the same thing in each protocol's shape."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import pytest
from anthropic import OverloadedError
from anthropic import RateLimitError as AnthropicRateLimit
from openai import RateLimitError as OpenAIRateLimit

from bed.shim.app import Shim

from .test_shim_fixtures import MODEL, Raw, anthropic_client, new_shim, openai_client, run, sse_events


@dataclasses.dataclass(frozen=True)
class Case:
    path: str
    body: dict[str, Any]
    stream_path: str
    terminal: str  # what only a complete stream carries
    error: Callable[[Any, int], bool]  # is this body the surface's error shape for that status?
    model_in_path: bool = False

    def stream_body(self) -> dict[str, Any]:
        return self.body if self.model_in_path else {**self.body, "stream": True}

    def with_model(self, model: str) -> tuple[str, dict[str, Any]]:
        if self.model_in_path:
            return self.path.replace(MODEL, model), self.body
        return self.path, {**self.body, "model": model}


def _openai_shape(body: Any, status: int) -> bool:
    return set(body["error"]) == {"message", "type", "param", "code"} and bool(body["error"]["message"])


def _anthropic_shape(body: Any, status: int) -> bool:
    kinds = {429: "rate_limit_error", 503: "api_error", 500: "api_error", 529: "overloaded_error"}
    return body["type"] == "error" and body["error"]["type"] == kinds[status] and bool(body["error"]["message"])


def _gemini_shape(body: Any, status: int) -> bool:
    statuses = {429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE", 500: "INTERNAL"}
    return body["error"]["code"] == status and body["error"]["status"] == statuses[status]


PROMPT = "fault probe words"
CASES = {
    "chat": Case("/v1/chat/completions", {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]},
                 "/v1/chat/completions", "data: [DONE]", _openai_shape),
    "responses": Case("/v1/responses", {"model": MODEL, "input": PROMPT}, "/v1/responses",
                      "event: response.completed", _openai_shape),
    "messages": Case("/v1/messages",
                     {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": PROMPT}]},
                     "/v1/messages", "event: message_stop", _anthropic_shape),
    "gemini": Case(f"/v1beta/models/{MODEL}:generateContent",
                   {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]},
                   f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse", '"finishReason"', _gemini_shape,
                   model_in_path=True),
}
surfaces = pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))


@pytest.fixture
def raw() -> Raw:
    return Raw(new_shim())


@surfaces
def test_status_with_retry_after_in_the_surface_error_shape(raw: Raw, case: Case) -> None:
    response = raw.post(case.path, case.body, headers={"x-bed-fault": "status=429;retry_after=2"})
    assert (response.status_code, response.headers["retry-after"]) == (429, "2")
    assert case.error(response.json(), 429)


@surfaces
def test_fault_in_the_model_name(raw: Raw, case: Case) -> None:
    path, body = case.with_model(MODEL + "~status=503")
    response = raw.post(path, body)
    assert response.status_code == 503
    assert case.error(response.json(), 503)


@surfaces
def test_queued_fault_takes_only_matching_requests(raw: Raw, case: Case) -> None:
    raw.post("/_bed/faults", {"fault": "status=500", "times": 1, "contains": "fault probe", "model": MODEL})
    raw.post("/_bed/faults", {"fault": "status=500", "times": 1, "contains": "fault probe", "model": "other"})
    _, elsewhere = case.with_model("other")
    other_path = case.path.replace(MODEL, "other")
    first = raw.post(case.path, case.body)
    assert first.status_code == 500
    assert case.error(first.json(), 500)
    assert raw.post(case.path, case.body).status_code == 200  # taken once
    assert raw.post(other_path, elsewhere).status_code == 500  # the other model's own fault
    assert raw.post(other_path, elsewhere).status_code == 200


@surfaces
def test_a_cut_stream_never_sends_its_terminal_event(raw: Raw, case: Case) -> None:
    whole = raw.post(case.stream_path, case.stream_body()).text
    assert case.terminal in whole
    cut = raw.post(case.stream_path, case.stream_body(), headers={"x-bed-fault": "cut_after=3"}).text
    assert len(sse_events(cut)) == 3
    assert case.terminal not in cut
    assert whole.startswith(cut)


@surfaces
def test_malformed_plain_and_streamed(raw: Raw, case: Case) -> None:
    plain = raw.post(case.path, case.body, headers={"x-bed-fault": "malformed"})
    assert (plain.status_code, plain.text) == (200, "{not json")
    streamed = raw.post(case.stream_path, case.stream_body(), headers={"x-bed-fault": "malformed"})
    assert streamed.headers["content-type"] == "text/event-stream"
    assert sse_events(streamed.text) == [(None, "{not json")]


@surfaces
def test_latency_and_stream_timing(raw: Raw, case: Case) -> None:
    started = time.monotonic()
    assert raw.post(case.path, case.body, headers={"x-bed-fault": "latency_ms=150"}).status_code == 200
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    text = raw.post(case.stream_path, case.stream_body(), headers={"x-bed-fault": "ttft_ms=100;token_ms=10"}).text
    # 100 ms before the first event, then 10 ms between events: a lower bound, not a speed goal.
    assert time.monotonic() - started >= 0.1 + 0.01 * (len(sse_events(text)) - 1)
    assert case.terminal in text


@surfaces
def test_same_request_same_bytes(case: Case) -> None:
    # Two shims with the same seed (so no answer cache is involved), plain and streamed.
    first, second = Raw(new_shim()), Raw(new_shim())
    for path, body in ((case.path, case.body), (case.stream_path, case.stream_body())):
        assert first.post(path, body).content == second.post(path, body).content == first.post(path, body).content


def test_sdks_raise_their_own_errors() -> None:
    shim = new_shim()

    async def responses() -> None:
        await openai_client(shim).responses.create(model=MODEL + "~status=429", input="x")

    async def messages(status: int) -> None:
        await anthropic_client(shim).messages.create(model=f"{MODEL}~status={status}", max_tokens=8,
                                                     messages=[{"role": "user", "content": "x"}])

    with pytest.raises(OpenAIRateLimit):
        run(responses())
    with pytest.raises(AnthropicRateLimit):
        run(messages(429))
    with pytest.raises(OverloadedError):
        run(messages(529))


def test_the_openai_stream_helper_notices_a_cut(shim_for_cut: Shim) -> None:
    async def ask() -> None:
        async with openai_client(shim_for_cut).responses.stream(model=MODEL + "~cut_after=5", input="cut") as stream:
            await stream.get_final_response()

    with pytest.raises(RuntimeError, match=r"response\.completed"):
        run(ask())


@pytest.fixture
def shim_for_cut() -> Shim:
    return new_shim()
