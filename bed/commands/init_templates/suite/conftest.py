"""Fixtures of this readiness suite. bed runs it inside its runner container and sets what they read:

    BED_TIER            the tier being run: deterministic, nd or release
    BED_GROUP           the model group the gateway routes (codex-agent-1 unless you set another)
    BED_ROUTER_YAML     the router config this run's proxy got (deterministic tier)
    BED_PROXY_URL       the LiteLLM proxy on bed's network (nd tier)
    LITELLM_MASTER_KEY  the run's master key (nd tier; a secret: bed masks it in every report)

Outside bed (a plain `pytest` of the whole repository) there is no gateway to test, so these
tests skip and say how to run them; inside bed a missing variable is a failure, never a skip.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from openai import OpenAI

RUN_IT = "run it with bed: `make project-ready-core-only-with-docker` (or `bed run`)"


def pytest_configure(config: pytest.Config) -> None:
    # bed's own plugin registers these markers in the runner; registering them here as well
    # lets a plain `pytest --strict-markers` of the whole repository collect this folder.
    config.addinivalue_line("markers", "deterministic: a hermetic readiness test (bed's deterministic tier)")
    config.addinivalue_line("markers", "nd: a readiness test through the gateway (bed's ND tier)")


def _need(name: str) -> str:
    value = os.environ.get(name, "")
    if value:
        return value
    tier = os.environ.get("BED_TIER")
    if tier is None:
        pytest.skip(f"{name} is unset: this is a readiness test; {RUN_IT}")
    pytest.fail(f"{name} is unset in bed's runner (tier {tier})", pytrace=False)


@pytest.fixture(scope="session")
def group() -> str:
    return os.environ.get("BED_GROUP", "codex-agent-1")


@pytest.fixture(scope="session")
def router_config() -> dict[str, Any]:
    import yaml  # the runner has PyYAML (LiteLLM needs it); imported late so a plain pytest can skip

    loaded = yaml.safe_load(_need("BED_ROUTER_YAML"))
    assert isinstance(loaded, dict), "the router config is not a YAML mapping"
    return loaded


@pytest.fixture(scope="session")
def gateway() -> OpenAI:
    """The official OpenAI client, pointed at the gateway with the run's master key."""
    from openai import OpenAI  # the runner has it; imported late so a plain pytest can skip

    # No client retries: bed re-runs a failed test once itself and reports it as a flake.
    return OpenAI(base_url=_need("BED_PROXY_URL").rstrip("/") + "/v1", api_key=_need("LITELLM_MASTER_KEY"),
                  max_retries=0, timeout=30)
