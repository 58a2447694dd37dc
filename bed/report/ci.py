"""CI integrations: GitHub Actions annotations and the step summary.

Only active when GITHUB_ACTIONS=true; everything goes through the redactor like any output.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..config.paths import read_text
from ..console import Console
from ..errors import ConfigError
from ..model.results import RunResult, Status
from .writers import project_ready_md, write_text

SUMMARY_BYTES = 8 * 1024 * 1024  # GitHub shows at most 1 MiB of a step's summary
TIERS = Path(__file__).resolve().parents[1] / "runner" / "tiers"  # where bed's own smokes live


def annotate(result: RunResult, environ: Mapping[str, str], console: Console, root: Path) -> None:
    """GitHub annotations on the failing line, when that file is in the checkout (``root``)."""
    if environ.get("GITHUB_ACTIONS") != "true":
        return
    suite = result.repro.get("suite")
    # pytest's rootdir decides what node ids are relative to: the project, the suite, or bed's tiers.
    bases = [root, Path(suite)] if suite else [TIERS]
    for check in result.checks:
        if check.status not in (Status.FAILED, Status.ERROR) or check.cause is None:
            continue
        where = next((w for w in (_in_checkout(check.cause.location, b, root) for b in bases) if w), "")
        console.plain(error_annotation(check.name, check.cause.nodeid, where, check.cause.message))
    summary = environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        path = Path(summary)
        try:  # GitHub's summary is a small regular file; anything else is said, never waited on
            existing = read_text(path, SUMMARY_BYTES, "GITHUB_STEP_SUMMARY", hint="leave it to GitHub Actions.") \
                if os.path.lexists(path) else ""
        except ConfigError as exc:
            console.plain(f"WARNING: the job summary was not written: {exc.line()}")
            return
        write_text(path, existing + project_ready_md(result) + "\n", console.redact)


def _in_checkout(location: str, base: Path, root: Path) -> str:
    """``file:line`` with the file relative to the checkout, or "" when it is not in it."""
    file, _, line = location.rpartition(":")
    path = (base / file).resolve()
    if not file or not line.isdigit() or not path.is_file() or not path.is_relative_to(root):
        return ""
    return f"{path.relative_to(root)}:{line}"


def error_annotation(check: str, nodeid: str, location: str, message: str) -> str:
    """``::error file=...,line=...,title=...::message`` with GitHub's escaping."""
    props = [f"title={_escape_property(f'{check}: {nodeid}')}"]
    file, _, line = location.rpartition(":")
    if file and line.isdigit():
        props = [f"file={_escape_property(file)}", f"line={line}", *props]
    return f"::error {','.join(props)}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
