"""``codex-agent/...`` model strings route to the one resolved base, with no DNS at all.

Both HTTP paths are patched (``litellm.client_session`` for sync, ``aclient_session`` for
async), and the resolver fails the test on any lookup.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hermetic import openai_answer

BASE = os.environ.get("CODEX_AGENT_API_BASE", "http://mini-agent:8788/v1")


@pytest.fixture
def patched(no_dns: list[str]) -> Iterator[list[httpx.Request]]:
    import codex_agent
    import litellm

    seen: list[httpx.Request] = []
    codex_agent.register()
    litellm.client_session = httpx.Client(transport=httpx.MockTransport(openai_answer(seen)))
    litellm.aclient_session = httpx.AsyncClient(transport=httpx.MockTransport(openai_answer(seen)))
    yield seen
    litellm.client_session = litellm.aclient_session = None


def test_base_is_the_one_resolved_base() -> None:
    assert os.environ["CODEX_AGENT_API_BASE"] == os.environ["MINI_AGENT_API_BASE"]


def test_sync_routes_to_the_base(patched: list[httpx.Request]) -> None:
    import litellm

    reply = litellm.completion(model="codex-agent/codex-agent-1", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "pong"
    assert [str(r.url) for r in patched] == [f"{BASE}/chat/completions"]


def test_async_routes_to_the_base(patched: list[httpx.Request]) -> None:
    import litellm

    reply = asyncio.run(litellm.acompletion(model="codex-agent/codex-agent-1", max_tokens=5,
                                            messages=[{"role": "user", "content": "hi"}]))
    assert reply.choices[0].message.content == "pong"
    assert [r.url.host for r in patched] == ["mini-agent"]
    assert b'"max_tokens":5' in patched[0].content.replace(b" ", b"")


def test_environment_is_set_before_litellm_is_imported(tmp_path: Path) -> None:
    # A fresh interpreter, without the cost-map switch, resolver counting lookups:
    # importing the provider must set the environment first, so litellm looks nothing up.
    script = textwrap.dedent("""
        import socket, sys
        looked = []
        def count(host, *a, **k):
            looked.append(host)
            raise OSError("no DNS here")
        socket.getaddrinfo = count
        import codex_agent
        print("LOOKUPS", looked)
        print("FLAG", __import__("os").environ.get("LITELLM_LOCAL_MODEL_COST_MAP"))
    """)
    env = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=Path(__file__).parents[1],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "LOOKUPS []" in done.stdout
    assert "FLAG True" in done.stdout
