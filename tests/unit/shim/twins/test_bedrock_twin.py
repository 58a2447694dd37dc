"""The Bedrock twin, driven by boto3's own bedrock-runtime client: Converse and ConverseStream
(text and tool use, the binary event stream), InvokeModel for Claude, SigV4 refusals and Bedrock's
validation and throttling errors, each raised as the botocore ClientError a real Bedrock raises."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bed.shim.twins.bedrock import Bedrock

from .clients import WEATHER, journal, new_shim, run
from .cloud import bedrock

MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"
HELLO = [{"role": "user", "content": [{"text": "hello bedrock"}]}]
TOOLS = {"tools": [{"toolSpec": {"name": "weather", "description": "the weather", "inputSchema": {"json": WEATHER}}}]}


def error_of(call: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as info:
        call()
    response = info.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def stream_events(answer: Any) -> list[tuple[str, Any]]:
    return [(kind, payload) for event in answer["stream"] for kind, payload in event.items()]


def test_converse_answers_in_text_with_usage() -> None:
    shim = new_shim()
    reply = bedrock(shim).converse(modelId=MODEL, messages=HELLO, system=[{"text": "be brief"}],
                                   inferenceConfig={"maxTokens": 64, "temperature": 0.5})
    (block,) = reply["output"]["message"]["content"]
    assert block["text"].startswith("[mini-agent] hello bedrock")
    assert reply["stopReason"] == "end_turn"
    assert reply["usage"]["outputTokens"] == len(block["text"].split())
    assert reply["usage"]["totalTokens"] == reply["usage"]["inputTokens"] + reply["usage"]["outputTokens"]
    entry = journal(shim)[-1]
    assert entry["path"] == "/twins/bedrock/us-east-1/model/anthropic.claude-3-5-sonnet-20240620-v1:0/converse"
    assert entry["twin"] == "bedrock"
    assert entry["headers"]["authorization"] == "<redacted>"


def test_converse_stream_is_an_event_stream_that_joins_to_the_plain_answer() -> None:
    shim = new_shim()
    client = bedrock(shim)
    plain = client.converse(modelId=MODEL, messages=HELLO)["output"]["message"]["content"][0]["text"]
    answer = client.converse_stream(modelId=MODEL, messages=HELLO)
    assert answer["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/vnd.amazon.eventstream"
    events = stream_events(answer)
    kinds = [kind for kind, _ in events]
    deltas = kinds.count("contentBlockDelta")
    assert kinds == ["messageStart", *["contentBlockDelta"] * deltas, "contentBlockStop", "messageStop", "metadata"]
    assert "".join(p["delta"]["text"] for k, p in events if k == "contentBlockDelta") == plain
    assert events[-2][1]["stopReason"] == "end_turn"
    assert events[-1][1]["usage"]["outputTokens"] == len(plain.split())
    assert events[-1][1]["metrics"]["latencyMs"] > 0


@pytest.mark.parametrize("stream", [False, True], ids=["converse", "converse-stream"])
def test_tool_use_then_tool_result(stream: bool) -> None:
    client = bedrock(new_shim())
    ask: list[Any] = [{"role": "user", "content": [{"text": "weather in Paris?"}]}]

    def turn(messages: list[Any]) -> tuple[str, list[Any]]:
        if not stream:
            reply = client.converse(modelId=MODEL, messages=messages, toolConfig=TOOLS)
            return reply["stopReason"], reply["output"]["message"]["content"]
        blocks: dict[int, Any] = {}
        stop = ""
        for kind, payload in stream_events(client.converse_stream(modelId=MODEL, messages=messages, toolConfig=TOOLS)):
            if kind == "contentBlockStart":
                blocks[payload["contentBlockIndex"]] = {"toolUse": {**payload["start"]["toolUse"], "input": ""}}
            elif kind == "contentBlockDelta" and "toolUse" in payload["delta"]:
                blocks[payload["contentBlockIndex"]]["toolUse"]["input"] += payload["delta"]["toolUse"]["input"]
            elif kind == "contentBlockDelta":
                blocks.setdefault(payload["contentBlockIndex"], {"text": ""})["text"] += payload["delta"]["text"]
            elif kind == "messageStop":
                stop = payload["stopReason"]
        for block in blocks.values():
            if "toolUse" in block:
                block["toolUse"]["input"] = json.loads(block["toolUse"]["input"])
        return stop, [blocks[i] for i in sorted(blocks)]

    stop, content = turn(ask)
    (use,) = [b["toolUse"] for b in content if "toolUse" in b]
    assert stop == "tool_use"
    assert use["name"] == "weather"
    assert use["toolUseId"].startswith("tooluse_")
    assert set(use["input"]) == {"city"}
    result = {"toolResult": {"toolUseId": use["toolUseId"], "content": [{"json": {"temp": 21}}], "status": "success"}}
    stop, content = turn([*ask, {"role": "assistant", "content": content}, {"role": "user", "content": [result]}])
    assert stop == "end_turn"
    assert content[0]["text"].startswith("[mini-agent] weather in Paris?")


def test_tool_choice_any_forces_a_call() -> None:
    reply = bedrock(new_shim()).converse(modelId=MODEL, messages=HELLO, toolConfig={**TOOLS, "toolChoice": {"any": {}}})
    assert reply["stopReason"] == "tool_use"


def test_signature_refusals_are_aws_client_errors() -> None:
    shim = new_shim()
    wrong_secret = bedrock(shim, secret="not-the-twin-secret")
    assert error_of(lambda: wrong_secret.converse(modelId=MODEL, messages=HELLO))[:2] == (
        403, "InvalidSignatureException")
    unknown = bedrock(shim, key="AKIAUNKNOWNKEY000000")
    assert error_of(lambda: unknown.converse(modelId=MODEL, messages=HELLO)) == (
        403, "UnrecognizedClientException", "The security token included in the request is invalid.")
    other_region = bedrock(shim, region="us-west-2")  # signed for us-west-2, sent to the us-east-1 endpoint
    assert error_of(lambda: other_region.converse(modelId=MODEL, messages=HELLO)) == (
        403, "InvalidSignatureException", "Credential should be scoped to a valid region. ")
    assert journal(shim)[-1]["refused"] == {"status": 403,
                                             "why": "Credential should be scoped to a valid region. "}
    anywhere = bedrock(shim, endpoint="http://shim/twins/bedrock", region="eu-central-1")  # no region in the path
    assert anywhere.converse(modelId=MODEL, messages=HELLO)["stopReason"] == "end_turn"


def test_a_skewed_clock_is_refused() -> None:
    shim = new_shim()
    twin = shim.twins["bedrock"]
    assert isinstance(twin, Bedrock)
    twin.clock = lambda: time.time() + 600  # the twin's clock ten minutes ahead of boto3's
    status, code, message = error_of(lambda: bedrock(shim).converse(modelId=MODEL, messages=HELLO))
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith("Signature expired: ")
    assert message.endswith(" - 5 min.)")


@pytest.mark.parametrize(("messages", "tools", "message"), [
    ([{"role": "assistant", "content": [{"text": "hi"}]}], None,
     "A conversation must start with a user message. Try again with a conversation that starts with a user message."),
    ([*HELLO, *HELLO], None, "A conversation must alternate between user and assistant roles. Make sure the "
                             "conversation alternates between user and assistant roles and try again."),
    ([{"role": "user", "content": [{"text": "  "}]}], None,
     "The text field in the ContentBlock object at messages.0.content.0 is blank. Add text to the text field, and "
     "try again."),
    ([*HELLO, {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "weather", "input": {}}}]},
      {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "sunny"}]}}]}], None,
     "The toolConfig field must be defined when using toolUse and toolResult content blocks."),
    ([*HELLO, {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t1", "name": "weather", "input": {}}}]},
      {"role": "user", "content": [{"text": "never mind"}]}], TOOLS,
     "Expected toolResult blocks at messages.2.content for the following Ids: t1"),
    (HELLO, {"tools": [{"toolSpec": {"name": "the weather", "inputSchema": {"json": WEATHER}}}]},
     "1 validation error detected: Value 'the weather' at 'toolConfig.tools.1.member.toolSpec.name' failed to "
     "satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+"),
    (HELLO, {"tools": [{"toolSpec": {"name": "w", "inputSchema": {"json": {"type": "string"}}}}]},
     "The value at toolConfig.tools.0.toolSpec.inputSchema.json.type must be one of the following: object."),
], ids=["starts-with-assistant", "not-alternating", "blank-text", "tools-without-config", "unanswered-tool-use",
        "tool-name-pattern", "schema-not-object"])
def test_requests_bedrock_refuses_are_validation_exceptions(messages: list[Any], tools: Any, message: str) -> None:
    client = bedrock(new_shim())
    extra = {"toolConfig": tools} if tools else {}
    assert error_of(lambda: client.converse(modelId=MODEL, messages=messages, **extra)) == (
        400, "ValidationException", message)


def test_a_bad_inference_config_collects_every_violation() -> None:
    client = bedrock(new_shim(), validate=False)  # botocore itself refuses maxTokens 0 before sending
    status, code, message = error_of(lambda: client.converse(modelId=MODEL, messages=HELLO, inferenceConfig={
        "maxTokens": 0, "temperature": 1.5}))
    assert (status, code) == (400, "ValidationException")
    assert message == ("2 validation errors detected: Value '0' at 'inferenceConfig.maxTokens' failed to satisfy "
                       "constraint: Member must have value greater than or equal to 1; Value '1.5' at "
                       "'inferenceConfig.temperature' failed to satisfy constraint: Member must have value less than "
                       "or equal to 1")


def test_throttling_and_other_faults_in_bedrock_shape() -> None:
    shim = new_shim()
    client = bedrock(shim)
    assert run(lambda: _queue(shim, "status=429;retry_after=2")) == 200
    assert error_of(lambda: client.converse(modelId=MODEL, messages=HELLO)) == (
        429, "ThrottlingException", "Too many requests, please wait before trying again.")
    assert run(lambda: _queue(shim, "status=503")) == 200
    assert error_of(lambda: client.converse_stream(modelId=MODEL, messages=HELLO))[:2] == (
        503, "ServiceUnavailableException")


def test_a_cut_stream_never_sends_message_stop() -> None:
    shim = new_shim()
    assert run(lambda: _queue(shim, "cut_after=2")) == 200
    kinds = [kind for kind, _ in stream_events(bedrock(shim).converse_stream(modelId=MODEL, messages=HELLO))]
    assert kinds == ["messageStart", "contentBlockDelta"]


def test_invoke_model_for_claude_plain_and_streamed() -> None:
    client = bedrock(new_shim())
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "messages": [
        {"role": "user", "content": "hello claude on bedrock"}]}
    reply = json.loads(client.invoke_model(modelId=MODEL, body=json.dumps(body))["body"].read())
    assert reply["type"] == "message"
    assert reply["id"].startswith("msg_bdrk_")
    assert reply["content"][0]["text"].startswith("[mini-agent] hello claude on bedrock")
    answer = client.invoke_model_with_response_stream(modelId=MODEL, body=json.dumps(body))
    events = [json.loads(e["chunk"]["bytes"]) for e in answer["body"]]  # botocore decodes the base64 blob
    assert events[0]["type"] == "message_start"
    assert events[-1]["type"] == "message_stop"
    assert events[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == reply["usage"]["output_tokens"]
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert text == reply["content"][0]["text"]


def test_invoke_model_refuses_what_bedrock_refuses() -> None:
    client = bedrock(new_shim())
    body: dict[str, Any] = {"max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
    assert error_of(lambda: client.invoke_model(modelId=MODEL, body=json.dumps(body)))[2] == (
        "Malformed input request: #: required key [anthropic_version] not found, please reformat your input and try "
        "again.")
    body = {**body, "anthropic_version": "bedrock-2023-05-31", "model": MODEL}
    assert "extraneous key [model] is not permitted" in error_of(
        lambda: client.invoke_model(modelId=MODEL, body=json.dumps(body)))[2]


async def _queue(shim: Any, spec: str) -> int:
    from .clients import http

    async with http(shim) as c:
        return (await c.post("/_bed/faults", json={"fault": spec, "model": MODEL})).status_code
