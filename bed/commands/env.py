"""`bed env`: every setting bed reads, its value (secrets redacted) and where it came from.

It validates the settings as a run would (the same ``Config``), so a value a run would refuse
(``STRICT=maybe``, ``BED_WAIT_TIMEOUT=abc``) is the run's CONFIG_ERROR line on stderr and exit 2,
after the table, which still shows where the bad value came from. ``--format json`` prints one
JSON document instead (``valid`` and ``error`` say the same), for scripts and CI.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config.settings import OTHER_VARS, SETTINGS, Config, Sources, project_file
from ..console import Console
from ..errors import EXIT_READY, ConfigError

HELP = "list every setting and environment variable bed reads: value and source (secrets redacted); validate them"
SCHEMA = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text: a table (default); json: one document with every setting, for scripts")


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    root = Path.cwd()
    error: ConfigError | None
    try:
        file_name, file = project_file(root)
    except ConfigError as exc:  # a broken project file: nothing to list from it, the error says why
        file_name, file, error = "", {}, exc
    else:
        error = _validate(environ, root)
    doc = document(Sources({}, environ, file, file_name), environ, console, error)
    if args.format == "json":
        console.plain(json.dumps(doc, indent=1))
    else:
        table(doc, console)
    if error is not None:
        raise error
    return EXIT_READY


def _validate(environ: Mapping[str, str], root: Path) -> ConfigError | None:
    try:
        Config.from_env(environ, root=root)
    except ConfigError as exc:
        return exc
    return None


def document(sources: Sources, environ: Mapping[str, str], console: Console, error: ConfigError | None
             ) -> dict[str, Any]:
    settings = []
    for setting in SETTINGS:
        value = sources.value(setting.key)
        settings.append({"key": setting.key, "variable": setting.env, "flag": setting.flag, "source": value.source,
                         "value": _shown(value.raw, console)})
    other = [{"variable": name, "set": name in environ, "value": _shown(environ.get(name), console)}
             for name in OTHER_VARS]
    return {
        "schema": SCHEMA,
        "project_file": sources.file_name or None,
        "precedence": ["flag", "environment", sources.file_name or "pyproject.toml [tool.bed] / bed.toml", "default"],
        "settings": settings,
        "other": other,
        "valid": error is None,
        "error": None if error is None else {"kind": error.kind, "exit_code": error.exit_code, "line": error.line()},
    }


def _shown(raw: Any, console: Console) -> Any:
    """The value as JSON holds it, every string in it redacted (a token in a URL, a key)."""
    if isinstance(raw, str):
        return console.redact(raw)
    if isinstance(raw, list | tuple):
        return [_shown(item, console) for item in raw]
    if isinstance(raw, Mapping):
        return {str(k): _shown(v, console) for k, v in raw.items()}
    return raw


def table(doc: Mapping[str, Any], console: Console) -> None:
    console.plain(f"{'setting':16} {'variable':30} {'source':15} value")
    for row in doc["settings"]:
        shown = "(unset)" if row["value"] is None else repr(row["value"])
        console.plain(f"{row['key']:16} {row['variable'] or '':30} {row['source']:15} {shown}")
    for row in doc["other"]:
        shown = repr(row["value"]) if row["set"] else "(unset)"
        console.plain(f"{'':16} {row['variable']:30} {'env' if row['set'] else '':15} {shown}")
    console.plain("precedence: " + " > ".join(doc["precedence"]) + ".  Each variable: see the README's table.")
