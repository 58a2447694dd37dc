"""The Gemini twin (Google AI Studio): ``/twins/gemini/v1beta/models/<model>:generateContent``,
``:streamGenerateContent?alt=sse``, ``:countTokens``, ``:embedContent``, ``:batchEmbedContents``
and ``GET /v1beta/models``, as ``generativelanguage.googleapis.com`` answers them (``/v1/`` too).

Strict as the API: an ``x-goog-api-key`` header or a ``key=`` query parameter (or an OAuth Bearer
token), else 403 PERMISSION_DENIED; a field the request proto does not have is "Invalid JSON
payload received. Unknown name ...: Cannot find field." (top level, function declarations, and
every level of a declaration's ``parameters``, which is Google's OpenAPI-subset ``Schema``: no
``additionalProperties``, ``$ref``, ``const``...; ``parametersJsonSchema`` takes full JSON
Schema instead); ``contents`` must be non-empty with roles ``user`` / ``model``; function names
start with a letter or ``_`` (at most 64 of letters, digits, ``_ . : -``); ``temperature`` within
0..2. Both spellings the proto JSON parser reads (camelCase and snake_case) are accepted.
Errors are ``{"error": {"code", "message", "status", "details"}}``; a 429 is RESOURCE_EXHAUSTED
with a ``google.rpc.RetryInfo`` (``retryDelay``) in its details, Google's way to say when to retry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .._http import Headers, HttpError, Scope, header
from ..surfaces._base import Request
from ..surfaces.gemini import Gemini as GeminiProtocol
from ..surfaces.gemini import gemini_error, parse_method
from ._base import COUNT, EMBED, GENERATE, MODELS, Call, Twin, bearer, number, query, refuse

REQUEST = ("model", "contents", "tools", "tool_config", "safety_settings", "system_instruction", "generation_config",
           "cached_content", "service_tier")
DECLARATION = ("name", "description", "parameters", "parameters_json_schema", "response", "response_json_schema",
               "behavior")
SCHEMA = ("type", "format", "title", "description", "nullable", "enum", "max_items", "min_items", "properties",
          "required", "min_properties", "max_properties", "min_length", "max_length", "pattern", "example", "any_of",
          "property_ordering", "default", "items", "minimum", "maximum")
TYPES = ("TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL")
FUNCTION_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$")
UNREGISTERED = ("Method doesn't allow unregistered callers (callers without established identity). Please use API "
                "Key or other form of API consumer identity to call this API.")
VERSIONS = ("/v1beta/", "/v1/")


def snake(name: str) -> str:
    """The proto field name of a JSON name: ``maxItems`` -> ``max_items`` (either spelling is read)."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def unknown_name(name: str, where: str) -> HttpError:
    message = f'Invalid JSON payload received. Unknown name "{name}"' + (f" at '{where}'" if where else "") + \
        ": Cannot find field."
    field = where or name
    return refuse(400, message, body={"error": {
        "code": 400, "message": message, "status": "INVALID_ARGUMENT",
        "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                     "fieldViolations": [{"field": field, "description": message}]}]}})


class Gemini(Twin):
    name = "gemini"

    def __init__(self) -> None:
        self.protocol = GeminiProtocol()

    def route(self, method: str, path: str) -> Call | None:
        version = next((v for v in VERSIONS if path.startswith(v)), None)
        if version is None:
            return None
        rest = path[len(version):]
        if method == "GET" and (rest == "models" or rest.startswith("models/")):
            return self.call(MODELS, model=rest[len("models/"):] or None)
        call = parse_method(rest[len("models/"):]) if method == "POST" and rest.startswith("models/") else None
        if call is None:
            return None
        model, verb = call
        kind = {"generateContent": GENERATE, "streamGenerateContent": GENERATE, "countTokens": COUNT}.get(verb, EMBED)
        return self.call(kind, model=model, stream=verb == "streamGenerateContent", method=verb)

    def admit(self, scope: Scope, raw: bytes) -> None:
        if not (header(scope, b"x-goog-api-key") or query(scope).get("key") or bearer(scope)):
            raise refuse(403, UNREGISTERED)

    def check(self, body: Mapping[str, Any], call: Call) -> None:
        if call.kind == EMBED:
            return
        if call.kind == COUNT:
            inner = body.get("generateContentRequest") or body.get("generate_content_request")
            if isinstance(inner, dict):
                body = inner
        for key in body:
            if snake(key) not in REQUEST and not (call.kind == COUNT and snake(key) == "generate_content_request"):
                raise unknown_name(key, "")
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            raise refuse(400, "* GenerateContentRequest.contents: contents is not specified")
        for content in contents:
            role = content.get("role") if isinstance(content, dict) else None
            if role not in (None, "user", "model", "function"):
                raise refuse(400, "Please use a valid role: user, model.")
        config = body.get("generationConfig", body.get("generation_config")) or {}
        if isinstance(config, dict) and number(config, "temperature", 0, 2) is not None:
            raise refuse(400, "* GenerateContentRequest.generation_config.temperature: must be in the range [0.0, 2.0]")
        _check_tools(body.get("tools"))

    def adapt(self, body: Mapping[str, Any], call: Call) -> Mapping[str, Any]:
        if call.kind == COUNT:
            inner = body.get("generateContentRequest") or body.get("generate_content_request")
            return inner if isinstance(inner, dict) else body
        return body

    def count_tokens(self, call: Call, req: Request) -> Any:
        tokens = req.conv.input_tokens()
        return {"totalTokens": tokens, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": tokens}]}

    def listing(self, call: Call, models: tuple[str, ...], wanted: str) -> Any:
        def one(m: str) -> dict[str, Any]:
            return {"name": f"models/{m}", "baseModelId": m, "version": "001", "displayName": m,
                    "inputTokenLimit": 1048576, "outputTokenLimit": 65536,
                    "supportedGenerationMethods": ["generateContent", "countTokens", "embedContent"]}

        return one(wanted) if wanted else {"models": [one(m) for m in models]}

    def error(self, exc: HttpError) -> Any:
        body = gemini_error(exc)
        if exc.status == 429:
            delay = exc.retry_after if exc.retry_after is not None else 1.0
            body["error"]["message"] = ("You exceeded your current quota, please check your plan and billing details. "
                                        f"Please retry in {delay:g}s.")
            body["error"]["details"] = [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                 "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                                 "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{max(round(delay), 0)}s"}]
        return body

    def error_headers(self, exc: HttpError) -> Headers:
        return []  # Google says when to retry in the body (RetryInfo), not in a header


def _check_tools(tools: Any) -> None:
    for i, tool in enumerate(tools if isinstance(tools, list) else ()):
        declarations = tool.get("functionDeclarations", tool.get("function_declarations")) \
            if isinstance(tool, dict) else None
        for j, declaration in enumerate(declarations if isinstance(declarations, list) else ()):
            where = f"tools[{i}].function_declarations[{j}]"
            for key in declaration if isinstance(declaration, dict) else ():
                if snake(key) not in DECLARATION:
                    raise unknown_name(key, where)
            name = declaration.get("name") if isinstance(declaration, dict) else None
            if not isinstance(name, str) or not FUNCTION_NAME.match(name):
                raise refuse(400, f"* GenerateContentRequest.{where}.name: Invalid function name. Must start with a "
                                  "letter or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots, "
                                  "colons and dashes, with a maximum length of 64.")
            schema = declaration.get("parameters")
            if schema is not None:
                _check_schema(schema, f"{where}.parameters")


def _check_schema(schema: Any, where: str) -> None:
    """Google's ``Schema`` proto, every level: known fields, and a type that is one of its enum's."""
    if not isinstance(schema, dict):
        raise refuse(400, f"Invalid JSON payload received. Expected an object at '{where}'.")
    for key, value in schema.items():
        field = snake(key)
        if field not in SCHEMA:
            raise unknown_name(key, where)
        if field == "type" and (not isinstance(value, str) or value.upper() not in TYPES):
            if isinstance(value, list):
                raise refuse(400, f'Invalid JSON payload received. Unknown name "type" at \'{where}\': Proto field is '
                                  "not repeating, cannot start list.")
            raise refuse(400, f"Invalid value at '{where}.type' (type.googleapis.com/google.ai.generativelanguage."
                              f'v1beta.Type), "{value}"')
    properties = schema.get("properties")
    for k, value in enumerate(properties.values() if isinstance(properties, dict) else ()):
        _check_schema(value, f"{where}.properties[{k}].value")
    if "items" in schema:
        _check_schema(schema["items"], f"{where}.items")
    for k, value in enumerate(schema.get("anyOf", schema.get("any_of")) or ()):
        _check_schema(value, f"{where}.any_of[{k}]")
