"""The shim's ASGI application: routing, the one request pipeline, and the admin API.

Routes (each also answers with no version prefix, or a doubled one: LiteLLM appends ``/v1/messages``
and ``/responses`` to an ``api_base`` that may already end in ``/v1``):

    GET  /health, /health/liveliness, /health/readiness     liveness and readiness
    GET  /v1/models, /v1/models/{id}                          OpenAI's shape; Anthropic's when the
                                                              request has anthropic-version or
                                                              x-api-key; Gemini's under /v1beta
                                                              or with a Google key
    POST /v1/chat/completions                                 surfaces/chat.py
    POST /v1/responses                                        surfaces/responses.py
    GET|DELETE /v1/responses/{id}, GET .../{id}/input_items   stored responses
    POST /v1/messages, /v1/messages/count_tokens              surfaces/messages.py
    POST /v1beta/models/{model}:generateContent               surfaces/gemini.py (also
         :streamGenerateContent, :countTokens, :embedContent, :batchEmbedContents)
    POST /v1/embeddings                                       deterministic unit vectors
    *    /twins/<provider>/<the provider's own path>          provider twins (twins/): as strict as
                                                              the provider, in its error shapes
    POST /v1/projects/..., /v1beta1/projects/...              the Vertex AI twin's model paths at
                                                              the root too (twins/vertex.py says why)
    GET|DELETE /_bed/journal                                  what the shim was sent (?contains=TEXT:
                                                              only the requests whose body holds TEXT)
    POST|DELETE /_bed/faults                                  queue faults (see _faults.py):
        {"fault": "status=429;retry_after=0", "times": 1, "model": "...", "contains": "marker"}
    GET|POST|DELETE /_bed/scripts                             scripted agent turns (_scripts.py)
    POST /_bed/reset                                          journal, faults, scripts, stored
                                                              responses and the answer cache

Every answer goes through one pipeline (``_generate``): journal, the surface's admission (a twin's
credentials and version headers), answer cache, the surface's parser, the fault, the script or the
deterministic core, the surface's renderer. A refused request's journal entry says why
(``refused``), and a twin's says which twin (``twin``).
"""

from __future__ import annotations

import collections
import hashlib
import os
import time
import urllib.parse
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from . import _core
from ._faults import FAULT_HEADER, NO_FAULT, Fault, FaultQueue, FaultSpecError, play_before, play_stream, split_model
from ._http import (
    Headers,
    HttpError,
    Receive,
    Scope,
    Send,
    dumps,
    header,
    parse_json,
    read_body,
    response_headers,
    send_json,
    send_raw,
)
from ._journal import Journal, Note
from ._scripts import Script, ScriptError, Scripts
from .surfaces._base import Request, Surface
from .surfaces.chat import Chat
from .surfaces.gemini import Gemini, parse_method
from .surfaces.messages import Messages
from .surfaces.responses import Responses, Store, not_found
from .twins import build as build_twins
from .twins._base import COUNT, EMBED, GENERATE, MODELS, Call

CACHE_SIZE = 1024  # rendered answers kept; bounded like everything else in the shim
_VERSIONS = ("/v1/", "/v1beta/", "/v1alpha/", "/v1beta1/")
_CREATED_AT = "2025-01-01T00:00:00Z"  # a fixed date: listings are deterministic too
TWINS = "/twins/"
VERTEX_ROOT = ("/v1/projects/", "/v1beta1/projects/")  # LiteLLM grafts Vertex paths only onto a bare api_base
NOTE = "bed.note"  # the scope key of a request's journal note, filled in when it is refused
Handler = Callable[[Scope, Receive, Send, Surface], Coroutine[Any, Any, None]]
Cached = tuple[Headers, bytes, Callable[[], None] | None]  # response headers, body, side effect to replay


class Shim:
    """One shim instance; ``seed`` makes two shims with the same seed answer identically."""

    def __init__(self, seed: str = "bed", models: tuple[str, ...] = ("codex-agent-1",)) -> None:
        self.seed = seed
        self.models = models
        self.journal = Journal()
        self.faults = FaultQueue()
        self.scripts = Scripts()
        self.store = Store()
        self.started = time.time()
        self._cache: collections.OrderedDict[tuple[str, bytes, bytes], Cached] = collections.OrderedDict()
        self.chat, self.responses, self.messages, self.gemini = Chat(), Responses(self.store), Messages(), Gemini()
        self.twins = build_twins(self.store)
        self._posts: dict[str, tuple[Surface, Handler]] = {
            "/chat/completions": (self.chat, self._generate),
            "/responses": (self.responses, self._generate),
            "/messages": (self.messages, self._generate),
            "/messages/count_tokens": (self.messages, self._count_tokens),
            "/embeddings": (self.chat, self._embeddings),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        if path.startswith(TWINS):
            await self._twin(scope, receive, send, path[len(TWINS):])
            return
        if path.startswith(VERTEX_ROOT):
            await self._twin(scope, receive, send, "vertex" + path)
            return
        prefix = ""
        while path.startswith(_VERSIONS):
            cut = path.index("/", 1)
            prefix, path = path[:cut], path[cut:]
        route = self._posts.get(path) if method == "POST" else None
        surface: Surface = self.chat if route is None else route[0]
        try:
            if route is not None:
                await route[1](scope, receive, send, surface)
            elif method == "POST" and path.startswith("/models/") and (call := parse_method(path[8:])) is not None:
                surface = self.gemini
                await self._gemini(scope, receive, send, *call)
            else:
                surface = self._flavor(scope, prefix)
                await self._other(method, path, surface, scope, receive, send)
        except HttpError as exc:
            await self._refuse(scope, send, surface, exc)

    async def _refuse(self, scope: Scope, send: Send, surface: Surface, exc: HttpError) -> None:
        """Answer a refusal in the surface's error shape; its journal entry says why."""
        note: Note | None = scope.get(NOTE)
        if note is None and surface.twin:  # refused before its body was read (no such twin, no route)
            note = self._record(scope, b"", surface)
        if note is not None:
            note["refused"] = {"status": exc.status, "why": exc.message}
        body = exc.body if exc.body is not None else surface.error(exc)
        await send_json(send, exc.status, body, headers=surface.error_headers(exc))

    def _record(self, scope: Scope, raw: bytes, surface: Surface) -> Note:
        extra = {"twin": surface.twin} if surface.twin else {}
        note = self.journal.record(scope["method"], scope["path"], scope.get("headers", []), raw,
                                   scope.get("query_string", b""), **extra)
        scope[NOTE] = note
        return note

    # --- provider twins -------------------------------------------------------------------------

    async def _twin(self, scope: Scope, receive: Receive, send: Send, rest: str) -> None:
        name, _, path = rest.partition("/")
        twin = self.twins.get(name)
        surface: Surface = self.chat if twin is None else twin.call("none")
        try:
            if twin is None:
                known = ", ".join(sorted(self.twins))
                raise HttpError(404, f"no provider twin {name!r}; the shim has twins for {known}", "not_found_error")
            call = twin.route(scope["method"], "/" + path)
            if call is None:
                raise HttpError(404, f"the {name} twin has no route {scope['method']} /{path}", "not_found_error")
            surface = call
            await self._twin_call(scope, receive, send, call)
        except HttpError as exc:
            await self._refuse(scope, send, surface, exc)

    async def _twin_call(self, scope: Scope, receive: Receive, send: Send, call: Call) -> None:
        if call.kind == GENERATE:
            await self._generate(scope, receive, send, call, call.model, call.stream)
        elif call.kind == COUNT:
            req = await self._prepare(scope, receive, send, call, lambda body: call.parse(body, call.model, False))
            if req is not None:
                await send_json(send, 200, call.owner.count_tokens(call, req))
        elif call.kind == EMBED and call.name == "gemini":
            await self._gemini(scope, receive, send, call.model or "", call.method, call)
        elif call.kind == EMBED:
            await self._embeddings(scope, receive, send, call)
        else:
            raw = await read_body(receive)
            self._record(scope, raw, call)
            call.admit(scope, raw)
            if call.kind == MODELS:
                await send_json(send, 200, call.owner.listing(call, self.models, call.model or ""))
                return
            status, body, headers = call.owner.serve(call, scope, raw)
            await send_json(send, status, body, headers)

    # --- the one pipeline ---------------------------------------------------------------------

    async def _generate(self, scope: Scope, receive: Receive, send: Send, surface: Surface,
                        model: str | None = None, stream: bool = False) -> None:
        raw = await read_body(receive)
        self._record(scope, raw, surface)
        surface.admit(scope, raw)  # before the cache: a twin refuses a missing key every time
        # Answers are pure functions of the body (and the path, which names a Gemini model or an
        # Azure deployment, and the query): a body answered before with no fault in play is served
        # from a small LRU of rendered answers.
        key = (scope["path"], scope.get("query_string", b""), raw)
        cacheable = not self.faults.pending and header(scope, FAULT_HEADER) is None
        if cacheable and (hit := self._cache.get(key)) is not None:
            self._cache.move_to_end(key)
            if hit[2] is not None:
                hit[2]()
            await send({"type": "http.response.start", "status": 200, "headers": hit[0]})
            await send({"type": "http.response.body", "body": hit[1]})
            return
        req = surface.parse(parse_json(raw), model, stream)
        req.ident = hashlib.sha256(b"%s\x00%s\x00%s" % (self.seed.encode(), key[0].encode(), raw)).hexdigest()
        fault = self._fault_for(scope, req, raw)
        if await play_before(fault, send, surface.error, req.stream, surface.error_headers):
            return
        step = None
        if len(self.scripts):
            step = self.scripts.pick(_text(raw) + req.history, req.conv.model, req.conv, surface.raw_items)
        answers = [_core.answer(req.conv, self.seed, i, step) for i in range(req.conv.n)]
        if req.stream:
            frames, terminal = surface.frames(req, answers)
            await play_stream(send, frames, terminal, fault, surface.stream_type)
            return
        rendered = dumps(surface.render(req, answers))
        if cacheable and req.cacheable and fault is NO_FAULT:
            self._cache[key] = (response_headers(rendered), rendered, req.replay)
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        await send_raw(send, 200, rendered)

    async def _gemini(self, scope: Scope, receive: Receive, send: Send, model: str, method: str,
                      surface: Surface | None = None) -> None:
        surface = surface or self.gemini
        if method in ("generateContent", "streamGenerateContent"):
            await self._generate(scope, receive, send, surface, model, method == "streamGenerateContent")
            return
        if method == "countTokens":
            req = await self._prepare(scope, receive, send, surface, lambda body: self.gemini.parse(
                body.get("generateContentRequest") or body, model, False))
            if req is not None:
                tokens = req.conv.input_tokens()
                await send_json(send, 200, {"totalTokens": tokens,
                                            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": tokens}]})
            return
        req = await self._prepare(scope, receive, send, surface, lambda body: _bare(_model(body, surface, model), body))
        if req is None:
            return
        dims = req.body.get("outputDimensionality") or req.body.get("output_dimensionality") or 16
        _check_dims(dims)
        if method == "embedContent":
            vector = _core.embedding(_gemini_text(req.body), self.seed, dims)
            await send_json(send, 200, {"embedding": {"values": vector}})
            return
        requests = req.body.get("requests")
        if not isinstance(requests, list) or not requests:
            raise HttpError(400, "requests must be a non-empty list")
        await send_json(send, 200, {"embeddings": [{"values": _core.embedding(_gemini_text(r), self.seed, dims)}
                                                   for r in requests]})

    async def _prepare(self, scope: Scope, receive: Receive, send: Send, surface: Surface,
                       parse: Callable[[dict[str, Any]], Request]) -> Request | None:
        """Journal, parse and play the fault of a request that is not a generation; None when the
        fault answered it."""
        raw = await read_body(receive)
        self._record(scope, raw, surface)
        surface.admit(scope, raw)
        req = parse(parse_json(raw))
        if await play_before(self._fault_for(scope, req, raw), send, surface.error, False, surface.error_headers):
            return None
        return req

    async def _count_tokens(self, scope: Scope, receive: Receive, send: Send, surface: Surface) -> None:
        req = await self._prepare(scope, receive, send, surface, lambda body: self.messages.parse(body, None, False))
        if req is not None:
            await send_json(send, 200, {"input_tokens": req.conv.input_tokens()})

    async def _embeddings(self, scope: Scope, receive: Receive, send: Send, surface: Surface) -> None:
        req = await self._prepare(scope, receive, send, surface, lambda body: _bare(_model(body, surface), body))
        if req is None:
            return
        inputs = req.body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs:
            raise HttpError(400, "input must be a string or a non-empty list")
        dims = req.body.get("dimensions") or 16
        _check_dims(dims)
        data = [{"object": "embedding", "index": i, "embedding": _core.embedding(str(t), self.seed, dims)}
                for i, t in enumerate(inputs)]
        tokens = sum(len(str(t).split()) for t in inputs)
        await send_json(send, 200, {"object": "list", "data": data, "model": req.conv.model,
                                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    def _fault_for(self, scope: Scope, req: Request, raw: bytes) -> Fault:
        spec = header(scope, FAULT_HEADER) or req.fault_spec
        if spec:
            try:
                return Fault.parse(spec)
            except FaultSpecError as exc:
                raise HttpError(400, str(exc)) from None
        if not self.faults.pending:
            return NO_FAULT
        return self.faults.take(req.conv.model, _text(raw) + req.history) or NO_FAULT

    # --- everything else: listings, stored responses, health, admin -----------------------------

    def _flavor(self, scope: Scope, prefix: str) -> Surface:
        """Which protocol a request without a body of its own speaks, for listings and errors."""
        if header(scope, b"anthropic-version") is not None or header(scope, b"x-api-key") is not None:
            return self.messages
        if prefix in ("/v1beta", "/v1alpha") or header(scope, b"x-goog-api-key") is not None \
                or b"key=" in scope.get("query_string", b""):
            return self.gemini
        return self.chat

    async def _other(self, method: str, path: str, surface: Surface, scope: Scope, receive: Receive,
                     send: Send) -> None:
        if method == "GET" and path in ("/health", "/health/liveliness", "/health/liveness"):
            await send_json(send, 200, {"status": "ok"})
        elif method == "GET" and path == "/health/readiness":
            await send_json(send, 200, {"status": "ready", "uptime_s": round(time.time() - self.started, 3)})
        elif method == "GET" and (path == "/models" or path.startswith("/models/")):
            await self._models(path[8:], surface, send)
        elif path.startswith("/responses/") and method in ("GET", "DELETE"):
            self._record(scope, b"", surface)
            await self._stored(method, path[11:], send)
        elif path.startswith("/_bed/"):
            await self._admin(method, path, scope, receive, send)
        else:
            raise HttpError(404, f"no route {method} {path}", "not_found_error")

    async def _models(self, wanted: str, surface: Surface, send: Send) -> None:
        shown = [m for m in self.models if m == wanted] if wanted else list(self.models)
        if wanted and not shown:
            raise HttpError(404, f"model {wanted!r} not found", "not_found_error")
        if surface is self.messages:
            data: list[Any] = [{"type": "model", "id": m, "display_name": m, "created_at": _CREATED_AT}
                               for m in shown]
            listing: Any = {"data": data, "has_more": False, "first_id": data[0]["id"] if data else None,
                            "last_id": data[-1]["id"] if data else None}
        elif surface is self.gemini:
            data = [{"name": f"models/{m}", "baseModelId": m, "version": "001", "displayName": m,
                     "inputTokenLimit": 1048576, "outputTokenLimit": 65536,
                     "supportedGenerationMethods": ["generateContent", "countTokens", "embedContent"]}
                    for m in shown]
            listing = {"models": data}
        else:
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "mini-agent"} for m in shown]
            listing = {"object": "list", "data": data}
        await send_json(send, 200, data[0] if wanted else listing)

    async def _stored(self, method: str, rest: str, send: Send) -> None:
        ident, _, tail = rest.partition("/")
        if tail not in ("", "input_items") or (tail and method != "GET"):
            raise HttpError(404, f"no route {method} /v1/responses/{rest}", "not_found_error")
        entry = self.store.get(ident)
        if entry is None:
            raise not_found(ident)
        if method == "DELETE":
            self.store.delete(ident)
            await send_json(send, 200, {"id": ident, "object": "response.deleted", "deleted": True})
        elif tail:
            items = [i for i in entry[1] if isinstance(i, dict)]
            await send_json(send, 200, {"object": "list", "data": items, "has_more": False,
                                        "first_id": items[0].get("id") if items else None,
                                        "last_id": items[-1].get("id") if items else None})
        else:
            await send_json(send, 200, entry[0])

    async def _admin(self, method: str, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        if path == "/_bed/journal" and method in ("GET", "DELETE"):
            if method == "DELETE":
                self.journal.clear()
            contains = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1")).get("contains")
            await send_json(send, 200, {"entries": self.journal.entries(contains[0].encode() if contains else None)})
        elif path == "/_bed/faults" and method in ("POST", "DELETE"):
            await self._queue_fault(method, receive, send)
        elif path == "/_bed/scripts" and method in ("GET", "POST", "DELETE"):
            if method == "POST":
                try:
                    script = Script.parse(parse_json(await read_body(receive)))
                except ScriptError as exc:
                    raise HttpError(400, str(exc)) from None
                self.scripts.add(script)
            elif method == "DELETE":
                self.scripts.clear()
            self._cache.clear()  # rendered answers may have been for other scripts
            await send_json(send, 200, {"scripts": self.scripts.listing()})
        elif path == "/_bed/reset" and method == "POST":
            self.journal.clear()
            self.faults.clear()
            self.scripts.clear()
            self.store.clear()
            self._cache.clear()
            await send_json(send, 200, {"reset": True})
        else:
            raise HttpError(404, f"no route {method} {path}", "not_found_error")

    async def _queue_fault(self, method: str, receive: Receive, send: Send) -> None:
        if method == "DELETE":
            self.faults.clear()
            await send_json(send, 200, {"queued": 0})
            return
        body = parse_json(await read_body(receive))
        try:
            fault = Fault.parse(str(body.get("fault", "")))
        except FaultSpecError as exc:
            raise HttpError(400, str(exc)) from None
        times = body.get("times", 1)
        if not isinstance(times, int) or times < 1:
            raise HttpError(400, "times must be a positive integer")
        contains = body.get("contains")
        if contains is not None and not isinstance(contains, str):
            raise HttpError(400, "contains must be a string")
        self.faults.push(fault, times, body.get("model"), contains)
        await send_json(send, 200, {"queued": len(self.faults)})


def _bare(model: str, body: Mapping[str, Any]) -> Request:
    """A request with no conversation (embeddings): just the model, for faults."""
    name, spec = split_model(model)
    return Request(_core.Conversation(name, []), False, body, spec)


def _model(body: Mapping[str, Any], surface: Surface, path_model: str | None = None) -> str:
    """The model of a request that is not a generation; a twin checks the body first."""
    if isinstance(surface, Call):
        surface.owner.check(body, surface)
        path_model = path_model or surface.model
    return path_model or str(body.get("model") or "")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _gemini_text(request: Any) -> str:
    content = request.get("content") if isinstance(request, dict) else None
    parts = content.get("parts") if isinstance(content, dict) else None
    return " ".join(str(p.get("text", "")) for p in parts or () if isinstance(p, dict))


def _check_dims(dims: Any) -> None:
    if not isinstance(dims, int) or not 1 <= dims <= 4096:
        raise HttpError(400, "dimensions must be an integer from 1 to 4096")


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(environ: Mapping[str, str] = os.environ) -> Shim:
    """The server's factory (``uvicorn --factory``): the environment is read here, at start."""
    models = tuple(filter(None, environ.get("MINI_AGENT_MODELS", "codex-agent-1").split(",")))
    return Shim(seed=environ.get("MINI_AGENT_SEED", "bed"), models=models)


