"""Shared fixtures of the readiness smokes; they run inside the bed runner container.

Everything comes from the environment bed sets on the runner (never from a host file):
    MINI_AGENT_API_BASE / CODEX_AGENT_API_BASE   the one resolved base (network form)
    BED_PROXY_URL, BED_SHIM_URL                  the services on the bed network
    LITELLM_MASTER_KEY                           the run's master key (a secret)
    BED_GROUP                                    the model group, codex-agent-1 by default
    BED_REQUIRED                                 services whose absence fails instead of skipping
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request

import pytest


def _require(name: str, url: str) -> str:
    """The service's URL when it answers; else a loud SKIP, or a failure when it is required."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - bed network URL
            if 200 <= response.status < 300:
                return url
            problem = f"HTTP {response.status}"
    except (urllib.error.URLError, OSError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    reason = f"DEPENDENCY DOWN: {name} at {url} does not answer ({problem})"
    if name in os.environ.get("BED_REQUIRED", "").split(","):
        pytest.fail(reason + " and it is required (STRICT or READINESS_EXPECT)", pytrace=False)
    pytest.skip(reason)


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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``BED_SHARD=I/N``: keep only this shard's tests (split by BED_DURATIONS, a JSON map)."""
    spec = os.environ.get("BED_SHARD")
    if not spec:
        return
    import json

    import bed_shards

    index, total = bed_shards.parse(spec)
    durations = json.loads(os.environ.get("BED_DURATIONS") or "{}")
    mine = set(bed_shards.partition([i.nodeid for i in items], total, durations)[index - 1])
    keep = [i for i in items if i.nodeid in mine]
    dropped = [i for i in items if i.nodeid not in mine]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    """``BED_WAIT_FOR``: bed started this runner while the services boot; after collection
    (imports done), wait for each URL, within BED_WAIT_BUDGET seconds, before any test runs.
    A service that never answers is left to the fixtures (a loud SKIP, or a failure)."""
    import time

    urls = [u for u in os.environ.get("BED_WAIT_FOR", "").split(",") if u]
    deadline = time.monotonic() + float(os.environ.get("BED_WAIT_BUDGET", "120"))
    for url in urls:
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - bed network URL
                    if 200 <= response.status < 300:
                        break
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
