"""bed: a Dockerized readiness test-bed for a LiteLLM gateway in front of its agents.

The public surface is what ``__all__`` lists. The subpackages are bed's own layout, not API:

    config/    flags, environment, [tool.bed] and defaults -> one frozen Config; bases; router config
    engine/    the container engine behind one Protocol: the docker adapter, labels, a fake
    images/    content-hashed image builds, the offline base, the build contexts
    stack/     one run's containers and their owner: bring-up, in-network waits, watches, cleanup
    runner/    what goes into the runner: bed's pytest plugin, shards, the tiers' smokes
    pipeline/  one run as named stages: prepare, images, stack, tiers, teardown, judge, report
    policy/    pure rules: the verdict, flakes, quarantine, gc, dependencies, budgets, regressions
    report/    results and their writers: JSON, Markdown, JUnit, CAUSE lines, CI annotations
    commands/  one module per sub-command; cli.py wraps them in one error handler
    compare/   `bed compare`: the gate against several gateways (legs), and the comparison of them
    shim/      the mini-agent shim (runs in its own image)
    bench/     `bed bench`
"""

from __future__ import annotations

__version__ = "0.2.0"

from .config.settings import ENV_VARS, Config
from .errors import (
    ArtifactError,
    BedError,
    ConfigError,
    EngineError,
    ImageError,
    PortInUseError,
    StackError,
)
from .model.results import Cause, CheckResult, RunResult, Status
from .redact import Redactor

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
