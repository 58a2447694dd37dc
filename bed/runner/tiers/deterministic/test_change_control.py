"""The router mapping this run uses names no group or provider without a readiness check."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import readiness_coverage as coverage
import yaml

TIERS = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def model_list() -> list[dict[str, object]]:
    config = yaml.safe_load(os.environ["BED_ROUTER_YAML"])
    assert isinstance(config["model_list"], list)
    return config["model_list"]


def test_every_group_has_a_readiness_check(model_list: list[dict[str, object]]) -> None:
    # A live deployment is covered by its release smoke, which bed derives from the config itself,
    # and its twin-pointed copy (bed-twin/<group>/<i>) by its provider-twin smoke in the ND tier.
    live = {smoke["group"] for smoke in json.loads(os.environ.get("BED_RELEASE_SMOKES") or "[]")}
    twins = {smoke["twin_group"] for smoke in json.loads(os.environ.get("BED_TWIN_SMOKES") or "[]")}
    covered = {os.environ.get("BED_GROUP", "codex-agent-1"), *coverage.GROUPS, *live, *twins}
    missing = sorted({str(e["model_name"]) for e in model_list} - covered)
    assert not missing, f"router groups without a readiness check: {missing}; add one and list it in coverage.py"


def test_every_provider_has_a_readiness_check(model_list: list[dict[str, object]]) -> None:
    providers = {str(dict(e.get("litellm_params") or {}).get("model", "openai/")).split("/")[0]  # type: ignore[call-overload]
                 for e in model_list}
    missing = sorted(providers - set(coverage.PROVIDERS))
    assert not missing, f"router providers without a readiness check: {missing}; add one and list it in coverage.py"


def test_named_checks_exist() -> None:
    for files in [*coverage.PROVIDERS.values(), *coverage.GROUPS.values()]:
        for file in files:
            assert (TIERS / file).is_file(), file
