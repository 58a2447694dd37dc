"""Provider twins: the shim answering as each provider's own API does, under ``/twins/<name>/``.

A deployment of the user's router config whose ``api_base`` points at
``http://mini-agent:8788/twins/<name>`` runs through LiteLLM's real adapter for that provider
against its twin, hermetic. Each twin is one module (its routes, its credential and version
checks, its request schema, its error bodies and retry headers); ``_base`` holds the contract.
They share the shim's one pipeline (journal, faults, scripts, answer core, answer cache) and
reuse the agent-facing surfaces' parsing and rendering wherever the provider speaks the same
protocol. A new twin is a module here and one line in ``build``.
"""

from __future__ import annotations

from ..surfaces.responses import Store
from . import anthropic, azure, bedrock, gemini, groq, mistral, openai, vertex
from ._base import Twin


def build(store: Store) -> dict[str, Twin]:
    """One of each twin, by name; ``store`` is the shim's stored responses (OpenAI's Responses API)."""
    twins: list[Twin] = [openai.OpenAI(store), azure.Azure(), anthropic.Anthropic(), gemini.Gemini(),
                         mistral.Mistral(), groq.Groq(), bedrock.Bedrock(),
                     vertex.Vertex()]
    return {twin.name: twin for twin in twins}
