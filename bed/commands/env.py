"""`bed env`: every setting bed reads, its value (secrets redacted) and where it came from."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from ..config.settings import OTHER_VARS, SETTINGS, Sources, project_file
from ..console import Console
from ..errors import EXIT_READY

HELP = "list every setting and environment variable bed reads: value and source (secrets redacted)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    file_name, file = project_file(Path.cwd())
    sources = Sources({}, environ, file, file_name)
    console.plain(f"{'setting':16} {'variable':30} {'source':15} value")
    for setting in SETTINGS:
        value = sources.value(setting.key)
        shown = "(unset)" if value.raw is None else repr(console.redact(str(value.raw)))
        console.plain(f"{setting.key:16} {setting.env or '':30} {value.source:15} {shown}")
    for name in OTHER_VARS:
        shown = "(unset)" if name not in environ else repr(console.redact(environ[name]))
        console.plain(f"{'':16} {name:30} {'env' if name in environ else '':15} {shown}")
    console.plain("precedence: flag > environment > " + (file_name or "pyproject.toml [tool.bed] / bed.toml")
                  + " > default.  Each variable: see the README's table.")
    return EXIT_READY
