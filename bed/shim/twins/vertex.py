"""The Vertex AI twin: Google's service-account token exchange, then the Vertex paths.

    POST /twins/vertex/token                    the ``token_uri`` of the fake service account
                                                (``_fake_google_key``): a JWT-bearer grant
    POST /{v1|v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{m}:generateContent
         (also :streamGenerateContent?alt=sse and :countTokens)   Gemini on Vertex
    POST .../publishers/anthropic/models/{m}:rawPredict, :streamRawPredict   Claude on Vertex

The model paths answer under ``/twins/vertex`` and also at the shim's root: LiteLLM grafts its own
Vertex path onto an ``api_base`` only when that base has no path (or just ``/v1``); any other base
is taken as a full endpoint, so a ``vertex_ai`` deployment points at ``http://<shim>:<port>``.

The token exchange is checked as Google's token endpoint checks it: ``grant_type`` is
``urn:ietf:params:oauth:grant-type:jwt-bearer``; the ``assertion`` is an RS256 JWT whose signature
verifies with the service account's public key (``_rs256``, Python integers), whose ``kid`` is
the account's key id, ``iss`` the account, ``aud`` Google's token endpoint (or this URI), which
lives at most an hour and asks for a ``scope``. Refusals are OAuth's
``{"error": "invalid_grant", "error_description": ...}``.
The access token it issues is stateless (an HMAC over the account, the scope and the expiry), so
it survives a shim reset, as a cached Google token survives everything but its expiry.

A model call needs ``Authorization: Bearer <an access token the twin issued>``, unexpired and
carrying the cloud-platform scope, else Google's 401 UNAUTHENTICATED / 403 PERMISSION_DENIED
with an ``ErrorInfo`` reason. A Gemini body is checked by the Gemini twin's rules (the
GenerateContentRequest proto: unknown fields, roles, function declarations and their Schema), the
fields only Vertex has allowed; a Claude body by the Anthropic twin's, plus Vertex's own:
``anthropic_version`` ``vertex-2023-10-16`` and no ``model`` (the path names it), refused in
Anthropic's error shape as Vertex passes Claude's errors on. Other errors are Google's
``{"error": {"code", "message", "status"}}``; a 429 is RESOURCE_EXHAUSTED, with a
``google.rpc.RetryInfo`` when the fault names a delay.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from .._http import Headers, HttpError, Scope, header
from ..surfaces._base import Request
from ..surfaces.gemini import gemini_error
from ..surfaces.messages import Messages, anthropic_error
from . import _rs256
from ._base import COUNT, GENERATE, Call, Reply, Twin, bearer, refuse
from ._fake_google_key import CLIENT_EMAIL, PRIVATE_KEY, PRIVATE_KEY_ID
from .anthropic import Anthropic
from .gemini import Gemini

EXCHANGE = "token_exchange"  # the call kind of the token URI
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
TOKEN_LIFETIME_S = 3599  # what Google's token endpoint gives a service account
CLAUDE_VERSION = "vertex-2023-10-16"
VERTEX_ONLY = ("labels", "model_armor_config", "modelArmorConfig")  # request fields AI Studio's proto has not
MODEL_PATH = re.compile(r"^/(?P<version>v1|v1beta1)/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/"
                        r"publishers/(?P<publisher>google|anthropic)/models/(?P<model>[^/:]+):(?P<verb>[A-Za-z]+)$")
GOOGLE_VERBS = {"generateContent": GENERATE, "streamGenerateContent": GENERATE, "countTokens": COUNT}
CLAUDE_VERBS = ("rawPredict", "streamRawPredict")
SEE = "See https://developers.google.com/identity/sign-in/web/devconsole-project."
SHORT_LIVED = ("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your "
               "iat and exp values in the JWT claim.")
CLOCK_SKEW_S = 300
# The audience Google's token endpoint takes; google-auth names it whatever its token_uri is, so the twin,
# standing in for that endpoint, takes it too (and its own URL, for a client that names where it posts).
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL, not a secret)


class Vertex(Twin):
    name = "vertex"

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._gemini = Gemini()  # Google's GenerateContentRequest rules, shared with the AI Studio twin
        self._anthropic = Anthropic()  # Claude's Messages rules
        self.protocol = self._gemini.protocol
        self.claude = Messages()
        self.clock = clock
        self.key = _rs256.public_key(PRIVATE_KEY)
        self._secret = hashlib.sha256(b"bed vertex twin tokens\x00" + PRIVATE_KEY.encode()).digest()

    def route(self, method: str, path: str) -> Call | None:
        if method != "POST":
            return None
        if path == "/token":
            return self.call(EXCHANGE)
        match = MODEL_PATH.match(path)
        if match is None:
            return None
        verb, model = match["verb"], match["model"]
        if match["publisher"] == "anthropic":
            return self.call(GENERATE, self.claude, model, verb == "streamRawPredict", verb) \
                if verb in CLAUDE_VERBS else None
        kind = GOOGLE_VERBS.get(verb)
        return None if kind is None else self.call(kind, model=model, stream=verb == "streamGenerateContent",
                                                   method=verb)

    # --- credentials ------------------------------------------------------------------------------

    def admit(self, scope: Scope, raw: bytes) -> None:
        if scope["path"].endswith("/twins/vertex/token"):
            return  # the token exchange authenticates by its assertion
        token = bearer(scope)
        if token is None:
            reason = "an API key" if header(scope, b"x-goog-api-key") else "no credential"
            message = ("API keys are not supported by this API. Expected OAuth2 access token or other authentication "
                       "credentials that assert a principal. " + SEE) if reason == "an API key" else (
                "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie "
                "or other valid authentication credential. " + SEE)
            raise _google(401, message, "CREDENTIALS_MISSING")
        claims = self._claims(token)
        if claims is None:
            raise _google(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                               "cookie or other valid authentication credential. " + SEE,
                          "ACCESS_TOKEN_TYPE_UNSUPPORTED")
        if claims["exp"] <= self.clock():
            raise _google(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                               "cookie or other valid authentication credential. " + SEE, "ACCESS_TOKEN_EXPIRED")
        if CLOUD_PLATFORM not in str(claims.get("scope", "")).split():
            raise _google(403, "Request had insufficient authentication scopes.", "ACCESS_TOKEN_SCOPE_INSUFFICIENT")

    def serve(self, call: Call, scope: Scope, raw: bytes) -> Reply:
        if call.kind != EXCHANGE:
            return super().serve(call, scope, raw)
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        if form.get("grant_type") != JWT_BEARER:
            raise _oauth("unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type', '')}")
        if not form.get("assertion"):
            raise _oauth("invalid_request", "Missing required parameter: assertion")
        claims = self._assertion(form["assertion"], _own_url(scope))
        expires = int(self.clock()) + TOKEN_LIFETIME_S
        return 200, {"access_token": self._issue(str(claims["iss"]), str(claims["scope"]), expires),
                     "expires_in": TOKEN_LIFETIME_S, "token_type": "Bearer"}, []

    def _assertion(self, assertion: str, audience: str) -> dict[str, Any]:
        try:
            head, claims = _rs256.verify(assertion, self.key)
        except _rs256.TokenError:
            raise _oauth("invalid_grant", "Invalid JWT Signature.") from None
        if head.get("kid") not in (None, PRIVATE_KEY_ID):
            raise _oauth("invalid_grant", "Invalid JWT Signature.")
        if claims.get("iss") != CLIENT_EMAIL:
            raise _oauth("invalid_grant", "Invalid grant: account not found")
        if claims.get("aud") not in (GOOGLE_TOKEN_AUDIENCE, audience):
            raise _oauth("invalid_grant", "Invalid JWT: Failed audience check. The right audience is "
                                          f"{GOOGLE_TOKEN_AUDIENCE}")
        iat, exp, now = claims.get("iat"), claims.get("exp"), self.clock()
        if not isinstance(iat, int) or not isinstance(exp, int) or exp - iat > 3600 or exp <= iat \
                or not iat - CLOCK_SKEW_S <= now < exp:
            raise _oauth("invalid_grant", SHORT_LIVED)
        if not str(claims.get("scope", "")).strip():
            raise _oauth("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        return claims

    def _issue(self, account: str, scope: str, expires: int) -> str:
        payload = _rs256.b64url(json.dumps({"sub": account, "scope": scope, "exp": expires}).encode())
        return f"ya29.bedtwin.{payload}.{_rs256.b64url(self._mac(payload))}"

    def _claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this twin issued (its MAC checks), or None."""
        parts = token.split(".")
        if len(parts) != 4 or parts[:2] != ["ya29", "bedtwin"]:
            return None
        try:
            mac_ok = hmac.compare_digest(_rs256.unb64url(parts[3]), self._mac(parts[2]))
            claims = json.loads(_rs256.unb64url(parts[2])) if mac_ok else None
        except (_rs256.TokenError, ValueError):
            return None
        return claims if isinstance(claims, dict) and isinstance(claims.get("exp"), int) else None

    def _mac(self, payload: str) -> bytes:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).digest()[:16]

    # --- bodies ----------------------------------------------------------------------------------

    def check(self, body: Mapping[str, Any], call: Call) -> None:
        if call.protocol is self.claude:
            _check_claude(self._anthropic, body, call)
        else:
            self._gemini.check({k: v for k, v in body.items() if k not in VERTEX_ONLY}, call)

    def adapt(self, body: Mapping[str, Any], call: Call) -> Mapping[str, Any]:
        if call.protocol is self.claude:
            return {**{k: v for k, v in body.items() if k != "anthropic_version"}, "model": call.model,
                    "stream": call.stream}
        return self._gemini.adapt(body, call)

    def count_tokens(self, call: Call, req: Request) -> Any:
        return self._gemini.count_tokens(call, req)

    def error(self, exc: HttpError) -> Any:
        body = gemini_error(exc)
        if exc.status == 429:
            body["error"]["message"] = ("Resource exhausted. Please try again later. Please refer to "
                                        "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for "
                                        "more details.")
            if exc.retry_after is not None:
                body["error"]["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                             "retryDelay": f"{max(round(exc.retry_after), 0)}s"}]
        return body

    def error_headers(self, exc: HttpError) -> Headers:
        return []  # Google says when to retry in the body (RetryInfo), not in a header


def _check_claude(anthropic: Anthropic, body: Mapping[str, Any], call: Call) -> None:
    def claude_error(message: str) -> HttpError:
        exc = HttpError(400, message)
        return refuse(400, message, body=anthropic_error(exc))

    if "model" in body:
        raise claude_error("model: Extra inputs are not permitted")
    if body.get("anthropic_version") != CLAUDE_VERSION:
        raise claude_error("anthropic_version: Field required" if "anthropic_version" not in body else
                           f"anthropic_version: Input should be '{CLAUDE_VERSION}'")
    try:
        anthropic.check({**{k: v for k, v in body.items() if k != "anthropic_version"}, "model": call.model}, call)
    except HttpError as exc:
        raise claude_error(exc.message) from None


def _google(status: int, message: str, reason: str) -> HttpError:
    kind = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}[status]
    return refuse(status, message, body={"error": {"code": status, "message": message, "status": kind, "details": [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com",
         "metadata": {"service": "aiplatform.googleapis.com",
                      "method": "google.cloud.aiplatform.v1.PredictionService.GenerateContent"}}]}})


def _oauth(error: str, description: str) -> HttpError:
    return refuse(400, description, body={"error": error, "error_description": description})


def _own_url(scope: Scope) -> str:
    """This request's URL as the client addressed it: the audience its assertion must name."""
    host = header(scope, b"host") or "localhost"
    return f"{scope.get('scheme', 'http')}://{host}{scope['path']}"
