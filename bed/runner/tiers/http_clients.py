"""The smokes' HTTP clients, all on one TLS context per session.

httpx builds a new SSLContext for every client, loading the whole CA bundle (14 ms of CPU),
``httpx.get`` and ``httpx.post`` build a client per call, and the official SDKs build one per
client: the ND tier built 33 of them, about 40% of its own CPU, although every URL it calls is
plain http on the bed network. Here the context is built once, the way httpx builds its default
(``httpx.create_ssl_context()``: certifi's bundle, or SSL_CERT_FILE / SSL_CERT_DIR), so TLS
verification is exactly what it was. Connections are not shared: each client has its own pool,
so no test can meet another's stale keep-alive connection.
"""

from __future__ import annotations

import functools
import ssl
from contextlib import AbstractContextManager
from typing import Any

import anthropic
import httpx
import openai


@functools.cache
def tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, verify=tls(), **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, verify=tls(), **kwargs)


def stream(method: str, url: str, **kwargs: Any) -> AbstractContextManager[httpx.Response]:
    return httpx.stream(method, url, verify=tls(), **kwargs)


def openai_client(**kwargs: Any) -> openai.OpenAI:
    """``openai.OpenAI(**kwargs)`` with the SDK's own default HTTP client on the shared context."""
    return openai.OpenAI(http_client=openai.DefaultHttpxClient(verify=tls()), **kwargs)


def anthropic_client(**kwargs: Any) -> anthropic.Anthropic:
    """``anthropic.Anthropic(**kwargs)`` with the SDK's own default HTTP client on the shared context."""
    return anthropic.Anthropic(http_client=anthropic.DefaultHttpxClient(verify=tls()), **kwargs)

