"""runner -> shim directly, with the official openai client: the upstream itself is sound."""

from __future__ import annotations

import os

import http_clients
import pytest
from openai import OpenAI

GROUP = os.environ.get("BED_GROUP", "codex-agent-1")
pytestmark = [pytest.mark.needs_shim, pytest.mark.needs_bed_shim, pytest.mark.shard_b]


@pytest.fixture(scope="module")
def shim(shim_base: str) -> OpenAI:
    return http_clients.openai_client(api_key="sk-unused", base_url=shim_base, max_retries=0, timeout=10)


def test_shim_plain(shim: OpenAI) -> None:
    reply = shim.chat.completions.create(model=GROUP, messages=[{"role": "user", "content": "direct"}])
    assert (reply.choices[0].message.content or "").startswith("[mini-agent] direct")


def test_shim_stream_ends_with_usage(shim: OpenAI) -> None:
    stream = shim.chat.completions.create(model=GROUP, messages=[{"role": "user", "content": "direct"}],
                                          stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0
    assert chunks[-2].choices[0].finish_reason == "stop"


def test_shim_lists_the_group(shim: OpenAI) -> None:
    assert GROUP in [m.id for m in shim.models.list().data]
