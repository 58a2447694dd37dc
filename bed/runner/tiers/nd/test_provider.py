"""The seed's ``codex-agent`` provider, loaded by the PROXY itself (custom_provider_map in this
run's router config, the module next to it): ``codex-agent/<model>`` reaches the one base."""

from __future__ import annotations

import json
import os
import urllib.request
import uuid

import http_clients
import pytest

GROUP = os.environ.get("BED_GROUP", "codex-agent-1")
PROVIDER_GROUP = f"{GROUP}-provider"
pytestmark = [pytest.mark.needs_proxy, pytest.mark.needs_bed_shim]


def _journal(shim_base: str, marker: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(shim_base.removesuffix("/v1") + "/_bed/journal", timeout=10) as answer:  # noqa: S310
        entries = json.loads(answer.read())["entries"]
    return [e for e in entries if marker in json.dumps(e["body"])]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_the_proxy_routes_codex_agent_through_its_provider(proxy_url: str, master_key: str, shim_base: str,
                                                           stream: bool) -> None:
    client = http_clients.openai_client(api_key=master_key, base_url=proxy_url + "/v1", max_retries=0, timeout=60)
    marker = f"provider-{uuid.uuid4().hex[:12]}"
    ask = {"model": PROVIDER_GROUP, "messages": [{"role": "user", "content": f"say {marker}"}]}
    if stream:
        text = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(**ask, stream=True)
                       if c.choices)
    else:
        text = client.chat.completions.create(**ask).choices[0].message.content or ""
    assert marker in text
    (sent,) = _journal(shim_base, marker)
    assert sent["headers"]["x-bed-provider"] == "codex-agent"  # the provider module made this request
    assert sent["body"]["model"] == GROUP  # codex-agent/<model>: the model after the provider's name
    assert str(sent["path"]).endswith("/chat/completions")
