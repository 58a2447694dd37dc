"""The shim's ASGI application: routes, OpenAI-shaped bodies, streaming and the admin API.

Routes:
    GET  /health, /health/liveliness, /health/readiness   liveness and readiness
    GET  /v1/models                                        the models the shim answers for
    POST /v1/chat/completions                              plain and ``stream: true`` (SSE)
    POST /v1/embeddings                                    deterministic vectors
    GET|DELETE /_bed/journal                               the request journal
    POST|DELETE /_bed/faults                               queue faults for the next requests:
        {"fault": "status=429;retry_after=0", "times": 1, "model": "...", "contains": "marker"}
        (model and contains narrow which requests take it; see _faults.py for fault specs)

The same routes answer without the ``/v1`` prefix, as OpenAI-compatible servers usually do.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from . import _answers
from ._faults import FAULT_HEADER, NO_FAULT, Fault, FaultQueue, FaultSpecError, split_model
from ._journal import Journal

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

MAX_BODY = 4 * 1024 * 1024  # bounded: a runaway client cannot make the shim hold more
CACHE_SIZE = 1024  # rendered answers kept; bounded like everything else in the shim


class Shim:
    """One shim instance; ``seed`` makes two shims with the same seed answer identically."""

    def __init__(self, seed: str = "bed", models: tuple[str, ...] = ("codex-agent-1",)) -> None:
        self.seed = seed
        self.models = models
        self.journal = Journal()
        self.faults = FaultQueue()
        self.started = time.time()
        self._cache: collections.OrderedDict[bytes, bytes] = collections.OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        if path.startswith("/v1/"):
            path = path[3:]
        try:
            await self._route(method, path, scope, receive, send)
        except _HttpError as exc:
            await _send_json(send, exc.status, _error_body(exc.message, exc.kind))

    async def _route(self, method: str, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        if method == "GET" and path in ("/health", "/health/liveliness", "/health/liveness"):
            await _send_json(send, 200, {"status": "ok"})
        elif method == "GET" and path == "/health/readiness":
            await _send_json(send, 200, {"status": "ready", "uptime_s": round(time.time() - self.started, 3)})
        elif method == "GET" and path == "/models":
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "mini-agent"} for m in self.models]
            await _send_json(send, 200, {"object": "list", "data": data})
        elif method == "POST" and path == "/chat/completions":
            await self._chat(scope, await _read_body(receive), send)
        elif method == "POST" and path == "/embeddings":
            raw = await _read_body(receive)
            self.journal.record("POST", "/v1/embeddings", scope.get("headers", []), raw)
            await self._embeddings(scope, _parse_json(raw), send)
        elif path == "/_bed/journal" and method in ("GET", "DELETE"):
            if method == "DELETE":
                self.journal.clear()
            await _send_json(send, 200, {"entries": self.journal.entries()})
        elif path == "/_bed/faults" and method in ("POST", "DELETE"):
            await self._queue_fault(method, receive, send)
        else:
            raise _HttpError(404, f"no route {method} {path}", "not_found_error")

    async def _queue_fault(self, method: str, receive: Receive, send: Send) -> None:
        if method == "DELETE":
            self.faults.clear()
            await _send_json(send, 200, {"queued": 0})
            return
        body = await _read_json(receive)
        fault = _parse_fault(str(body.get("fault", "")))
        times = body.get("times", 1)
        if not isinstance(times, int) or times < 1:
            raise _HttpError(400, "times must be a positive integer", "invalid_request_error")
        contains = body.get("contains")
        if contains is not None and not isinstance(contains, str):
            raise _HttpError(400, "contains must be a string", "invalid_request_error")
        self.faults.push(fault, times, body.get("model"), contains)
        await _send_json(send, 200, {"queued": len(self.faults)})

    def _fault_for(self, scope: Scope, model: str, spec: str | None, body: dict[str, Any]) -> Fault:
        header = _header(scope, FAULT_HEADER)
        if header:
            return _parse_fault(header)
        if spec:
            return _parse_fault(spec)
        if not len(self.faults):
            return NO_FAULT
        return self.faults.take(model, json.dumps(body.get("messages", body.get("input", "")))) or NO_FAULT

    async def _chat(self, scope: Scope, raw: bytes, send: Send) -> None:
        self.journal.record("POST", "/v1/chat/completions", scope.get("headers", []), raw)
        # Answers are pure functions of the body: a body answered before (with no fault in
        # play) is served from a small LRU of rendered responses.
        cacheable = not len(self.faults) and _header(scope, FAULT_HEADER) is None
        if cacheable and (hit := self._cache.get(raw)) is not None:
            self._cache.move_to_end(raw)
            await _send_raw(send, 200, hit, b"application/json")
            return
        body = _parse_json(raw)
        model, spec = split_model(str(body.get("model") or ""))
        messages = body.get("messages")
        if not model or not isinstance(messages, list) or not messages:
            raise _HttpError(400, "model and a non-empty messages list are required", "invalid_request_error")
        fault = self._fault_for(scope, model, spec, body)
        if await _apply_fault(fault, send):
            return
        n = body.get("n") or 1
        if not isinstance(n, int) or not 1 <= n <= 16:
            raise _HttpError(400, "n must be an integer from 1 to 16", "invalid_request_error")
        choices = [self._choice(body, model, messages, i) for i in range(n)]
        prompt_tokens = _answers.count_tokens(messages)
        completion_tokens = sum(len(c["words"]) for c in choices)
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                 "total_tokens": prompt_tokens + completion_tokens}
        ident = "chatcmpl-" + _answers.digest(body, self.seed).hex()[:24]
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            await _stream_chat(send, ident, model, choices, usage if include_usage else None, fault)
            return
        payload = {
            "id": ident, "object": "chat.completion", "created": 0, "model": model,
            "choices": [
                {"index": c["index"], "message": c["message"], "finish_reason": c["finish_reason"],
                 "logprobs": None}
                for c in choices
            ],
            "usage": usage, "system_fingerprint": "mini-agent", "service_tier": "default",
        }
        rendered = _dumps(payload)
        if cacheable and fault is NO_FAULT:
            self._cache[raw] = rendered
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        await _send_raw(send, 200, rendered, b"application/json")

    def _choice(self, body: dict[str, Any], model: str, messages: list[Any], index: int) -> dict[str, Any]:
        tool = _chosen_tool(body)
        if tool is not None:
            name = tool.get("function", {}).get("name", "tool")
            call = {"id": f"call_{_answers.digest([name, index], self.seed).hex()[:16]}", "type": "function",
                    "function": {"name": name, "arguments": _answers.tool_arguments(tool, messages, self.seed)}}
            return {"index": index, "words": [name], "finish_reason": "tool_calls",
                    "message": {"role": "assistant", "content": None, "tool_calls": [call]}}
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        words = _answers.reply_words(messages, self.seed, index, max_tokens if isinstance(max_tokens, int) else None)
        text, stopped = _answers.apply_stop(" ".join(words), body.get("stop"))
        truncated = isinstance(max_tokens, int) and not stopped and len(words) >= max_tokens
        finish = "length" if truncated else "stop"
        return {"index": index, "words": text.split(" ") if text else [], "finish_reason": finish,
                "message": {"role": "assistant", "content": text}}

    async def _embeddings(self, scope: Scope, body: dict[str, Any], send: Send) -> None:
        model, spec = split_model(str(body.get("model") or ""))
        fault = self._fault_for(scope, model, spec, body)
        if await _apply_fault(fault, send):
            return
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs:
            raise _HttpError(400, "input must be a string or a non-empty list", "invalid_request_error")
        dims = body.get("dimensions") or 16
        if not isinstance(dims, int) or not 1 <= dims <= 4096:
            raise _HttpError(400, "dimensions must be an integer from 1 to 4096", "invalid_request_error")
        data = [{"object": "embedding", "index": i, "embedding": _answers.embedding(str(t), self.seed, dims)}
                for i, t in enumerate(inputs)]
        tokens = sum(len(str(t).split()) for t in inputs)
        await _send_json(send, 200, {"object": "list", "data": data, "model": model,
                                     "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


class _HttpError(Exception):
    def __init__(self, status: int, message: str, kind: str) -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


def _parse_fault(spec: str) -> Fault:
    try:
        return Fault.parse(spec)
    except FaultSpecError as exc:
        raise _HttpError(400, str(exc), "invalid_request_error") from None


def _chosen_tool(body: dict[str, Any]) -> dict[str, Any] | None:
    """The tool to call, when the request offers tools and asks for (or allows) a call."""
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    choice = body.get("tool_choice", "auto")
    if choice == "none":
        return None
    if isinstance(choice, dict):
        wanted = choice.get("function", {}).get("name")
        return next((t for t in tools if t.get("function", {}).get("name") == wanted), None)
    tool = tools[0]
    return tool if isinstance(tool, dict) else None


async def _apply_fault(fault: Fault, send: Send) -> bool:
    """Play the parts of a fault that happen before a body; True when the response is done."""
    if fault.hang:
        await asyncio.Event().wait()  # until the client disconnects and the server cancels us
    if fault.latency_ms:
        await asyncio.sleep(fault.latency_ms / 1000)
    if fault.status is not None and fault.status >= 400:
        headers = [(b"retry-after", f"{fault.retry_after:g}".encode())] if fault.retry_after is not None else []
        body = _error_body(f"injected fault: status {fault.status}", "injected_fault")
        await _send_json(send, fault.status, body, headers)
        return True
    if fault.malformed:
        await _send_raw(send, 200, b"{not json", b"application/json")
        return True
    return False


async def _stream_chat(send: Send, ident: str, model: str, choices: list[dict[str, Any]],
                       usage: dict[str, int] | None, fault: Fault) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
    if fault.ttft_ms:
        await asyncio.sleep(fault.ttft_ms / 1000)
    sent = 0

    async def emit(chunk: dict[str, Any]) -> bool:
        nonlocal sent
        if fault.cut_after is not None and sent >= fault.cut_after:
            return False
        if sent and fault.token_ms:
            await asyncio.sleep(fault.token_ms / 1000)
        frame = {"id": ident, "object": "chat.completion.chunk", "created": 0, "model": model, **chunk}
        await send({"type": "http.response.body", "body": b"data: " + _dumps(frame) + b"\n\n", "more_body": True})
        sent += 1
        return True

    for choice in choices:
        i = choice["index"]
        message = choice["message"]
        opening = {"index": i, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
        if not await emit({"choices": [opening]}):
            break
        deltas: list[dict[str, Any]]
        if message.get("tool_calls"):
            deltas = [{"tool_calls": [{"index": 0, **message["tool_calls"][0]}]}]
        else:
            words = choice["words"]
            deltas = [{"content": (" " if k else "") + w} for k, w in enumerate(words)]
        for delta in deltas:
            if not await emit({"choices": [{"index": i, "delta": delta, "finish_reason": None}]}):
                break
        if not await emit({"choices": [{"index": i, "delta": {}, "finish_reason": choice["finish_reason"]}]}):
            break
    else:
        if usage is not None:
            await emit({"choices": [], "usage": usage})
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})
        return
    # A cut stream ends without [DONE], as a dropped upstream connection would.
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_json(receive: Receive) -> dict[str, Any]:
    return _parse_json(await _read_body(receive))


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise _HttpError(413, f"request body over {MAX_BODY} bytes", "invalid_request_error")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _parse_json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise _HttpError(400, "request body is not JSON", "invalid_request_error") from None
    if not isinstance(body, dict):
        raise _HttpError(400, "request body must be a JSON object", "invalid_request_error")
    return body


def _header(scope: Scope, name: str) -> str | None:
    key = name.encode()
    for k, v in scope.get("headers", []):
        if k == key:
            return str(v.decode("latin-1"))
    return None


def _error_body(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


async def _send_json(send: Send, status: int, payload: Any, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await _send_raw(send, status, _dumps(payload), b"application/json", headers)


async def _send_raw(send: Send, status: int, body: bytes, content_type: bytes,
                    headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


def create_app(environ: Mapping[str, str] = os.environ) -> Shim:
    """The server's factory (``uvicorn --factory``): the environment is read here, at start."""
    models = tuple(filter(None, environ.get("MINI_AGENT_MODELS", "codex-agent-1").split(",")))
    return Shim(seed=environ.get("MINI_AGENT_SEED", "bed"), models=models)
