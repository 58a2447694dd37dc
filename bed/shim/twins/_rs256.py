"""RS256 JSON Web Tokens, verified with Python integers: what Google's token endpoint does with the
JWT-bearer assertion a service account signs (RFC 7523).

``public_key`` reads an RSA key's modulus and exponent out of a PEM private key (PKCS#8, as a
service account JSON holds it, or PKCS#1) with a small DER reader; ``verify`` checks a token's
RSASSA-PKCS1-v1_5 signature over SHA-256 (RFC 8017, 8.2.2: ``s^e mod n`` must equal
``00 01 FF..FF 00 || DigestInfo(SHA-256) || SHA-256(header.payload)``) and returns its header and
claims. Checking the claims (issuer, audience, times, scope) is the caller's part.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
from typing import Any

# DER of DigestInfo { AlgorithmIdentifier { id-sha256, NULL }, OCTET STRING (32 bytes) }, before the hash.
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
RSA_ENCRYPTION = bytes.fromhex("2a864886f70d010101")  # the OID 1.2.840.113549.1.1.1


class TokenError(ValueError):
    """A token that is not a well-formed RS256 JWT, or whose signature does not verify."""


@dataclasses.dataclass(frozen=True, slots=True)
class PublicKey:
    n: int
    e: int

    @property
    def size(self) -> int:
        return (self.n.bit_length() + 7) // 8


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("not base64url") from None


def public_key(pem: str) -> PublicKey:
    """The public half of a PEM RSA private key (``BEGIN PRIVATE KEY`` or ``BEGIN RSA PRIVATE KEY``)."""
    body = "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))
    der = base64.b64decode(body)
    outer = _sequence(der)
    if len(outer) >= 3 and outer[1][0] == 0x30 and RSA_ENCRYPTION in outer[1][1]:  # PKCS#8: unwrap the RSA key
        if outer[2][0] != 0x04:
            raise ValueError("PKCS#8 key without an octet string")
        outer = _sequence(outer[2][1])
    if len(outer) < 3 or outer[1][0] != 0x02 or outer[2][0] != 0x02:
        raise ValueError("not an RSA private key")
    return PublicKey(int.from_bytes(outer[1][1], "big"), int.from_bytes(outer[2][1], "big"))


def verify(token: str, key: PublicKey) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (header, claims) of an RS256 JWT whose signature ``key`` verifies; ``TokenError`` otherwise."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("a JWT has three dot-separated parts")
    header, claims = (_json(unb64url(p)) for p in parts[:2])
    if header.get("alg") != "RS256":
        raise TokenError(f"alg {header.get('alg')!r} is not RS256")
    signature = unb64url(parts[2])
    if len(signature) != key.size:
        raise TokenError("the signature is not the key's size")
    s = int.from_bytes(signature, "big")
    if s >= key.n:
        raise TokenError("the signature is out of range")
    encoded = pow(s, key.e, key.n).to_bytes(key.size, "big")
    digest = SHA256_DIGEST_INFO + hashlib.sha256(f"{parts[0]}.{parts[1]}".encode()).digest()
    expected = b"\x00\x01" + b"\xff" * (key.size - len(digest) - 3) + b"\x00" + digest
    if not hmac.compare_digest(encoded, expected):
        raise TokenError("the signature does not verify")
    return header, claims


def _json(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        raise TokenError("a JWT part is not JSON") from None
    if not isinstance(value, dict):
        raise TokenError("a JWT part is not a JSON object")
    return value


def _sequence(der: bytes) -> list[tuple[int, bytes]]:
    """The (tag, content) elements of the DER SEQUENCE ``der`` is."""
    tag, content, _ = _element(der, 0)
    if tag != 0x30:
        raise ValueError("not a DER sequence")
    items, at = [], 0
    while at < len(content):
        tag, value, at = _element(content, at)
        items.append((tag, value))
    return items


def _element(der: bytes, at: int) -> tuple[int, bytes, int]:
    """One DER element at ``at``: its tag, its content and where the next one starts."""
    if at + 2 > len(der):
        raise ValueError("truncated DER")
    tag, length, at = der[at], der[at + 1], at + 2
    if length & 0x80:  # long form: the low bits say how many length bytes follow
        count = length & 0x7F
        length, at = int.from_bytes(der[at:at + count], "big"), at + count
    if at + length > len(der):
        raise ValueError("truncated DER")
    return tag, der[at:at + length], at + length
