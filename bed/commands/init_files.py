"""The files `bed init` writes whole, how it knows they are its own, and how it renders them.

Each carries a first line that names bed and a digest of the lines below it::

    # bed init 0.2.0 wrote this file (sha256:0123456789ab); edit it and it is yours.

A file is bed's while that line is there and the digest still matches: only then may
``--force`` rewrite it. A file without the line was written by someone else; a file whose digest
no longer matches was changed by someone since. Neither is ever replaced, ``--force`` or not.
(The [tool.bed] table carries the same line, its digest over the table's values; bed's Makefile
block is delimited by its own marker lines instead.)
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any, Literal

import tomlkit

from .. import __version__
from .init_source import DIST, VENDOR, Install

TEMPLATES = Path(__file__).parent / "init_templates"
DIGEST_CHARS = 12
_MARK = re.compile(r"^(?:#|<!--) bed init \S+ wrote this (file|table) \(sha256:([0-9a-f]{12})\)")

Owner = Literal["ours", "edited", "theirs"]


@dataclasses.dataclass(frozen=True)
class Step:
    """One file: what to write (None: leave it as it is) and the lines that say so."""

    path: Path
    text: str | None
    says: tuple[str, ...]
    data: bytes | None = None  # a binary file (a vendored wheel) instead of text

    @property
    def writes(self) -> bool:
        return self.text is not None or self.data is not None


# --- marks ------------------------------------------------------------------------------------------

def digest(body: str) -> str:
    """Of the text below the mark; line endings do not count (git may turn LF into CRLF)."""
    return hashlib.sha256(body.replace("\r\n", "\n").encode()).hexdigest()[:DIGEST_CHARS]


def mark_line(sha: str, *, what: str = "file", markdown: bool = False) -> str:
    words = f"bed init {__version__} wrote this {what} (sha256:{sha}); edit it and it is yours."
    return f"<!-- {words} -->" if markdown else f"# {words}"


def marked(body: str, *, markdown: bool = False) -> str:
    return mark_line(digest(body), markdown=markdown) + "\n" + body


def owner(text: str) -> Owner:
    first, _, body = text.partition("\n")
    found = _MARK.match(first)
    if found is None or found.group(1) != "file":
        return "theirs"
    return "ours" if digest(body) == found.group(2) else "edited"


def table_digest(values: Any) -> str:
    """Of a [tool.bed] table's values: a comment or spacing the user changes does not count."""
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:DIGEST_CHARS]


def table_owner(text: str, values: Any) -> Owner:
    """The [tool.bed] table's: bed's mark line anywhere in the file (there is one table), checked
    against the table's values."""
    found = next((m for line in text.splitlines() if (m := _MARK.match(line)) and m.group(1) == "table"), None)
    if found is None:
        return "theirs"
    return "ours" if table_digest(values) == found.group(2) else "edited"


# --- rendering ----------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Render:
    """What the templates are filled with: the suite's folder, how CI installs bed, the Makefile's bed."""

    suite: str
    install: Install
    launcher: str = ""  # the Makefile's last resort: this bed's launcher, when nothing else finds it

    def text(self, name: str) -> str:
        """A template, filled in (without its mark line: see ``marked``)."""
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        if name.endswith(".toml"):  # a TOML string, quoted as TOML quotes it
            text = text.replace('"@BED_SUITE@"', tomlkit.string(self.suite).as_string())
        index = self.install.index_url
        lines = []
        for line in text.split("\n"):
            if line.strip() == "@BED_INDEX@":  # a line of its own: there, or gone
                if index:
                    lines.append(line.replace("@BED_INDEX@", f"PIP_INDEX_URL: {json.dumps(index)}"))
                continue
            lines.append(line)
        text = "\n".join(lines)
        for key, value in {
            "@BED_INSTALL@": json.dumps(self.install.requirement),  # a YAML double-quoted string
            "@BED_INSTALL_HOW@": " ".join(self.install.how.split()),
            "@BED_INSTALL_MAKE@": _make_text(f"pip install '{self.install.requirement or DIST + '==' + __version__}'"),
            "@BED_LAUNCHER@": f" {_make_text(self.launcher)}" if self.launcher else "",
            "@BED_SUITE@": self.suite,
            "@BED_VERSION@": __version__,
        }.items():
            text = text.replace(key, value)
        return text


def _make_text(text: str) -> str:
    """Text safe inside a Makefile variable and $(error ...): no comment, no reference, no comma."""
    return text.replace("$", "$$").replace("#", r"\#").replace(",", " ")


# --- the bed the Makefile calls -------------------------------------------------------------------------

def launcher(root: Path) -> tuple[str, str]:
    """The running bed's launcher, for the Makefile's last resort (``""``: the Makefile finds it
    anyway, in the project's .venv or on PATH), and how the Makefile will find it."""
    here = Path(sys.executable).parent / "bed"  # a venv's, pipx's or uv tool's: beside its Python
    if not here.is_file():
        return "", "the `bed` of .venv/bin or PATH (none is beside this Python)"
    on_path = shutil.which("bed")
    if on_path and Path(on_path).resolve() == here.resolve():
        return "", f"the `bed` on PATH ({on_path})"
    if here.resolve().is_relative_to((root / ".venv").resolve()):
        return "", ".venv/bin/bed"
    return str(here), f"{here}, which is not on PATH: the Makefile names it as its last resort"


# --- a vendored wheel ----------------------------------------------------------------------------------

def wheel_step(root: Path, install: Install, *, force: bool) -> Step | None:
    """The wheel CI installs, copied into the repository's .bed/ (None: CI installs from elsewhere)."""
    if install.wheel is None:
        return None
    path = root / VENDOR / install.wheel.name
    data = install.wheel.read_bytes()
    rel = path.relative_to(root)
    if not path.exists():
        return Step(path, None, (f"wrote     {rel} (the bed CI installs)",), data=data)
    if path.is_file() and path.read_bytes() == data:
        return Step(path, None, (f"skipped   {rel}: already this bed",))
    if not is_bed_wheel(path):
        return Step(path, None, (f"skipped   {rel}: it is not a wheel of bed; bed init never replaces it "
                                 "(move it away, or pass --install)",))
    if not force:
        return Step(path, None, (f"skipped   {rel}: another build of bed is there (--force replaces it)",))
    return Step(path, None, (f"replaced  {rel} (the bed CI installs)",), data=data)


def is_bed_wheel(path: Path) -> bool:
    """A wheel whose METADATA names bed's distribution."""
    try:
        with zipfile.ZipFile(path) as wheel:
            meta = next((n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")), None)
            text = wheel.read(meta).decode("utf-8", "replace") if meta else ""
    except (OSError, zipfile.BadZipFile):
        return False
    return any(line.strip().lower() == "name: bed-readiness" for line in text.splitlines()[:20])
