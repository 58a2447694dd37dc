"""CI integrations: GitHub Actions annotations and the step summary.

Only active when GITHUB_ACTIONS=true; everything goes through the redactor like any output.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..console import Console
from .results import RunResult, Status
from .writers import project_ready_md, write_text

TIERS_ROOT = "bed/runner/tiers"  # where the runner's tier files live in this repository


def annotate(result: RunResult, environ: Mapping[str, str], console: Console) -> None:
    if environ.get("GITHUB_ACTIONS") != "true":
        return
    for check in result.checks:
        if check.status not in (Status.FAILED, Status.ERROR) or check.cause is None:
            continue
        console.plain(error_annotation(check.name, check.cause.nodeid, check.cause.location, check.cause.message))
    summary = environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        path = Path(summary)
        existing = path.read_text() if path.exists() else ""
        write_text(path, existing + project_ready_md(result) + "\n", console.redact)


def error_annotation(check: str, nodeid: str, location: str, message: str) -> str:
    """``::error file=...,line=...,title=...::message`` with GitHub's escaping."""
    props = [f"title={_escape_property(f'{check}: {nodeid}')}"]
    file, _, line = location.rpartition(":")
    if file and line.isdigit():
        props = [f"file={_escape_property(f'{TIERS_ROOT}/{file}')}", f"line={line}", *props]
    return f"::error {','.join(props)}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
