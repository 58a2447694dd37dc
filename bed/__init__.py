"""bed: a Dockerized readiness test-bed for a LiteLLM gateway in front of a local agent service.

The public surface is what ``__all__`` lists; everything else lives in private ``_x`` modules.
"""

from __future__ import annotations

__version__ = "0.1.0"

from ._config import ENV_VARS, Config
from ._errors import (
    ArtifactError,
    BedError,
    ConfigError,
    EngineError,
    ImageError,
    PortInUseError,
    StackError,
)
from ._redact import Redactor
from ._results import Cause, CheckResult, RunResult, Status

__all__ = [
    "ENV_VARS",
    "ArtifactError",
    "BedError",
    "Cause",
    "CheckResult",
    "Config",
    "ConfigError",
    "EngineError",
    "ImageError",
    "PortInUseError",
    "Redactor",
    "RunResult",
    "StackError",
    "Status",
    "__version__",
]
