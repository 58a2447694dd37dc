"""Configuration: sources (flags, environment, [tool.bed], defaults) into one frozen Config."""

from __future__ import annotations

from .settings import DEFAULT_BASE_IMAGE, ENV_VARS, EXPECTABLE, GATES, SETTINGS, TIERS, Config

__all__ = ["DEFAULT_BASE_IMAGE", "ENV_VARS", "EXPECTABLE", "GATES", "SETTINGS", "TIERS", "Config"]
