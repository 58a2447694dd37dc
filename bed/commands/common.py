"""What several sub-commands share: the Config from their flags, and the engine."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping

from ..config.settings import Config
from ..engine.docker import connect
from ..engine.protocol import Engine
from ..errors import ConfigError


def config(args: argparse.Namespace, environ: Mapping[str, str], *, keep: bool = False) -> Config:
    tiers = None
    raw_tier = getattr(args, "tier", None)
    if raw_tier is not None:
        tiers = tuple(t.strip() for t in raw_tier.split(",") if t.strip())
    router = getattr(args, "router_config", None)
    if router is not None and not router.strip():
        raise ConfigError("--router-config is empty.", hint="give the path of your LiteLLM config, or leave it out.")
    litellm = getattr(args, "litellm", None)
    config = Config.from_env(environ, gate=getattr(args, "gate", "core"), tiers=tiers,
                             strict=True if getattr(args, "strict", False) else None, router_config=router, keep=keep,
                             shard=getattr(args, "shard", None), suite=getattr(args, "suite", None),
                             verbose=getattr(args, "verbose", False), reuse=getattr(args, "reuse", False),
                             litellm=litellm if isinstance(litellm, str) else None)  # compare's is a list: its own
    return dataclasses.replace(config, pytest_args=tuple(getattr(args, "pytest_args", ())))


def engine(environ: Mapping[str, str]) -> Engine:
    return connect(environ)
