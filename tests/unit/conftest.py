"""Unit tests never reach the npm registry: an agent version the lock does not pin is looked up
there when images are planned, so every unit test gets a registry that refuses, unless it brings
its own fake (tests/unit/images/test_npm.py, the compare tests)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from bed.errors import ImageError
from bed.images import npm


class _NoRegistry:
    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def versions(self, package: str) -> Mapping[str, Mapping[str, Any]]:
        raise ImageError(f"a unit test asked the npm registry for {package}.",
                         hint="give it a fake registry, or use the versions package-lock.json pins.")


@pytest.fixture(autouse=True)
def _no_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(npm, "NpmRegistry", _NoRegistry)
