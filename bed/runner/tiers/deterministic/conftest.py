"""Hermetic fixtures: a resolver that fails the test on any lookup."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every DNS lookup fails the test: the list of attempted hosts must stay empty."""
    lookups: list[str] = []

    def refuse(host: object, *args: object, **kwargs: object) -> object:
        lookups.append(str(host))
        raise OSError(f"DNS lookup attempted for {host!r} in a hermetic test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield lookups
    assert lookups == [], f"DNS lookups were attempted: {lookups}"
