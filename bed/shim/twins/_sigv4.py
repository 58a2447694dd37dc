"""AWS Signature Version 4, verified the way an AWS front end verifies it (header signing).

From the ``Authorization: AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request,
SignedHeaders=a;b;c, Signature=HEX`` header, the request and a table of known secret keys, the
verifier rebuilds

    the canonical request   method, the URI-encoded path (the path as sent, encoded once more:
                            every AWS service but S3 signs a doubly encoded path, so a model id's
                            ``%3A`` is signed as ``%253A``), the sorted query, each signed header
                            as ``name:trimmed value``, the signed header names, the body's SHA-256
    the string to sign      the algorithm, ``x-amz-date``, the credential scope, the canonical
                            request's SHA-256
    the signing key         HMAC-SHA256 chained over the date, region, service and
                            ``aws4_request``, starting from ``"AWS4" + secret``

and compares signatures in constant time. A refusal is a ``SignatureError`` whose ``kind`` and
message are AWS's own: IncompleteSignatureException (400) for a malformed header,
MissingAuthenticationTokenException (403) when there is none, UnrecognizedClientException (403)
for an unknown key or a session token the key does not have, InvalidSignatureException (403) for
a wrong scope, a clock more than five minutes off, or a signature that does not match (with the
canonical request and string to sign the front end expected, as AWS shows them, so a refused
request says what was signed wrong).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
SKEW_S = 300  # AWS refuses a request whose x-amz-date is more than 5 minutes from its clock
AMZ_DATE = "%Y%m%dT%H%M%SZ"
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")  # us-east-1, eu-central-2, us-gov-west-1, ...
MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.")
UNRECOGNIZED = "The security token included in the request is invalid."


class SignatureError(Exception):
    """A refused signature: HTTP status, AWS's error type (``x-amzn-ErrorType``) and message."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


@dataclasses.dataclass(frozen=True, slots=True)
class Signed:
    """What a verified signature vouches for."""

    access_key: str
    region: str
    service: str
    signed_headers: tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Scope:
    """What the front end expects: its service, its region (None: any valid region) and its clock."""

    service: str
    region: str | None
    now: float


def verify(method: str, raw_path: str, query: str, headers: Sequence[tuple[bytes, bytes]], body: bytes,
           secrets: Mapping[str, str], scope: Scope) -> Signed:
    """Verify the request's SigV4 header signature, or raise ``SignatureError`` as AWS refuses it.

    ``raw_path`` is the path exactly as sent (percent-encodings kept), ``query`` the raw query string.
    """
    values = _headers(headers)
    auth = (values.get("authorization") or [""])[0]
    if not auth:
        raise SignatureError(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    fields = _fields(auth, "x-amz-date" in values or "date" in values)
    key, date, region, service, terminator = _credential(fields["Credential"])
    signed = tuple(fields["SignedHeaders"].split(";"))
    amz_date = (values.get("x-amz-date") or [""])[0]
    when = _when(amz_date)
    secret = secrets.get(key)
    if secret is None or "x-amz-security-token" in values:
        raise SignatureError(403, "UnrecognizedClientException", UNRECOGNIZED)
    _check_scope(terminator, date, region, service, amz_date, scope)
    _check_clock(when, amz_date, scope.now)
    if "host" not in signed:
        raise SignatureError(403, "InvalidSignatureException",
                             "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    canonical = canonical_request(method, raw_path, query, values, signed, hashlib.sha256(body).hexdigest())
    credential_scope = f"{date}/{region}/{service}/{TERMINATOR}"
    to_sign = string_to_sign(amz_date, credential_scope, canonical)
    expected = signature(secret, date, region, service, to_sign)
    if not hmac.compare_digest(expected, fields["Signature"]):
        raise SignatureError(403, "InvalidSignatureException",
                             f"{MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n"
                             f"The String-to-Sign should have been\n'{to_sign}'\n")
    return Signed(key, region, service, signed)


def canonical_request(method: str, raw_path: str, query: str, values: Mapping[str, list[str]],
                      signed: Sequence[str], payload_hash: str) -> str:
    lines = [f"{name}:{','.join(_trim(v) for v in values.get(name, []))}" for name in signed]
    return "\n".join([method.upper(), canonical_uri(raw_path), canonical_query(query), "\n".join(lines) + "\n",
                      ";".join(signed), payload_hash])


def canonical_uri(raw_path: str) -> str:
    """The path as sent, URI-encoded once more (``%3A`` -> ``%253A``), after RFC 3986's removal of
    ``.`` and ``..`` segments and (AWS's own rule) of empty ones."""
    kept: list[str] = []
    for segment in raw_path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    path = "/" + "/".join(kept)
    if raw_path.endswith("/") and kept:
        path += "/"
    return quote(path, safe="/~")


def canonical_query(query: str) -> str:
    pairs = []
    for item in filter(None, query.split("&")):
        name, _, value = item.partition("=")
        pairs.append((quote(unquote(name), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def string_to_sign(amz_date: str, credential_scope: str, canonical: str) -> str:
    return "\n".join([ALGORITHM, amz_date, credential_scope, hashlib.sha256(canonical.encode()).hexdigest()])


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, TERMINATOR):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signature(secret: str, date: str, region: str, service: str, to_sign: str) -> str:
    return hmac.new(signing_key(secret, date, region, service), to_sign.encode(), hashlib.sha256).hexdigest()


# --- the parts of verify -----------------------------------------------------------------------------


def _headers(headers: Sequence[tuple[bytes, bytes]]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for name, value in headers:
        values.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return values


def _fields(auth: str, dated: bool) -> dict[str, str]:
    """The Credential, SignedHeaders and Signature of an Authorization header, as AWS parses them."""
    scheme, _, rest = auth.partition(" ")
    fields: dict[str, str] = {}
    if scheme == ALGORITHM:
        for item in filter(None, (part.strip() for part in rest.split(","))):
            name, sep, value = item.partition("=")
            if not sep:
                raise SignatureError(400, "IncompleteSignatureException",
                                     f"'{item}' not a valid key=value pair (missing equal-sign) in Authorization "
                                     f"header: '{auth}'.")
            fields[name] = value
    missing = [f"Authorization header requires '{name}' parameter." for name in ("Credential", "Signature",
                                                                                  "SignedHeaders")
               if not fields.get(name)]
    if not dated:
        missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if missing:
        raise SignatureError(400, "IncompleteSignatureException", " ".join([*missing, f"Authorization={auth}"]))
    return fields


def _credential(credential: str) -> tuple[str, str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or not all(parts):
        raise SignatureError(400, "IncompleteSignatureException",
                             f"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/"
                             f"term, got '{credential}'")
    return parts[0], parts[1], parts[2], parts[3], parts[4]


def _when(amz_date: str) -> datetime.datetime:
    try:
        return datetime.datetime.strptime(amz_date, AMZ_DATE).replace(tzinfo=datetime.UTC)
    except ValueError:
        raise SignatureError(400, "IncompleteSignatureException",
                             f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See "
                             "http://en.wikipedia.org/wiki/ISO_8601") from None


def _check_scope(terminator: str, date: str, region: str, service: str, amz_date: str, scope: Scope) -> None:
    if terminator != TERMINATOR:
        raise SignatureError(403, "InvalidSignatureException",
                             f"Credential should be scoped with a valid terminator: '{TERMINATOR}', "
                             f"not '{terminator}'.")
    if date != amz_date[:8]:
        raise SignatureError(403, "InvalidSignatureException",
                             "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
                             f"HTTP: '{date}' != '{amz_date[:8]}', from '{amz_date}'.")
    if not REGION.match(region) or (scope.region is not None and region != scope.region):
        raise SignatureError(403, "InvalidSignatureException", "Credential should be scoped to a valid region. ")
    if service != scope.service:
        raise SignatureError(403, "InvalidSignatureException",
                             f"Credential should be scoped to correct service: '{scope.service}'. ")


def _check_clock(when: datetime.datetime, amz_date: str, now: float) -> None:
    clock = datetime.datetime.fromtimestamp(now, datetime.UTC)
    stamp = clock.strftime(AMZ_DATE)
    if when < clock - datetime.timedelta(seconds=SKEW_S):
        edge = (clock - datetime.timedelta(seconds=SKEW_S)).strftime(AMZ_DATE)
        raise SignatureError(403, "InvalidSignatureException",
                             f"Signature expired: {amz_date} is now earlier than {edge} ({stamp} - 5 min.)")
    if when > clock + datetime.timedelta(seconds=SKEW_S):
        edge = (clock + datetime.timedelta(seconds=SKEW_S)).strftime(AMZ_DATE)
        raise SignatureError(403, "InvalidSignatureException",
                             f"Signature not yet current: {amz_date} is still later than {edge} ({stamp} + 5 min.)")


def _trim(value: str) -> str:
    return " ".join(value.split())
