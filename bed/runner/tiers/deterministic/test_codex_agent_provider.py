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
    # A stand-in ``litellm`` records the environment at the moment it is imported; importing
    # the provider in a fresh interpreter, without the switch set, must show it already set.
    fake = tmp_path / "litellm"
    fake.mkdir()
    (fake / "__init__.py").write_text(textwrap.dedent("""
        import os, types
        SEEN_AT_IMPORT = os.environ.get("LITELLM_LOCAL_MODEL_COST_MAP")
        class CustomLLM:
            def __init__(self): pass
        custom_provider_map = []
        client_session = aclient_session = None
        utils = types.SimpleNamespace(custom_llm_setup=lambda: None)
    """))
    script = "import codex_agent, litellm; print('SEEN', litellm.SEEN_AT_IMPORT)"
    env = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    env["PYTHONPATH"] = f"{tmp_path}:{Path(__file__).parents[1]}"
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "SEEN True"
