"""Change control: every model group and provider the router may map has a readiness check.

A pull request that adds a group or a provider to the router mapping must add (or name)
its readiness check here; the deterministic check test_change_control.py fails otherwise.
The configured group (BED_GROUP, codex-agent-1 by default) is covered by the ND routing
smokes, which always use it.
"""

from __future__ import annotations

# provider prefix of litellm_params.model -> the smokes that exercise it
TWINS = "nd/test_provider_twins.py"  # each deployment against its provider's twin (bed/shim/twins)
PROVIDERS = {
    "openai": ("nd/test_proxy_routing.py", "nd/test_surfaces.py", TWINS, "release/test_live_providers.py"),
    "custom_openai": ("nd/test_surfaces.py", "agents/test_agent_clients.py"),
    "anthropic": (TWINS, "release/test_live_providers.py", "agents/test_agent_clients.py"),
    "gemini": (TWINS, "release/test_live_providers.py", "agents/test_agent_clients.py"),
    "groq": (TWINS, "release/test_live_providers.py"),
    "azure": (TWINS, "release/test_live_providers.py"),
    "mistral": (TWINS, "release/test_live_providers.py"),
    "vertex_ai": (TWINS,),
    "bedrock": (TWINS,),
    "codex-agent": ("deterministic/test_codex_agent_provider.py", "nd/test_provider.py"),
}

# extra model groups (besides BED_GROUP) -> the smokes that exercise them
GROUPS: dict[str, tuple[str, ...]] = {
    "codex-agent-1-fallback": ("nd/test_resilience.py",),
    "codex-agent-1-chat": ("nd/test_surfaces.py", "agents/test_agent_clients.py"),
    "codex-agent-1-provider": ("nd/test_provider.py",),
    "codex-agent-1-gemini": ("agents/test_agent_clients.py",),
    "codex-agent-1-anthropic": ("agents/test_agent_clients.py",),
    # bed's default live set (added to the proxy's config when live calls are on)
    "release-openai": ("release/test_live_providers.py",),
    "release-anthropic": ("release/test_live_providers.py",),
    "release-gemini": ("release/test_live_providers.py",),
}
