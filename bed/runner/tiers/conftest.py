"""Shared fixtures of the readiness smokes; they run inside the bed runner container.

Everything comes from the environment bed sets on the runner (never from a host file):
    MINI_AGENT_API_BASE / CODEX_AGENT_API_BASE   the one resolved base (network form)
    BED_PROXY_URL                                the proxy on the bed network
    LITELLM_MASTER_KEY                           the run's master key (a secret)
    BED_GROUP                                    the model group, codex-agent-1 by default

Selection (shards, re-runs of exact node ids) and the wait for the services after collection
are done by bed's own pytest plugin, bed_records.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request

import pytest


def _require(name: str, url: str) -> str:
    """The service's URL when it answers; else a failure.

    bed waited for the service from the bed network before this test ran, and it watches the
    service while the tier runs: a service that went down stops this runner and bed reports
    that. So a service that does not answer here is one that cannot be reached, which is a
    failure, never a skip.
    """
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - bed network URL
            if 200 <= response.status < 300:
                return url
            problem = f"HTTP {response.status}"
    except (urllib.error.URLError, OSError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    pytest.fail(f"UNREACHABLE: {name} at {url} does not answer from the runner ({problem})", pytrace=False)


@pytest.fixture(scope="session")
def shim_base() -> str:
    base = os.environ["MINI_AGENT_API_BASE"]
    _require("shim", base.removesuffix("/v1") + "/health")
    return base


@pytest.fixture(scope="session")
def proxy_url() -> str:
    url = os.environ["BED_PROXY_URL"]
    _require("proxy", url + "/health/liveliness")
    return url


@pytest.fixture(scope="session")
def master_key() -> str:
    return os.environ["LITELLM_MASTER_KEY"]


@pytest.fixture(autouse=True)
def _bed_shim_only(request: pytest.FixtureRequest) -> None:
    """Your agent stands where the shim does (agent = {...} in [tool.bed]): a smoke that needs the
    shim's faults, scripts or journal cannot run against it, and says so loudly."""
    agent = os.environ.get("BED_AGENT_IMAGE")
    if agent and request.node.get_closest_marker("needs_bed_shim"):
        pytest.skip(f"needs the bed shim (its faults, scripts or journal); the agent under test is {agent}")
