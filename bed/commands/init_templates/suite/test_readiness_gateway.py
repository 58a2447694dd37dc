"""ND: the gateway answers our model group, plain and streamed, through the LiteLLM proxy.

These go over bed's network: runner -> proxy -> upstream (bed's mini-agent shim by default),
with the official `openai` client and the run's master key, as an agent would call it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from openai import OpenAI


@pytest.mark.nd
def test_gateway_answers_the_group(gateway: OpenAI, group: str) -> None:
    reply = gateway.chat.completions.create(model=group, messages=[{"role": "user", "content": "readiness ping"}])
    assert reply.choices, "the gateway answered without choices"
    assert reply.choices[0].message.content, "the gateway's answer is empty"


@pytest.mark.nd
def test_gateway_streams_the_group(gateway: OpenAI, group: str) -> None:
    stream = gateway.chat.completions.create(
        model=group, messages=[{"role": "user", "content": "readiness stream"}], stream=True)
    pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
    assert "".join(pieces), f"the stream carried no text ({len(pieces)} chunks)"
