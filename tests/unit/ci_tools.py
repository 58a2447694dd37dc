"""The linters bed's CI files are held to, found the way the tests need them: never skipped.

actionlint runs shellcheck on every `run:` script only when shellcheck is on PATH, and says
nothing when it is not: that is how a finding (SC2012) once slipped through. So a missing
shellcheck is a failure here, with the fix.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
HINT = "run `make venv` (its dev set-up installs it: scripts/ensure-ci-tools.sh)"


def tool(name: str) -> str:
    """A dev dependency installed into the venv (actionlint, check-jsonschema)."""
    path = BIN / name
    assert path.is_file(), f"{name} is not in {BIN}. Hint: {HINT}."
    return str(path)


def shellcheck() -> str:
    found = shutil.which("shellcheck")
    assert found, f"shellcheck is not on PATH, so actionlint would skip every script. Hint: {HINT}."
    return found


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    """actionlint on a workflow, with shellcheck on PATH (asserted)."""
    shellcheck()
    return subprocess.run([tool("actionlint"), "-oneline", str(path)], capture_output=True, text=True, timeout=60,
                          check=False)


def gitlab_scripts(doc: Mapping[str, Any]) -> dict[str, str]:
    """Each job's shell, as a runner runs it: its before_script then its script (one `extends` deep)."""
    out = {}
    for name, job in doc.items():
        if name.startswith(".") or not isinstance(job, Mapping) or "script" not in job:
            continue
        base = doc.get(job["extends"], {}) if isinstance(job.get("extends"), str) else {}
        default = doc.get("default", {})
        before = job.get("before_script", base.get("before_script", default.get("before_script", [])))
        out[name] = "\n".join(["#!/bin/sh", "set -e", *before, *job["script"]]) + "\n"
    return out


def shellcheck_gitlab(doc: Mapping[str, Any]) -> dict[str, str]:
    """shellcheck's findings per GitLab job ({} when there are none)."""
    found = {}
    for name, script in gitlab_scripts(doc).items():
        done = subprocess.run([shellcheck(), "--format=gcc", "-"], input=script, capture_output=True, text=True,
                              timeout=60, check=False)
        if done.returncode != 0:
            found[name] = done.stdout + done.stderr
    return found
