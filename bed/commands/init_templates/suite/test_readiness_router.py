"""Deterministic: the router config this run's gateway got maps our model group.

bed runs this tier hermetically (no network), while the gateway boots. The config is the one
the proxy gets, from bed: yours (`router_config` in [tool.bed]) or the one bed generates.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest


@pytest.mark.deterministic
def test_router_maps_the_group(router_config: dict[str, Any], group: str) -> None:
    deployments = [e for e in router_config.get("model_list") or [] if e.get("model_name") == group]
    assert deployments, f"the router config maps nothing to the model group {group!r}"
    for entry in deployments:
        params = entry.get("litellm_params") or {}
        assert params.get("model"), f"a deployment of {group!r} has no litellm_params.model"
        # The classic mistake: the group's name where its upstream's host belongs, which makes
        # the gateway look the group up in DNS instead of routing it.
        host = urlsplit(str(params.get("api_base") or "")).hostname
        assert host != group, f"{group!r} is routed to a host named {host!r}; api_base must name its upstream"
