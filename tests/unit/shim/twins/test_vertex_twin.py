"""The Vertex AI twin, driven by google-auth's service-account credentials (their real JWT-bearer
token exchange against the twin's token URI) and google-genai's Vertex client; Claude on Vertex
through rawPredict / streamRawPredict; Google's and OAuth's error shapes."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from google import genai
from google.auth import exceptions as auth_errors
from google.auth import jwt
from google.genai import errors, types
from google.oauth2 import service_account

from bed.shim.app import Shim
from bed.shim.twins._fake_google_key import service_account_info
from bed.shim.twins.vertex import CLOUD_PLATFORM, JWT_BEARER, Vertex

from .clients import WEATHER, collect, fault, http, journal, new_shim, run
from .cloud import GoogleTransport

MODEL = "gemini-2.5-flash"
TOKEN_URI = "http://shim/twins/vertex/token"
ROOT = "/v1/projects/bed-proj/locations/us-central1/publishers"


def credentials(shim: Shim, scopes: list[str] | None = None, token_uri: str = TOKEN_URI) -> Any:
    """google-auth's own service-account credentials, refreshed (the token exchange) against the twin."""
    creds = service_account.Credentials.from_service_account_info(
        service_account_info(token_uri), scopes=[CLOUD_PLATFORM] if scopes is None else scopes)
    creds.refresh(GoogleTransport(shim))
    return creds


def vertex(shim: Shim, creds: Any = None, base: str = "http://shim/twins/vertex") -> genai.Client:
    options = types.HttpOptions(base_url=base, httpx_async_client=http(shim),
                                retry_options=types.HttpRetryOptions(attempts=1))
    return genai.Client(vertexai=True, credentials=creds or credentials(shim), project="bed-proj",
                        location="us-central1", http_options=options)


def post(shim: Shim, path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    async def call() -> httpx.Response:
        async with http(shim, headers) as c:
            return await c.post(path, json=body)

    return run(call)


def test_the_token_exchange_issues_a_bearer_token() -> None:
    shim = new_shim()
    creds = credentials(shim)
    assert creds.valid
    assert creds.token.startswith("ya29.bedtwin.")
    entry = journal(shim)[-1]
    assert entry["path"] == "/twins/vertex/token"
    assert entry["twin"] == "vertex"
    assert "refused" not in entry
    # the signed assertion is a credential: the journal shows that it was sent, not what it was
    assert entry["body"] == "assertion=<redacted>&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"


def test_generate_stream_tools_and_count_through_google_genai() -> None:
    shim = new_shim()
    client = vertex(shim)
    plain = run(lambda: client.aio.models.generate_content(model=MODEL, contents="hello vertex"))
    assert (plain.text or "").startswith("[mini-agent] hello vertex")
    chunks = run(lambda: collect(client.aio.models.generate_content_stream(model=MODEL, contents="hello vertex")))
    assert "".join(c.text or "" for c in chunks) == plain.text
    declaration = types.FunctionDeclaration(name="weather", description="the weather", parameters=WEATHER)
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[declaration])], labels={"t": "x"})
    called = run(lambda: client.aio.models.generate_content(model=MODEL, contents="weather?", config=config))
    (call,) = called.function_calls or []
    assert (call.name, set(call.args or {})) == ("weather", {"city"})
    assert run(lambda: client.aio.models.count_tokens(model=MODEL, contents="one two three")).total_tokens == 3
    paths = [e["path"] for e in journal(shim)]
    assert f"/twins/vertex/v1beta1/projects/bed-proj/locations/us-central1/publishers/google/models/{MODEL}" \
           ":generateContent" in paths
    assert all(e["headers"]["authorization"] == "<redacted>" for e in journal(shim)[1:])


def test_the_model_paths_also_answer_at_the_root() -> None:
    shim = new_shim()
    client = vertex(shim, base="http://shim")
    assert (run(lambda: client.aio.models.generate_content(model=MODEL, contents="root")).text or "").startswith(
        "[mini-agent] root")
    assert journal(shim)[-1]["path"].startswith("/v1beta1/projects/bed-proj/")


def test_a_call_without_or_with_a_foreign_token_is_unauthenticated() -> None:
    shim = new_shim()
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    path = f"{ROOT}/google/models/{MODEL}:generateContent"
    for headers, reason in (({}, "CREDENTIALS_MISSING"), ({"x-goog-api-key": "AIza-x"}, "CREDENTIALS_MISSING"),
                            ({"Authorization": "Bearer ya29.a0real-looking"}, "ACCESS_TOKEN_TYPE_UNSUPPORTED")):
        answer = post(shim, path, body, headers)
        assert answer.status_code == 401
        error = answer.json()["error"]
        assert (error["status"], error["details"][0]["reason"]) == ("UNAUTHENTICATED", reason)
    assert journal(shim)[-1]["refused"]["status"] == 401


def test_an_expired_or_narrow_token_is_refused() -> None:
    shim = new_shim()
    twin = shim.twins["vertex"]
    assert isinstance(twin, Vertex)
    narrow = credentials(shim, scopes=["https://www.googleapis.com/auth/userinfo.email"])
    with pytest.raises(errors.ClientError) as info:
        run(lambda: vertex(shim, narrow).aio.models.generate_content(model=MODEL, contents="hi"))
    assert (info.value.code, info.value.status) == (403, "PERMISSION_DENIED")
    creds = credentials(shim)
    twin.clock = lambda: time.time() + 3600  # an hour later: the token has expired
    with pytest.raises(errors.ClientError) as info:
        run(lambda: vertex(shim, creds).aio.models.generate_content(model=MODEL, contents="hi"))
    assert info.value.code == 401
    assert info.value.details["error"]["details"][0]["reason"] == "ACCESS_TOKEN_EXPIRED"


def test_the_token_exchange_refuses_what_google_refuses() -> None:
    shim = new_shim()
    creds = service_account.Credentials.from_service_account_info(service_account_info(TOKEN_URI),
                                                                  scopes=[CLOUD_PLATFORM])
    for audience in ("http://elsewhere/token", "https://oauth2.googleapis.com/token", TOKEN_URI):
        assertion = _assertion_for(creds, audience)
        answer = post_form(shim, {"grant_type": JWT_BEARER, "assertion": assertion})
        assert answer.status_code == (400 if "elsewhere" in audience else 200), audience
    assert answer.json()["token_type"] == "Bearer"
    assert journal(shim)[-3]["refused"]["why"] == ("Invalid JWT: Failed audience check. The right audience is "
                                                   "https://oauth2.googleapis.com/token")
    stale = _assertion_for(creds, TOKEN_URI, issued=int(time.time()) - 7200)
    assert post_form(shim, {"grant_type": JWT_BEARER, "assertion": stale}).json()["error_description"].startswith(
        "Invalid JWT: Token must be a short-lived token (60 minutes)")
    with pytest.raises(auth_errors.RefreshError, match="invalid_scope"):
        credentials(shim, scopes=[])
    forged = {"grant_type": JWT_BEARER, "assertion": "e30.e30.AAAA"}
    answer = post_form(shim, forged)
    assert (answer.status_code, answer.json()) == (400, {"error": "invalid_grant",
                                                         "error_description": "Invalid JWT Signature."})
    answer = post_form(shim, {"grant_type": "client_credentials"})
    assert answer.json()["error"] == "unsupported_grant_type"
    assert journal(shim)[-1]["refused"] == {"status": 400, "why": "Invalid grant_type: client_credentials"}


def _assertion_for(creds: Any, audience: str, issued: int | None = None) -> str:
    """An assertion as google-auth signs one (its signer, the account's key), for a chosen audience and time."""
    now = int(time.time()) if issued is None else issued
    payload = {"iat": now, "exp": now + 3600, "iss": creds.service_account_email, "aud": audience,
               "scope": CLOUD_PLATFORM}
    return jwt.encode(creds.signer, payload).decode()


def post_form(shim: Shim, data: dict[str, str]) -> httpx.Response:
    async def call() -> httpx.Response:
        async with http(shim) as c:
            return await c.post("/twins/vertex/token", data=data)

    return run(call)


def test_gemini_schema_rules_and_google_errors_on_vertex() -> None:
    shim = new_shim()
    client = vertex(shim)
    with pytest.raises(errors.ClientError) as info:
        run(lambda: client.aio.models.generate_content(model=MODEL, contents="hi", config=types.GenerateContentConfig(
            temperature=3.0)))
    assert (info.value.code, info.value.status) == (400, "INVALID_ARGUMENT")
    headers = fault("status=429;retry_after=7")
    options = types.HttpOptions(base_url="http://shim/twins/vertex", httpx_async_client=http(shim, headers),
                                retry_options=types.HttpRetryOptions(attempts=1))
    limited = genai.Client(vertexai=True, credentials=credentials(shim), project="p", location="global",
                           http_options=options)
    with pytest.raises(errors.ClientError) as info:
        run(lambda: limited.aio.models.generate_content(model=MODEL, contents="hi"))
    assert (info.value.code, info.value.status) == (429, "RESOURCE_EXHAUSTED")
    assert info.value.details["error"]["details"] == [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                                       "retryDelay": "7s"}]


def test_claude_on_vertex_raw_predict_plain_and_streamed() -> None:
    shim = new_shim()
    auth = {"Authorization": f"Bearer {credentials(shim).token}"}
    body = {"anthropic_version": "vertex-2023-10-16", "max_tokens": 64,
            "messages": [{"role": "user", "content": "hello claude on vertex"}]}
    model = "claude-sonnet-4@20250514"
    reply = post(shim, f"{ROOT}/anthropic/models/{model}:rawPredict", body, auth)
    assert reply.status_code == 200
    assert reply.json()["content"][0]["text"].startswith("[mini-agent] hello claude on vertex")
    streamed = post(shim, f"{ROOT}/anthropic/models/{model}:streamRawPredict", {**body, "stream": True}, auth)
    assert streamed.headers["content-type"] == "text/event-stream"
    events = [json.loads(line[6:]) for line in streamed.text.splitlines() if line.startswith("data: ")]
    assert events[-1]["type"] == "message_stop"
    assert "".join(e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta") == \
        reply.json()["content"][0]["text"]
    refused = post(shim, f"{ROOT}/anthropic/models/{model}:rawPredict", {**body, "model": model}, auth)
    assert (refused.status_code, refused.json()["error"]) == (400, {"type": "invalid_request_error",
                                                                    "message": "model: Extra inputs are not permitted"})
    old = post(shim, f"{ROOT}/anthropic/models/{model}:rawPredict", {**body, "anthropic_version": "2023-06-01"}, auth)
    assert old.json()["error"]["message"] == "anthropic_version: Input should be 'vertex-2023-10-16'"
