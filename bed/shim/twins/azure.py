"""The Azure OpenAI twin: ``/twins/azure/openai/deployments/<deployment>/chat/completions`` and
``/embeddings`` with the required ``api-version`` query, and the v1 API
(``/openai/v1/chat/completions``, model in the body, no version needed), as a resource endpoint
``https://<resource>.openai.azure.com`` answers them.

Strict as Azure: an ``api-key`` header or ``Authorization: Bearer`` (Entra ID) token, else 401
"Access denied"; a deployment path without ``api-version``, or with one that is not a version
(``YYYY-MM-DD`` or ``YYYY-MM-DD-preview``), is 404 "Resource not found"; the body passes
OpenAI's chat checks (``openai.check_chat``, with Azure's extra arguments) and needs no model.
Answers carry Azure's content-filter results (``prompt_filter_results``, each choice's
``content_filter_results``; a stream starts with a chunk of no choices holding the prompt's).
Errors: Azure's own ``{"error": {"code": "429", "message": ...}}`` for 401/404/429/5xx, OpenAI's
shape for a refused body (Azure passes the model's own through); a 429 has ``retry-after``,
``retry-after-ms`` and ``x-ratelimit-remaining-*``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .._core import Answer
from .._http import Headers, HttpError, Scope, dumps, header
from ..surfaces._base import Frames, Request, openai_error
from ..surfaces.chat import Chat
from ._base import EMBED, GENERATE, Call, Twin, bearer, query, refuse
from .openai import CHAT_ARGUMENTS, check_chat

ARGUMENTS = CHAT_ARGUMENTS | {"data_sources", "user_security_context"}
VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")
DEPLOYMENT = re.compile(r"^/openai/deployments/([^/]+)/(chat/completions|embeddings)$")
DENIED = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
          "for an active subscription and use a correct regional API endpoint for your resource.")
SAFE = {kind: {"filtered": False, "severity": "safe"} for kind in ("hate", "self_harm", "sexual", "violence")}
PROMPT_FILTER = [{"prompt_index": 0, "content_filter_results": SAFE}]


class Azure(Twin):
    name = "azure"

    def __init__(self) -> None:
        self.protocol = Chat()

    def route(self, method: str, path: str) -> Call | None:
        if method != "POST":
            return None
        found = DEPLOYMENT.match(path)
        if found is not None:
            return self.call(GENERATE if found.group(2) == "chat/completions" else EMBED, model=found.group(1))
        if path == "/openai/v1/chat/completions":
            return self.call(GENERATE)
        if path == "/openai/v1/embeddings":
            return self.call(EMBED)
        return None

    def admit(self, scope: Scope, raw: bytes) -> None:
        if not (header(scope, b"api-key") or "").strip() and bearer(scope) is None:
            raise refuse(401, DENIED)
        version = query(scope).get("api-version")
        if "/deployments/" in scope["path"] and (version is None or not VERSION.match(version)):
            raise refuse(404, "Resource not found")

    def check(self, body: Mapping[str, Any], call: Call) -> None:
        if call.kind == GENERATE:
            check_chat(body, ARGUMENTS, model=call.model is None)
        elif "input" not in body:
            raise refuse(400, "'input' is a required property", param="input")

    def adapt(self, body: Mapping[str, Any], call: Call) -> Mapping[str, Any]:
        # The deployment names the model; a body's own model (the openai SDK sends one) is ignored.
        return {**body, "model": call.model} if call.model else body

    def render(self, call: Call, req: Request, answers: list[Answer]) -> Any:
        out = call.protocol.render(req, answers)
        for choice in out["choices"]:
            choice["content_filter_results"] = SAFE
        return {**out, "prompt_filter_results": PROMPT_FILTER}

    def frames(self, call: Call, req: Request, answers: list[Answer]) -> Frames:
        frames, terminal = call.protocol.frames(req, answers)
        head = {"choices": [], "created": 0, "id": "", "model": "", "object": "",
                "prompt_filter_results": PROMPT_FILTER}
        return [b"data: " + dumps(head) + b"\n\n", *frames], terminal

    def error(self, exc: HttpError) -> Any:
        if exc.status == 400 and exc.kind != "injected_fault":
            return openai_error(exc)
        message = exc.message
        if exc.status == 429:
            delay = exc.retry_after if exc.retry_after is not None else 1
            message = (f"Requests to the ChatCompletions_Create Operation under Azure OpenAI API have exceeded call "
                       f"rate limit of your current OpenAI S0 pricing tier. Please retry after {delay:g} second(s).")
        return {"error": {"code": str(exc.status), "message": message}}

    def error_headers(self, exc: HttpError) -> Headers:
        if exc.status != 429:
            return []
        delay = exc.retry_after if exc.retry_after is not None else 1.0
        return [(b"retry-after", f"{max(delay, 0):g}".encode()), (b"retry-after-ms", str(round(delay * 1000)).encode()),
                (b"x-ratelimit-remaining-requests", b"0"), (b"x-ratelimit-remaining-tokens", b"0")]
