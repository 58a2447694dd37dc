"""The AWS Bedrock runtime twin: ``/twins/bedrock[/<region>]/model/<modelId>/converse`` and
``/converse-stream`` (the Converse API), and ``/invoke`` and ``/invoke-with-response-stream`` for
Anthropic Claude models (InvokeModel with Anthropic's Messages body, which LiteLLM sends for
``bedrock/invoke/...`` deployments and for its ``/v1/messages`` route to a Bedrock Claude).

Strict as the API. Every request must carry a valid AWS Signature V4 (``_sigv4``) made with the
twin's fake key pair (``ACCESS_KEY_ID`` / ``SECRET_ACCESS_KEY``, the ones bed writes into the
derived config), for service ``bedrock`` and, when the path names a region (the endpoint bed
derives from a deployment's ``aws_region_name``), that region: a wrong region is refused as AWS
refuses a request signed for another region's endpoint. The Converse body is checked as Bedrock
checks it: ``messages`` start with ``user`` and alternate ``user`` / ``assistant``; no blank text
block; a ``toolUse`` is answered by ``toolResult`` blocks in the next message and a
``toolResult`` answers one; tool blocks need a ``toolConfig``; a tool's ``toolSpec.name`` matches
``[a-zA-Z0-9_-]+`` (at most 64) and its ``inputSchema.json`` is a JSON object of type
``object``; ``inferenceConfig`` has ``maxTokens`` >= 1 and ``temperature`` / ``topP`` within 0..1.
Constraint violations are worded as AWS words them ("2 validation errors detected: Value 'x'
at 'toolConfig.tools.1.member.toolSpec.name' failed to satisfy constraint: ...").

Answers: Converse's ``output.message.content`` (``text`` and ``toolUse`` blocks), ``stopReason``,
``usage`` and ``metrics``; ConverseStream's binary event stream (``_eventstream``): messageStart,
contentBlockStart (a tool use), contentBlockDelta (``text`` or ``toolUse.input`` pieces),
contentBlockStop, then the terminal messageStop and metadata (what a cut stream never sends),
each event padded with a ``p`` field as Bedrock pads them. InvokeModel answers Anthropic's message
JSON; its stream is ``chunk`` events whose ``bytes`` are Anthropic's stream events, base64.
Errors are ``{"message": ...}`` with the type in ``x-amzn-ErrorType`` (ValidationException 400,
AccessDeniedException 403, ResourceNotFoundException 404, ThrottlingException 429, ...), which
is where boto3 and LiteLLM read it. AWS sends no Retry-After: a throttled client backs off on
the error type itself.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from .._core import Answer, Conversation, ToolCall, ToolSpec, Turn, text_of
from .._faults import split_model
from .._http import Headers, HttpError, Scope
from ..surfaces._base import Frames, Request, Surface, limit
from ..surfaces.messages import Messages
from . import _eventstream as es
from . import _sigv4
from ._base import GENERATE, Call, Twin, refuse
from .anthropic import Anthropic

ACCESS_KEY_ID = "AKIAFAKE0000BEDTWIN0"  # fake: opens only the twin; bed writes it into the derived config
SECRET_ACCESS_KEY = "bedtwin/fake/secret/key/0000000000000000"  # noqa: S105 (a fake key the twin knows)
SERVICE = "bedrock"
INVOKE_VERSION = "bedrock-2023-05-31"  # the anthropic_version InvokeModel takes for Claude
STOP_REASON = {"stop": "end_turn", "stop_sequence": "stop_sequence", "length": "max_tokens", "tool": "tool_use"}
ERROR_TYPES = {400: "ValidationException", 403: "AccessDeniedException", 404: "ResourceNotFoundException",
               408: "ModelTimeoutException", 424: "ModelErrorException", 429: "ThrottlingException",
               500: "InternalServerException", 503: "ServiceUnavailableException"}
WORDED = {429: "Too many requests, please wait before trying again.",
          403: "You don't have access to the model with the specified model ID.",
          503: "Bedrock is unable to process your request.", 500: "The server encountered an internal error."}
PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"  # Bedrock pads events with "p"
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
ROUTE = re.compile(r"^(?:/(?P<region>[a-z]{2}(?:-[a-z]+)+-\d{1,2}))?/model/(?P<model>.+)/"
                   r"(?P<op>converse|converse-stream|invoke|invoke-with-response-stream)$")
LATENCY_MS = 120  # a fixed metrics.latencyMs: answers stay pure functions of the request


class Converse(Surface):
    """The Converse protocol: its request as the neutral conversation, answers in its shapes."""

    name = "converse"

    def parse(self, body: Mapping[str, Any], path_model: str | None, path_stream: bool) -> Request:
        model, spec = split_model(path_model or "")
        system = body.get("system")
        turns = [Turn("system", text_of([{"text": b.get("text", "")} for b in system if isinstance(b, dict)]))] \
            if isinstance(system, list) and system else []
        for message in body.get("messages") or ():
            if isinstance(message, dict):
                turns += _turns(message)
        config = body.get("inferenceConfig") or {}
        stop = config.get("stopSequences")
        tool_config = body.get("toolConfig") or {}
        conv = Conversation(model, turns, _tools(tool_config), _choice(tool_config.get("toolChoice")),
                            limit(config.get("maxTokens"), "maxTokens"),
                            tuple(s for s in stop if isinstance(s, str)) if isinstance(stop, list) else ())
        return Request(conv, path_stream, body, spec)

    def render(self, req: Request, answers: list[Answer]) -> Any:
        a = answers[0]
        return {"output": {"message": {"role": "assistant", "content": _blocks(a)}},
                "stopReason": STOP_REASON[a.finish], "usage": _usage(a), "metrics": {"latencyMs": LATENCY_MS}}

    def frames(self, req: Request, answers: list[Answer]) -> Frames:
        a = answers[0]
        out = [_event("messageStart", {"role": "assistant"})]
        index = 0
        if a.text or not a.calls:
            out += [_event("contentBlockDelta", {"delta": {"text": p}, "contentBlockIndex": index})
                    for p in a.pieces()]
            out.append(_event("contentBlockStop", {"contentBlockIndex": index}))
            index += 1
        for block in _blocks(a)[index:]:
            use = block["toolUse"]
            out.append(_event("contentBlockStart", {"start": {"toolUse": {"toolUseId": use["toolUseId"],
                                                                           "name": use["name"]}},
                                                    "contentBlockIndex": index}))
            text = json.dumps(use["input"])
            half = len(text) // 2  # the input arrives in pieces, as Bedrock streams it
            out += [_event("contentBlockDelta", {"delta": {"toolUse": {"input": part}}, "contentBlockIndex": index})
                    for part in (text[:half], text[half:]) if part]
            out.append(_event("contentBlockStop", {"contentBlockIndex": index}))
            index += 1
        terminal = [_event("messageStop", {"stopReason": STOP_REASON[a.finish]}),
                    _event("metadata", {"usage": _usage(a), "metrics": {"latencyMs": LATENCY_MS}})]
        return out, terminal

    def error(self, exc: HttpError) -> Any:
        return bedrock_error(exc)


class InvokeClaude(Messages):
    """InvokeModel for Claude: Anthropic's Messages body with no ``model`` (the path names it) and
    ``anthropic_version``; a stream of ``chunk`` events carrying Anthropic's events, base64."""

    name = "invoke"

    def parse(self, body: Mapping[str, Any], path_model: str | None, path_stream: bool) -> Request:
        req = super().parse({**body, "model": path_model or ""}, None, False)
        req.stream = path_stream
        return req

    def render(self, req: Request, answers: list[Answer]) -> Any:
        return {**super().render(req, answers), "id": "msg_bdrk_" + req.ident[:24]}

    def frames(self, req: Request, answers: list[Answer]) -> Frames:
        frames, terminal = super().frames(req, answers)
        a = answers[0]
        metrics = {"inputTokenCount": a.input_tokens, "outputTokenCount": a.output_tokens,
                   "invocationLatency": LATENCY_MS, "firstByteLatency": LATENCY_MS // 2}
        return [_chunk(f) for f in frames], [_chunk(f, metrics) for f in terminal]

    def error(self, exc: HttpError) -> Any:
        return bedrock_error(exc)


class Bedrock(Twin):
    name = "bedrock"
    stream_type = es.CONTENT_TYPE

    def __init__(self, clock: Callable[[], float] = time.time,
                 secrets: Mapping[str, str] | None = None) -> None:
        self.protocol = Converse()
        self.invoke = InvokeClaude()
        self.clock = clock
        self.secrets = dict(secrets or {ACCESS_KEY_ID: SECRET_ACCESS_KEY})
        self._anthropic = Anthropic()  # Claude's Messages rules, for InvokeModel bodies

    def route(self, method: str, path: str) -> Call | None:
        match = ROUTE.match(path) if method == "POST" else None
        if match is None:
            return None
        op = match["op"]
        protocol = self.protocol if op.startswith("converse") else self.invoke
        return self.call(GENERATE, protocol, match["model"], op.endswith("stream"), op)

    def admit(self, scope: Scope, raw: bytes) -> None:
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else quote(scope["path"], safe="/-_.~")
        match = ROUTE.match(scope["path"].partition(f"/twins/{self.name}")[2])
        try:
            _sigv4.verify(scope["method"], path, scope.get("query_string", b"").decode("latin-1"),
                          scope.get("headers", []), raw, self.secrets,
                          _sigv4.Scope(SERVICE, match["region"] if match else None, self.clock()))
        except _sigv4.SignatureError as exc:
            raise refuse(exc.status, exc.message, code=exc.kind) from None

    def check(self, body: Mapping[str, Any], call: Call) -> None:
        if call.protocol is self.invoke:
            self._check_invoke(body, call)
            return
        problems = _constraints(body)
        if problems:
            count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected"
            raise refuse(400, f"{count}: {'; '.join(problems)}")
        _check_conversation(body)

    def _check_invoke(self, body: Mapping[str, Any], call: Call) -> None:
        if "anthropic." not in (call.model or ""):
            raise refuse(400, "The bed twin answers InvokeModel for Anthropic Claude models only; call Converse "
                              f"for {call.model!r}.")
        for key in ("model", "stream"):
            if key in body:
                raise refuse(400, f"Malformed input request: #: extraneous key [{key}] is not permitted, please "
                                  "reformat your input and try again.")
        for key in ("anthropic_version", "max_tokens", "messages"):
            if key not in body:
                raise refuse(400, f"Malformed input request: #: required key [{key}] not found, please reformat "
                                  "your input and try again.")
        if body["anthropic_version"] != INVOKE_VERSION:
            raise refuse(400, f"Malformed input request: #/anthropic_version: {body['anthropic_version']} is not a "
                              "valid enum value, please reformat your input and try again.")
        claude = {k: v for k, v in body.items() if k not in ("anthropic_version", "anthropic_beta")}
        try:
            self._anthropic.check({**claude, "model": call.model}, call)
        except HttpError as exc:  # Claude's own refusal, as Bedrock passes it on
            raise refuse(400, f"The model returned the following errors: {exc.message}") from None

    def error(self, exc: HttpError) -> Any:
        return bedrock_error(exc)

    def error_headers(self, exc: HttpError) -> Headers:
        kind = _error_type(exc)
        # Signature errors come from AWS's front end, the rest from Bedrock itself.
        origin = "coral/com.amazon.coral.service" if kind.endswith(("SignatureException", "ClientException",
                                                                    "TokenException")) else "coral/com.amazon.bedrock"
        return [(b"x-amzn-errortype", f"{kind}:http://internal.amazon.com/{origin}/".encode()),
                (b"x-amzn-requestid", str(uuid.uuid4()).encode())]


def bedrock_error(exc: HttpError) -> dict[str, Any]:
    message = exc.message
    if exc.kind == "injected_fault":  # a fault from bed's queue: worded as Bedrock words that status
        message = WORDED.get(exc.status, message)
    return {"message": message}


def _error_type(exc: HttpError) -> str:
    if exc.code:
        return exc.code
    return ERROR_TYPES.get(exc.status) or ("InternalServerException" if exc.status >= 500 else "ValidationException")


# --- parsing ---------------------------------------------------------------------------------------


def _turns(message: Mapping[str, Any]) -> list[Turn]:
    assistant = message.get("role") == "assistant"
    turns: list[Turn] = []
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in message.get("content") or ():
        if not isinstance(block, dict):
            continue
        if isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif isinstance(use := block.get("toolUse"), dict):
            calls.append(ToolCall(str(use.get("toolUseId", "")), str(use.get("name", "")),
                                  json.dumps(use.get("input", {}), sort_keys=True)))
        elif isinstance(result := block.get("toolResult"), dict):
            turns.append(Turn("tool", _result_text(result.get("content"))))
    if texts or calls or not turns:
        turns.append(Turn("assistant" if assistant else "user", " ".join(texts), tuple(calls)))
    return turns


def _result_text(content: Any) -> str:
    parts = []
    for block in content if isinstance(content, list) else ():
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            parts.append(block["text"])
        elif isinstance(block, dict) and "json" in block:
            parts.append(json.dumps(block["json"], sort_keys=True))
    return " ".join(parts)


def _tools(tool_config: Mapping[str, Any]) -> tuple[ToolSpec, ...]:
    out = []
    for tool in tool_config.get("tools") or ():
        spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        if isinstance(spec, dict) and spec.get("name"):
            schema = (spec.get("inputSchema") or {}).get("json")
            out.append(ToolSpec(str(spec["name"]), schema if isinstance(schema, dict) else {}))
    return tuple(out)


def _choice(choice: Any) -> str:
    if not isinstance(choice, dict):
        return "auto"
    if isinstance(choice.get("tool"), dict):
        return str(choice["tool"].get("name", "auto"))
    return "required" if "any" in choice else "auto"


# --- rendering -------------------------------------------------------------------------------------


def _blocks(a: Answer) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"text": a.text}] if a.text or not a.calls else []
    for call in a.calls:
        try:
            arguments = json.loads(call.arguments)
        except ValueError:
            arguments = {"input": call.arguments}
        blocks.append({"toolUse": {"toolUseId": "tooluse_" + call.ident[:22], "name": call.name,
                                   "input": arguments if isinstance(arguments, dict) else {"input": arguments}}})
    return blocks


def _usage(a: Answer) -> dict[str, int]:
    return {"inputTokens": a.input_tokens, "outputTokens": a.output_tokens,
            "totalTokens": a.input_tokens + a.output_tokens}


def _event(kind: str, payload: dict[str, Any]) -> bytes:
    return es.event(kind, {**payload, "p": PADDING[: 8 + len(json.dumps(payload)) % 40]})


def _chunk(sse: bytes, metrics: Mapping[str, int] | None = None) -> bytes:
    """One of Anthropic's SSE events as an InvokeModelWithResponseStream ``chunk``."""
    data = json.loads(sse.partition(b"data: ")[2])
    if metrics is not None:  # Bedrock adds its invocation metrics to the last event
        data["amazon-bedrock-invocationMetrics"] = dict(metrics)
    raw = base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()
    return es.event("chunk", {"bytes": raw, "p": PADDING[:12]})


# --- checks ----------------------------------------------------------------------------------------


def _value(value: Any) -> str:
    """How AWS quotes a value in a constraint message (long or structured values are left out)."""
    if value is None:
        return "Value null"
    if isinstance(value, str) and len(value) <= 64:
        return f"Value '{value}'"
    return "Value"


def _constraints(body: Mapping[str, Any]) -> list[str]:
    """The request's shape violations, in AWS's constraint wording (1-based member indices)."""
    problems = []
    messages = body.get("messages")
    if not isinstance(messages, list):
        problems.append("Value null at 'messages' failed to satisfy constraint: Member must not be null")
    for i, message in enumerate(messages if isinstance(messages, list) else (), 1):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant"):
            problems.append(f"{_value(role)} at 'messages.{i}.member.role' failed to satisfy constraint: Member "
                            "must satisfy enum value set: [user, assistant]")
        if not isinstance(message, dict) or not isinstance(message.get("content"), list):
            problems.append(f"Value null at 'messages.{i}.member.content' failed to satisfy constraint: Member "
                            "must not be null")
    tools = (body.get("toolConfig") or {}).get("tools") if isinstance(body.get("toolConfig"), dict) else None
    if isinstance(body.get("toolConfig"), dict) and (not isinstance(tools, list) or not tools):
        problems.append("Value '[]' at 'toolConfig.tools' failed to satisfy constraint: Member must have length "
                        "greater than or equal to 1")
    for i, tool in enumerate(tools if isinstance(tools, list) else (), 1):
        spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        if not isinstance(spec, dict):
            continue  # a cachePoint or a system tool: no name of its own
        where = f"'toolConfig.tools.{i}.member.toolSpec"
        name = spec.get("name")
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            problems.append(f"{_value(name)} at {where}.name' failed to satisfy constraint: Member must satisfy "
                            "regular expression pattern: [a-zA-Z0-9_-]+")
        if not isinstance(name, str) or not name:
            problems.append(f"{_value(name)} at {where}.name' failed to satisfy constraint: Member must have length "
                            "greater than or equal to 1")
        elif len(name) > 64:
            problems.append(f"Value at {where}.name' failed to satisfy constraint: Member must have length less than "
                            "or equal to 64")
        if spec.get("description") == "":
            problems.append(f"Value '' at {where}.description' failed to satisfy constraint: Member must have length "
                            "greater than or equal to 1")
    return problems + _inference(body.get("inferenceConfig"))


def _inference(config: Any) -> list[str]:
    if not isinstance(config, dict):
        return []
    problems = []
    tokens = config.get("maxTokens")
    if tokens is not None and (not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 1):
        problems.append(f"Value '{tokens}' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must "
                        "have value greater than or equal to 1")
    for name in ("temperature", "topP"):
        value = config.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not 0 <= value <= 1:
            bound = "less than or equal to 1" if value > 1 else "greater than or equal to 0"
            problems.append(f"Value '{value}' at 'inferenceConfig.{name}' failed to satisfy constraint: Member must "
                            f"have value {bound}")
    return problems


def _check_conversation(body: Mapping[str, Any]) -> None:
    """Bedrock's own rules over the conversation, each refused with its own sentence."""
    messages = body["messages"]
    if not messages or messages[0]["role"] != "user":
        raise refuse(400, "A conversation must start with a user message. Try again with a conversation that starts "
                          "with a user message.")
    if any(a["role"] == b["role"] for a, b in itertools.pairwise(messages)):
        raise refuse(400, "A conversation must alternate between user and assistant roles. Make sure the "
                          "conversation alternates between user and assistant roles and try again.")
    uses_tools = False
    for i, message in enumerate(messages):
        for j, block in enumerate(message["content"]):
            if isinstance(block, dict) and isinstance(block.get("text"), str) and not block["text"].strip():
                raise refuse(400, f"The text field in the ContentBlock object at messages.{i}.content.{j} is blank. "
                                  "Add text to the text field, and try again.")
            uses_tools = uses_tools or (isinstance(block, dict) and ("toolUse" in block or "toolResult" in block))
        _check_results(messages, i)
    if uses_tools and not body.get("toolConfig"):
        raise refuse(400, "The toolConfig field must be defined when using toolUse and toolResult content blocks.")
    _check_schemas(body.get("toolConfig"))


def _ids(message: Mapping[str, Any], kind: str) -> list[str]:
    return [str(b[kind].get("toolUseId")) for b in message["content"] if isinstance(b, dict)
            and isinstance(b.get(kind), dict)]


def _check_results(messages: list[Any], i: int) -> None:
    """The toolUse blocks of an assistant turn are answered by the toolResult blocks of the next."""
    results = _ids(messages[i], "toolResult")
    asked = _ids(messages[i - 1], "toolUse") if i else []
    if len(results) > len(asked):
        raise refuse(400, f"The number of toolResult blocks at messages.{i}.content exceeds the number of toolUse "
                          "blocks of previous turn.")
    if messages[i]["role"] == "user" and asked and (missing := [a for a in asked if a not in results]):
        raise refuse(400, f"Expected toolResult blocks at messages.{i}.content for the following Ids: "
                          f"{', '.join(missing)}")


def _check_schemas(tool_config: Any) -> None:
    for i, tool in enumerate((tool_config or {}).get("tools") or ()):
        spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        if not isinstance(spec, dict):
            continue
        schema = (spec.get("inputSchema") or {}).get("json") if isinstance(spec.get("inputSchema"), dict) else None
        if not isinstance(schema, dict):
            raise refuse(400, f"The format of the value at toolConfig.tools.{i}.toolSpec.inputSchema.json is invalid. "
                              "Provide a json object for the field and try again.")
        if schema.get("type") != "object":
            raise refuse(400, f"The value at toolConfig.tools.{i}.toolSpec.inputSchema.json.type must be one of the "
                              "following: object.")
