"""compose/bed.yaml gives the proxy what bed's own bring-up gives it: the provider modules its
router config names, next to that config, and the base they read."""

from __future__ import annotations

from pathlib import Path

import yaml

from bed.config.bases import NETWORK_BASE
from bed.model.containers import ROUTER_PATH
from bed.stack.bringup import providers
from bed.stack.compose import render, write_providers


def test_every_provider_module_is_mounted_next_to_the_router_config() -> None:
    proxy = yaml.safe_load(render())["services"]["litellm"]
    folder = ROUTER_PATH.rsplit("/", 1)[0]
    assert providers(), "bed ships at least the codex-agent provider"
    for name in providers():
        assert f"../.artifacts/{name}:{folder}/{name}:ro" in proxy["volumes"]
    assert proxy["environment"]["CODEX_AGENT_API_BASE"] == NETWORK_BASE


def test_prepare_writes_the_mounted_modules(tmp_path: Path) -> None:
    written = write_providers(tmp_path, lambda text: text)
    assert sorted(p.name for p in written) == sorted(providers())
    for path in written:
        assert path.read_bytes() == providers()[path.name]
