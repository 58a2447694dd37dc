"""Your agent instead of the shim: ``agent = { image = "...", port = 8788, health = "/health" }``
in ``[tool.bed]``, or ``BED_AGENT=registry/agent:tag`` (port 8788, health /health).

The agent runs where the shim would (alias ``mini-agent`` on the bed network), so the one base
and the router config point at it. Smokes that need the shim's faults, scripts or journal skip
loudly, saying they need the bed shim; everything else runs against the real agent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from .bases import SHIM_PORT

KEYS = ("image", "port", "health")


@dataclasses.dataclass(frozen=True)
class Agent:
    image: str
    port: int = SHIM_PORT
    health: str = "/health"

    @classmethod
    def parse(cls, raw: Any, where: str) -> Agent:
        if isinstance(raw, str):
            return cls(_image(raw, where))
        if not isinstance(raw, Mapping) or "image" not in raw or set(raw) - set(KEYS):
            raise ConfigError(f"{where} must be an image reference or {{ image = ..., port = ..., health = ... }}.",
                              hint='write agent = { image = "registry/agent:tag", port = 8788, health = "/health" }.')
        port = raw.get("port", SHIM_PORT)
        health = raw.get("health", "/health")
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ConfigError(f"{where}.port={port!r} is not a port.", hint="give a number from 1 to 65535.")
        if not isinstance(health, str) or not health.startswith("/") or any(c.isspace() for c in health):
            raise ConfigError(f"{where}.health={health!r} is not a path.", hint='write it like "/health".')
        return cls(_image(raw["image"], where), port, health)


def _image(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip() or any(c.isspace() for c in raw.strip()):
        raise ConfigError(f"{where}: {raw!r} is not an image reference.",
                          hint="name it like registry.example.com/agent:1.2 (`docker images` lists what you have).")
    return raw.strip()
