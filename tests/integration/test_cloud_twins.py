"""The Bedrock and Vertex AI twins behind the real LiteLLM proxy: its own ``bedrock/`` and
``vertex_ai/`` adapters (SigV4 signing with botocore, the AWS event stream decoder, google-auth's
service-account token exchange) against the twins, plain, streamed, tool-calling and erring.

One stack for the module: the generated router config plus deployments pointed at the twins the
way bed's derived config points a user's deployments at them (the fake key pair and the twin's
endpoint; the fake service account whose token URI is the twin, and the shim as ``api_base``).
Each test marks its prompt and reads its own requests back from the shim's journal; at the end
every request the twins were sent (the token exchange included) is written to
``local/artifacts/cloud-twins-journal.json``, to read the shapes LiteLLM sends.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from bed.config.router import plan
from bed.config.settings import Config
from bed.console import Console
from bed.engine.docker import DockerEngine
from bed.images.build import ImageRef
from bed.pipeline.stages.prepare import new_master_key
from bed.shim.twins._fake_google_key import PROJECT_ID, service_account_info
from bed.shim.twins.bedrock import ACCESS_KEY_ID, SECRET_ACCESS_KEY
from bed.stack.bringup import Plan, bring_up
from bed.stack.owner import Stack

from .conftest import REPO

SHIM = "http://mini-agent:8788"  # the shim on the run's network
AWS = {"aws_access_key_id": ACCESS_KEY_ID, "aws_secret_access_key": SECRET_ACCESS_KEY, "aws_region_name": "us-east-1",
       "aws_bedrock_runtime_endpoint": f"{SHIM}/twins/bedrock/us-east-1"}
GCP = {"vertex_project": PROJECT_ID, "vertex_location": "us-central1", "api_base": SHIM,
       "vertex_credentials": json.dumps(service_account_info(f"{SHIM}/twins/vertex/token"))}
CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0"
DEPLOYMENTS = {  # group -> litellm_params; the *-errors groups take the faults (a 429 may cool a group down)
    "twin-bedrock": {"model": f"bedrock/{CLAUDE}", **AWS},
    "twin-bedrock-converse": {"model": "bedrock/converse/us.meta.llama3-3-70b-instruct-v1:0", **AWS},
    "twin-bedrock-invoke": {"model": f"bedrock/invoke/{CLAUDE}", **AWS},
    "twin-bedrock-errors": {"model": f"bedrock/{CLAUDE}", **AWS},
    "twin-vertex": {"model": "vertex_ai/gemini-2.5-flash", **GCP},
    "twin-vertex-claude": {"model": "vertex_ai/claude-sonnet-4@20250514", **GCP},
    "twin-vertex-errors": {"model": "vertex_ai/gemini-2.5-flash", **GCP},
}
WEATHER = {"type": "function", "function": {"name": "weather", "description": "the weather in a city", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


class Twins:
    """The running stack: the proxy (as the OpenAI and Anthropic SDKs see it) and the shim's admin API."""

    def __init__(self, proxy: str, shim: str, key: str) -> None:
        self.proxy, self.shim, self.key = proxy, shim, key
        self.openai = openai.OpenAI(api_key=key, base_url=proxy + "/v1", max_retries=0, timeout=60)
        self.anthropic = anthropic.Anthropic(api_key=key, base_url=proxy, max_retries=0, timeout=60)

    def journal(self, marker: str) -> list[dict[str, Any]]:
        entries = httpx.get(self.shim + "/_bed/journal", timeout=10).json()["entries"]
        return [e for e in entries if e.get("twin") in ("bedrock", "vertex") and marker in json.dumps(e["body"])]

    def fault(self, spec: str, marker: str, times: int = 5) -> None:
        answer = httpx.post(self.shim + "/_bed/faults", json={"fault": spec, "contains": marker, "times": times},
                            timeout=10)
        assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def twins(engine: DockerEngine, images: dict[str, ImageRef]) -> Iterator[Twins]:
    config = Config.from_env({}, root=REPO)
    router = plan(None, config.group, config.bases.network, strict=True).extended(
        [{"model_name": group, "litellm_params": params} for group, params in DEPLOYMENTS.items()],
        "bed's cloud twins test: deployments at the Bedrock and Vertex AI twins")
    key = new_master_key()
    with Stack(engine, config.run_id, Console()) as stack:
        stack.create_network()
        services = bring_up(stack, Plan.of(config, images, router, key, publish=True))
        twins_ = Twins(f"http://127.0.0.1:{engine.published_port(services.proxy.id, 4000)}",
                       f"http://127.0.0.1:{engine.published_port(services.shim.id, 8788)}", key)
        yield twins_
        entries = httpx.get(f"{twins_.shim}/_bed/journal", timeout=10).json()["entries"]
        out = REPO / "local" / "artifacts" / "cloud-twins-journal.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps([e for e in entries if e.get("twin") in ("bedrock", "vertex")], indent=1))


def marked(text: str) -> tuple[str, str]:
    marker = f"m{uuid.uuid4().hex[:10]}"
    return marker, f"{text} {marker}"


@pytest.mark.parametrize("group", ["twin-bedrock", "twin-bedrock-converse", "twin-bedrock-invoke", "twin-vertex",
                                   "twin-vertex-claude"])
def test_plain_and_streamed_answers(twins: Twins, group: str) -> None:
    marker, prompt = marked("hello twin")
    reply = twins.openai.chat.completions.create(model=group, messages=[{"role": "user", "content": prompt}])
    text = reply.choices[0].message.content or ""
    assert text.startswith("[mini-agent] hello twin")
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None
    assert reply.usage.completion_tokens == len(text.split())
    stream = twins.openai.chat.completions.create(model=group, messages=[{"role": "user", "content": prompt}],
                                                  stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    sent = twins.journal(marker)
    assert len(sent) == 2, [e["path"] for e in sent]
    assert all("refused" not in e for e in sent), [e.get("refused") for e in sent]


@pytest.mark.parametrize("group", ["twin-bedrock", "twin-bedrock-converse", "twin-vertex", "twin-vertex-claude"])
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_a_tool_call_then_its_result(twins: Twins, group: str, stream: bool) -> None:
    marker, prompt = marked("weather in Paris?")
    messages: list[Any] = [{"role": "user", "content": prompt}]
    call = _one_call(twins, group, messages, stream)
    assert call["name"] == "weather"
    assert set(json.loads(call["arguments"])) == {"city"}
    messages += [{"role": "assistant", "content": None, "tool_calls": [
                     {"id": call["id"], "type": "function",
                      "function": {"name": call["name"], "arguments": call["arguments"]}}]},
                 {"role": "tool", "tool_call_id": call["id"], "content": "sunny, 21 C"}]
    reply = twins.openai.chat.completions.create(model=group, messages=messages, tools=[WEATHER])
    assert (reply.choices[0].message.content or "").startswith("[mini-agent] weather in Paris?")
    assert all("refused" not in e for e in twins.journal(marker))


def _one_call(twins: Twins, group: str, messages: list[Any], stream: bool) -> dict[str, str]:
    if not stream:
        reply = twins.openai.chat.completions.create(model=group, messages=messages, tools=[WEATHER])
        assert reply.choices[0].finish_reason == "tool_calls"
        (call,) = reply.choices[0].message.tool_calls or []
        return {"id": call.id, "name": call.function.name, "arguments": call.function.arguments}
    parts: dict[str, str] = {"id": "", "name": "", "arguments": ""}
    finish = []
    for chunk in twins.openai.chat.completions.create(model=group, messages=messages, tools=[WEATHER], stream=True):
        for choice in chunk.choices:
            finish += [choice.finish_reason] if choice.finish_reason else []
            for delta in choice.delta.tool_calls or []:
                parts["id"] += delta.id or ""
                parts["name"] += (delta.function.name or "") if delta.function else ""
                parts["arguments"] += (delta.function.arguments or "") if delta.function else ""
    assert finish == ["tool_calls"]
    return parts


def test_anthropic_messages_to_a_bedrock_claude_go_through_invoke(twins: Twins) -> None:
    """Claude Code's route: LiteLLM's /v1/messages to a Bedrock Claude deployment."""
    marker, prompt = marked("hello claude")
    reply = twins.anthropic.messages.create(model="twin-bedrock", max_tokens=64,
                                            messages=[{"role": "user", "content": prompt}])
    assert reply.content[0].text.startswith("[mini-agent] hello claude")  # type: ignore[union-attr]
    with twins.anthropic.messages.stream(model="twin-bedrock", max_tokens=64,
                                         messages=[{"role": "user", "content": prompt}]) as stream:
        final = stream.get_final_message()
    assert final.content[0].text == reply.content[0].text  # type: ignore[union-attr]
    paths = [e["path"] for e in twins.journal(marker)]
    assert paths == [f"/twins/bedrock/us-east-1/model/{CLAUDE}/invoke",
                     f"/twins/bedrock/us-east-1/model/{CLAUDE}/invoke-with-response-stream"]


@pytest.mark.parametrize(("group", "provider_text"), [
    ("twin-bedrock-errors", "Too many requests, please wait before trying again."),
    ("twin-vertex-errors", "Resource exhausted. Please try again later."),
])
def test_a_provider_429_reaches_the_client_as_a_rate_limit(twins: Twins, group: str, provider_text: str) -> None:
    marker, prompt = marked("throttle me")
    twins.fault("status=429;retry_after=3", marker)
    with pytest.raises(openai.RateLimitError) as info:
        twins.openai.chat.completions.create(model=group, messages=[{"role": "user", "content": prompt}])
    assert provider_text in str(info.value)
    assert twins.journal(marker)  # the proxy's attempts (its retries included) reached the twin


@pytest.mark.parametrize(("group", "provider_text"), [
    ("twin-bedrock-errors", "Value '1.5' at 'inferenceConfig.temperature' failed to satisfy constraint"),
    ("twin-vertex-errors", "generation_config.temperature: must be in the range [0.0, 2.0]"),
])
def test_a_request_the_provider_refuses_is_a_400_in_its_words(twins: Twins, group: str, provider_text: str) -> None:
    marker, prompt = marked("too hot")
    temperature = 1.5 if "bedrock" in group else 3.0
    with pytest.raises(openai.BadRequestError) as info:
        twins.openai.chat.completions.create(model=group, temperature=temperature,
                                             messages=[{"role": "user", "content": prompt}])
    assert provider_text in str(info.value)
    assert [e["refused"]["status"] for e in twins.journal(marker)] == [400]
