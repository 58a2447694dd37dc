"""The smokes' HTTP clients (bed/runner/tiers/http_clients.py) build one TLS context per session,
however many clients and calls a session makes, and it verifies as httpx's default does."""

from __future__ import annotations

import importlib.util
import ssl
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

import bed.runner

TIERS = Path(bed.runner.__file__).parent / "tiers"


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, list[Any]]:
    """The module, fresh, and every SSL context created while the test runs."""
    made: list[Any] = []
    real = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    spec = importlib.util.spec_from_file_location("http_clients", TIERS / "http_clients.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "http_clients", module)
    spec.loader.exec_module(module)
    return module, made


def test_every_client_of_a_session_shares_one_tls_context(clients: tuple[ModuleType, list[Any]]) -> None:
    module, made = clients
    for _ in range(3):
        module.openai_client(api_key="sk-test", base_url="http://proxy.invalid/v1", max_retries=0)
        module.anthropic_client(auth_token="sk-test", base_url="http://proxy.invalid", max_retries=0)
    assert len(made) == 1
    assert made[0] is module.tls()


def test_the_shared_context_verifies_as_httpx_does(clients: tuple[ModuleType, list[Any]]) -> None:
    module, _ = clients
    default = httpx.create_ssl_context()
    assert module.tls().verify_mode == default.verify_mode == ssl.CERT_REQUIRED
    assert module.tls().check_hostname is default.check_hostname is True
    assert module.tls().cert_store_stats() == default.cert_store_stats()


def test_raw_calls_use_the_shared_context(clients: tuple[ModuleType, list[Any]],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    module, made = clients
    seen: list[object] = []

    def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
        seen.append(kwargs.get("verify"))
        return httpx.Response(200, request=httpx.Request(method, url))

    monkeypatch.setattr(httpx, "get", lambda url, **kw: request("GET", url, **kw))
    monkeypatch.setattr(httpx, "post", lambda url, **kw: request("POST", url, **kw))
    module.get("http://shim.invalid/_bed/journal", timeout=1)
    module.post("http://shim.invalid/_bed/faults", json={}, timeout=1)
    assert seen == [module.tls(), module.tls()]
    assert len(made) == 1
