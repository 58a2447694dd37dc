"""The SigV4 verifier against botocore's signer: what botocore signs verifies, and each way a
request can be signed wrong is refused with AWS's own error type and message."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bed.shim.twins._sigv4 import Scope, SignatureError, canonical_uri, verify

KEY, SECRET = "AKIAFAKE0000BEDTWIN0", "bedtwin/fake/secret/key/0000000000000000"
SECRETS = {KEY: SECRET}
URL = "http://mini-agent:8788/twins/bedrock/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
BODY = b'{"messages":[{"role":"user","content":[{"text":"hi"}]}]}'


def signed(url: str = URL, body: bytes = BODY, *, region: str = "us-east-1", service: str = "bedrock",
           key: str = KEY, secret: str = SECRET, token: str | None = None) -> AWSRequest:
    request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(key, secret, token), service, region).add_auth(request)
    return request


def signed_at(request: AWSRequest) -> float:
    """When botocore signed it (its x-amz-date): the verifier's clock is set from it."""
    return datetime.datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.UTC).timestamp()


def check(request: AWSRequest, *, region: str | None = "us-east-1", late: float = 0, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> Any:
    path = request.url.split("8788", 1)[1]
    raw = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    raw.append((b"host", b"mini-agent:8788"))
    for name, value in (headers or {}).items():  # replaced, or dropped when the value is empty
        raw = [h for h in raw if h[0] != name.encode()] + ([(name.encode(), value.encode())] if value else [])
    return verify("POST", path, "", raw, request.body if body is None else body, SECRETS,
                  Scope("bedrock", region, signed_at(request) + late))


def refused(request: AWSRequest, **kw: Any) -> SignatureError:
    with pytest.raises(SignatureError) as info:
        check(request, **kw)
    return info.value


def test_what_botocore_signs_verifies() -> None:
    result = check(signed())
    assert (result.access_key, result.region, result.service) == (KEY, "us-east-1", "bedrock")
    assert "host" in result.signed_headers
    assert "x-amz-date" in result.signed_headers


def test_any_valid_region_when_the_twin_names_none() -> None:
    assert check(signed(region="eu-central-1"), region=None).region == "eu-central-1"


def test_the_path_is_signed_doubly_encoded() -> None:
    # botocore signs the model id's %3A as %253A; a path encoded only once would not verify
    assert canonical_uri("/model/a-v1%3A0/converse") == "/model/a-v1%253A0/converse"
    assert canonical_uri("/a/./b/../c//d/") == "/a/c/d/"
    assert canonical_uri("") == "/"


def test_a_changed_body_is_refused_with_the_canonical_request() -> None:
    request = signed()
    error = refused(request, body=BODY.replace(b"hi", b"ho"))
    assert (error.status, error.kind) == (403, "InvalidSignatureException")
    assert error.message.startswith("The request signature we calculated does not match")
    assert "POST\n/twins/bedrock/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse\n" in error.message
    stamp = request.headers["X-Amz-Date"]
    assert f"AWS4-HMAC-SHA256\n{stamp}\n{stamp[:8]}/us-east-1/bedrock/aws4_request\n" in error.message


def test_a_wrong_secret_is_refused() -> None:
    assert refused(signed(secret="not-the-secret")).kind == "InvalidSignatureException"


def test_a_changed_signed_header_is_refused() -> None:
    assert refused(signed(), headers={"content-type": "text/plain"}).kind == "InvalidSignatureException"


def test_an_unknown_key_or_a_session_token_is_an_unrecognized_client() -> None:
    for request in (signed(key="AKIAUNKNOWN000000000"), signed(token="FwoGZXIvYXdzEBQaDFAKE")):
        error = refused(request)
        assert (error.status, error.kind) == (403, "UnrecognizedClientException")
        assert error.message == "The security token included in the request is invalid."


def test_a_missing_authorization_is_a_missing_token() -> None:
    error = refused(signed(), headers={"authorization": ""})
    assert (error.status, error.kind, error.message) == (403, "MissingAuthenticationTokenException",
                                                         "Missing Authentication Token")


def test_a_bearer_header_is_an_incomplete_signature() -> None:
    error = refused(signed(), headers={"authorization": "Bearer abc"})
    assert (error.status, error.kind) == (400, "IncompleteSignatureException")
    assert error.message.startswith("Authorization header requires 'Credential' parameter.")
    assert error.message.endswith("Authorization=Bearer abc")


def test_a_missing_date_is_an_incomplete_signature() -> None:
    error = refused(signed(), headers={"x-amz-date": ""})
    assert error.kind == "IncompleteSignatureException"
    assert "requires existence of either a 'X-Amz-Date' or a 'Date' header" in error.message


def test_a_pair_without_equal_sign_is_an_incomplete_signature() -> None:
    request = signed()
    request.headers.replace_header("Authorization", request.headers["Authorization"].replace("Credential=", "Cred "))
    assert "not a valid key=value pair (missing equal-sign)" in refused(request).message


@pytest.mark.parametrize(("region", "service", "message"), [
    ("us-west-2", "bedrock", "Credential should be scoped to a valid region. "),
    ("moon-base", "bedrock", "Credential should be scoped to a valid region. "),
    ("us-east-1", "s3", "Credential should be scoped to correct service: 'bedrock'. "),
])
def test_a_wrong_scope_is_refused(region: str, service: str, message: str) -> None:
    error = refused(signed(region=region, service=service), region="us-east-1")
    assert (error.status, error.kind, error.message) == (403, "InvalidSignatureException", message)


def test_a_scope_date_other_than_the_request_date_is_refused() -> None:
    request = signed()
    tomorrow = datetime.datetime.fromtimestamp(signed_at(request) + 86400, datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    error = refused(request, headers={"x-amz-date": tomorrow}, late=86400)
    assert error.message.startswith("Date in Credential scope does not match YYYYMMDD")


def test_a_clock_more_than_five_minutes_off_is_refused() -> None:
    request = signed()
    stamp = request.headers["X-Amz-Date"]

    def at(offset: float) -> str:
        return datetime.datetime.fromtimestamp(signed_at(request) + offset, datetime.UTC).strftime("%Y%m%dT%H%M%SZ")

    late = refused(request, late=301)
    assert late.message == f"Signature expired: {stamp} is now earlier than {at(1)} ({at(301)} - 5 min.)"
    early = refused(request, late=-301)
    assert early.message == f"Signature not yet current: {stamp} is still later than {at(-1)} ({at(-301)} + 5 min.)"
    assert check(request, late=299).access_key == KEY
    assert check(request, late=-299).access_key == KEY
