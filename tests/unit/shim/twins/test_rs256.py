"""The RS256 verifier against tokens google-auth's own signer makes with the fake service-account key."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import crypt, jwt

from bed.shim.twins._fake_google_key import PRIVATE_KEY, PRIVATE_KEY_ID
from bed.shim.twins._rs256 import TokenError, b64url, public_key, unb64url, verify

CLAIMS = {"iss": "a@b", "aud": "http://shim/twins/vertex/token", "iat": 1, "exp": 2, "scope": "s"}


def signed(claims: dict[str, object] = CLAIMS) -> str:
    return jwt.encode(crypt.RSASigner.from_string(PRIVATE_KEY, PRIVATE_KEY_ID), claims).decode()


def test_a_token_signed_with_the_key_verifies() -> None:
    header, claims = verify(signed(), public_key(PRIVATE_KEY))
    assert header == {"alg": "RS256", "typ": "JWT", "kid": PRIVATE_KEY_ID}
    assert claims == CLAIMS


def test_the_public_key_matches_cryptography_for_pkcs8_and_pkcs1() -> None:
    private = serialization.load_pem_private_key(PRIVATE_KEY.encode(), None)
    numbers = private.public_key().public_numbers()  # type: ignore[union-attr]
    key = public_key(PRIVATE_KEY)
    assert (key.n, key.e, key.size) == (numbers.n, numbers.e, 256)
    pkcs1 = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()).decode()
    assert pkcs1.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert public_key(pkcs1) == key


@pytest.mark.parametrize("tamper", ["claims", "signature", "alg", "parts"])
def test_a_tampered_token_is_refused(tamper: str) -> None:
    head, body, sig = signed().split(".")
    if tamper == "claims":
        body = b64url(unb64url(body).replace(b'"a@b"', b'"x@b"'))
    elif tamper == "signature":
        raw = bytearray(unb64url(sig))
        raw[-1] ^= 1
        sig = b64url(bytes(raw))
    elif tamper == "alg":
        head = b64url(b'{"alg":"none","typ":"JWT"}')
    token = f"{head}.{body}" if tamper == "parts" else f"{head}.{body}.{sig}"
    with pytest.raises(TokenError):
        verify(token, public_key(PRIVATE_KEY))


def test_another_key_does_not_verify() -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    # A random key's modulus is below the signature about a quarter of the time: refused as out of range then.
    with pytest.raises(TokenError, match=r"does not verify|out of range"):
        verify(signed(), public_key(other))
