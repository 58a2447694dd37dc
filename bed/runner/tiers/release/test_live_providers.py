"""Release smokes: every live deployment of the router config under test, called THROUGH THE PROXY.

bed hands the curated set in BED_RELEASE_SMOKES (bed/policy/release.py decides it): one smoke
per live model group of this run's config, or bed's default set (openai, anthropic, gemini)
when the config names none. Each calls its group through the proxy with the official client of
every surface its deployment serves. Opt-in only: without LIVE_PROVIDERS=1 or the deployment's
key it is a loud SKIP naming what is missing, and a failure when READINESS_EXPECT names its
provider. No key reaches this runner: only the proxy holds them.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

SMOKES: list[dict[str, Any]] = json.loads(os.environ.get("BED_RELEASE_SMOKES") or "[]")
EXPECTED = {x for x in os.environ.get("BED_EXPECT", "").split(",") if x}
PROMPT = "Reply with the single word: ready."


def _params() -> list[Any]:
    return [pytest.param(smoke, surface, id=f"{smoke['group']}-{surface}", marks=pytest.mark.live(smoke["provider"]))
            for smoke in SMOKES for surface in smoke["surfaces"]]


def _gate(smoke: dict[str, Any]) -> None:
    if not smoke["skip"]:
        return
    if smoke["provider"] in EXPECTED or "release" in EXPECTED:
        pytest.fail(f"{smoke['skip']}, and READINESS_EXPECT requires {smoke['provider']}", pytrace=False)
    pytest.skip(smoke["skip"])


def _fail(smoke: dict[str, Any], error: Exception) -> None:
    """A failure names the group, the provider and the HTTP status (bed adds the proxy's log tail)."""
    status = getattr(error, "status_code", None) or getattr(getattr(error, "response", None), "status_code", "?")
    pytest.fail(f"{smoke['group']} ({smoke['provider']}, {smoke['model']}) through the proxy: HTTP {status}: "
                f"{str(error)[:300]}", pytrace=False)


@pytest.mark.parametrize(("smoke", "surface"), _params())
def test_live_deployment_through_the_proxy(smoke: dict[str, Any], surface: str) -> None:
    _gate(smoke)
    proxy, key = os.environ["BED_PROXY_URL"], os.environ["LITELLM_MASTER_KEY"]
    try:
        if surface == "messages":
            from anthropic import Anthropic

            client = Anthropic(auth_token=key, base_url=proxy, max_retries=1, timeout=60)
            reply = client.messages.create(model=smoke["group"], max_tokens=16,
                                           messages=[{"role": "user", "content": PROMPT}])
            text = "".join(block.text for block in reply.content if block.type == "text")
        else:
            from openai import OpenAI

            openai_client = OpenAI(api_key=key, base_url=proxy + "/v1", max_retries=1, timeout=60)
            answer = openai_client.chat.completions.create(model=smoke["group"], max_tokens=16,
                                                           messages=[{"role": "user", "content": PROMPT}])
            text = answer.choices[0].message.content or ""
    except Exception as error:
        _fail(smoke, error)
    assert text.strip(), f"{smoke['group']} ({smoke['provider']}) answered with no text"

