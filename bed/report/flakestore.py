"""The flake history kept between runs (BED_FLAKE_STORE): read, checked, written atomically.

A store bed cannot read is refused before anything starts, with the fix; it is never reset
silently, which would lose the quarantine history.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
from pathlib import Path
from typing import Any

from ..config.paths import read_bounded
from ..errors import ConfigError
from ..model.quarantine import Book, Entry
from ..redact import Redactor
from .writers import write_text

MAX_BYTES = 8 * 1024 * 1024


def load(path: Path) -> Book:
    if not os.path.lexists(path):
        return Book()
    fix = f"fix it, or move it aside (mv {path} {path}.bak) to start a new history"
    try:
        raw = json.loads(read_bounded(path, MAX_BYTES, "flake store", hint=fix))
    except (ValueError, UnicodeDecodeError):
        raise ConfigError(f"flake store {path} is not JSON.", hint=fix) from None
    return Book(_entries(raw, path, fix))


def _entries(raw: Any, path: Path, fix: str) -> dict[str, Entry]:
    tests = raw.get("tests") if isinstance(raw, dict) else None
    if not isinstance(tests, dict):
        raise ConfigError(f"flake store {path} has no 'tests' table.", hint=fix)
    entries = {}
    for nodeid, item in tests.items():
        try:
            entry = Entry(**item)
            ok = (isinstance(entry.check, str) and isinstance(entry.flakes, list)
                  and all(isinstance(t, str) for t in entry.flakes) and isinstance(entry.clean_runs, int)
                  and (entry.quarantined_since is None or isinstance(entry.quarantined_since, str)))
            for stamp in [*entry.flakes, *([entry.quarantined_since] if entry.quarantined_since else [])]:
                datetime.datetime.fromisoformat(stamp)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ConfigError(f"flake store {path}: the entry for {nodeid!r} has the wrong shape.", hint=fix)
        entries[str(nodeid)] = entry
    return entries


def save(book: Book, path: Path, redact: Redactor) -> None:
    data = {"tests": {k: dataclasses.asdict(v) for k, v in sorted(book.entries.items())}}
    write_text(path, json.dumps(data, indent=1) + "\n", redact)
