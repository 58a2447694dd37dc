"""`bed init`: set a repository up for bed, and say what it wrote and what it left alone.

It writes four things, from the templates in ``init_templates/``:

    settings   a [tool.bed] table appended to pyproject.toml (every byte before it kept; --force
               replaces an existing table where it stands, with tomlkit, which keeps the rest of
               the document), or bed.toml when there is no pyproject.toml (or bed.toml is already
               what bed reads)
    Makefile   bed's targets, appended as one marked block; a target you wrote is never touched
    suite      an example readiness suite (tests/readiness/ unless --suite-dir)
    CI         .github/workflows/readiness.yml and .github/pull_request_template.md

Nothing that exists is overwritten without ``--force`` (then bed's own table, block or file is
replaced, and only that). Everything is planned in memory first and checked (each file can be
written) before anything is written, each file atomically: bad input is one CONFIG_ERROR /
ARTIFACT_ERROR line and nothing is written. A write that still fails reports what came before it.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions

from .. import __version__
from ..config.paths import read_bounded
from ..console import Console
from ..errors import EXIT_READY, ArtifactError, ConfigError
from ..report.writers import write_text

HELP = "set this repository up for bed: [tool.bed], make targets, an example suite, a CI workflow"

TEMPLATES = Path(__file__).parent / "init_templates"
DEFAULT_SUITE = "tests/readiness"
TARGETS = ("project-ready-core-only-with-docker", "dev-gate")
MAKEFILES = ("GNUmakefile", "makefile", "Makefile")  # the order GNU make looks for them
BLOCK_START = "# >>> bed:"
BLOCK_END = "# <<< bed <<<"
SUITE_FILES = ("README.md", "conftest.py", "test_readiness_router.py", "test_readiness_gateway.py")
WORKFLOW = ".github/workflows/readiness.yml"
PR_TEMPLATE = ".github/pull_request_template.md"
# Where GitHub looks for a pull request template; with one already there, a second would not be used.
PR_TEMPLATE_PLACES = ("", ".github", "docs")
MAX_FILE = 1024 * 1024
# A rule's target(s): a line that is not a recipe, comment or assignment, up to its first ':'.
_RULE = re.compile(r"^(?![\t #.])([^:=#\n]+?)[ \t]*::?(?![:=])", re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class Step:
    """One file: what to write (None: leave it as it is) and the lines that say so."""

    path: Path
    text: str | None
    says: tuple[str, ...]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", nargs="?", default=".", metavar="PATH", help="the repository (default: here)")
    parser.add_argument("--suite-dir", default=DEFAULT_SUITE, metavar="DIR",
                        help=f"where the example suite goes, inside the repository (default: {DEFAULT_SUITE})")
    parser.add_argument("--force", action="store_true",
                        help="overwrite bed's files, and replace bed's [tool.bed] table and Makefile block")


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    root = _root(args.root)
    suite = _suite_dir(root, args.suite_dir)
    steps = plan(root, suite, force=args.force)
    for step in steps:
        if step.text is not None:
            _preflight(root, step.path)
    # Write everything, then say so: output that cannot be printed (a closed pipe) must not
    # stop the writing half way; a write that fails still reports what was written before it.
    handled: list[Step] = []
    try:
        for step in steps:
            if step.text is not None:
                _write(root, step.path, step.text)
            handled.append(step)
    finally:
        for step in handled:
            for line in step.says:
                console.plain(line)
    if any(step.text is not None for step in steps):
        console.plain("next: `make project-ready-core-only-with-docker` runs the gate on your suite; "
                      "`bed env` shows the settings and where each comes from")
    else:
        console.plain("nothing written: everything bed init makes is already here (--force overwrites bed's parts)")
    return EXIT_READY


def plan(root: Path, suite: str, *, force: bool) -> list[Step]:
    """Every file bed init would write or leave, in the order it reports them; nothing is written."""
    return [settings(root, suite, force=force), makefile(root, force=force), *suite_files(root, suite, force=force),
            *ci_files(root, suite, force=force)]


# --- settings: [tool.bed] in pyproject.toml, or bed.toml ------------------------------------------

def settings(root: Path, suite: str, *, force: bool) -> Step:
    pyproject, standalone = root / "pyproject.toml", root / "bed.toml"
    body = _template("bed_settings.toml", suite)
    if pyproject.exists():  # a FIFO or a folder by that name is refused by the reader
        text = _read(pyproject)
        tool = _toml(pyproject, text).get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{pyproject}: `tool` is not a table, so it cannot hold [tool.bed].",
                              hint="make it a [tool] table, or move it and re-run bed init.")
        # bed reads [tool.bed] first and bed.toml only without it: a new table would hide bed.toml.
        if "bed" in tool or not standalone.exists():
            return _pyproject(pyproject, text, body, exists="bed" in tool, force=force)
    if standalone.exists() and not force:
        return Step(standalone, None, (_skipped(root, standalone, "it exists (--force overwrites it)"),))
    verb = "overwrote" if standalone.exists() else "wrote"
    return Step(standalone, body, (_said(verb, root, standalone),))


def _pyproject(path: Path, text: str, body: str, *, exists: bool, force: bool) -> Step:
    if exists and not force:
        return Step(path, None, (f"skipped   {path.name}: it has a [tool.bed] table "
                                 "(--force replaces that table, and nothing else)",))
    eol = _eol(text)
    table = f"[tool.bed]{eol}{body.replace(chr(10), eol)}"
    try:
        if exists:  # tomlkit swaps the table where it stands, keeping the rest of the document as it was
            doc = tomlkit.parse(text)
            doc["tool"]["bed"] = tomlkit.parse(table)["tool"]["bed"]
            edited = tomlkit.dumps(doc)
        else:  # a new table goes at the end, where it changes no byte before it
            edited = text + _gap(text, eol) + table
        tomlkit.parse(edited)
    except (tomlkit.exceptions.TOMLKitError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot add [tool.bed] to it ({exc}).",
                          hint="add the table by hand, or put bed's settings in bed.toml.") from None
    _same_elsewhere(path, text, edited)
    return Step(path, edited, (f"{'replaced' if exists else 'added':9} [tool.bed] in {path.name}",))


def _same_elsewhere(path: Path, before: str, after: str) -> None:
    """A guard on the edit: the file means what it meant before, apart from [tool.bed]."""
    try:
        old, new = tomllib.loads(before), tomllib.loads(after)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: cannot add [tool.bed] to it ({exc}).",
                          hint="add the table by hand, or put bed's settings in bed.toml.") from None
    old.get("tool", {}).pop("bed", None)
    new.get("tool", {}).pop("bed", None)
    for data in (old, new):
        if data.get("tool") == {}:
            del data["tool"]
    if old != new:
        raise ConfigError(f"{path}: adding [tool.bed] would change other parts of the file.",
                          hint="add the table by hand, or put bed's settings in bed.toml.")


# --- Makefile ------------------------------------------------------------------------------------

def makefile(root: Path, *, force: bool) -> Step:
    path = next((root / name for name in MAKEFILES if (root / name).is_file()), root / "Makefile")
    if not path.exists():
        return Step(path, _block({}), (_said("wrote", root, path, "targets " + ", ".join(TARGETS)),))
    text = _read(path)
    span = _block_span(path, text, force=force)
    outside = text if span is None else text[:span[0]] + text[span[1]:]
    theirs = _targets(outside)
    says = [f"skipped   {path.name} target {name}: you define it (line {line}); bed init never changes "
            "a target you wrote" for name, line in theirs.items() if name in TARGETS]
    mine = [t for t in TARGETS if t not in theirs]
    eol = _eol(text)
    if span is not None:
        if not force:
            return Step(path, None, (*says, f"skipped   {path.name}: bed's block is already there "
                                            "(--force rewrites that block, and nothing else)"))
        return Step(path, text[:span[0]] + _block(theirs).replace("\n", eol) + text[span[1]:],
                    (*says, f"rewrote   bed's block in {path.name}: targets {', '.join(mine) or 'none'}"))
    if not mine:
        return Step(path, None, tuple(says))
    return Step(path, text + _gap(text, eol) + _block(theirs).replace("\n", eol),
                (*says, f"appended  targets {', '.join(mine)} to {path.name}"))


def _block(theirs: Mapping[str, int]) -> str:
    """bed's block, without the rule of any target the Makefile already defines."""
    paragraphs = _template("Makefile").split("\n\n")
    out = []
    for paragraph in paragraphs:
        rules = _targets(paragraph)
        name = next(iter(rules), None)
        if name in theirs:
            out.append(f"# {name}: yours is kept (bed init never changes a target you wrote).")
        else:
            out.append(paragraph)
    return "\n\n".join(out)


def _block_span(path: Path, text: str, *, force: bool) -> tuple[int, int] | None:
    """Where bed's block is (start of its first line, end of its last), when there is one."""
    start = next((m.start() for m in re.finditer(rf"^{re.escape(BLOCK_START)}", text, re.MULTILINE)), None)
    if start is None:
        return None
    end = re.compile(rf"^{re.escape(BLOCK_END)}[^\n]*\n?", re.MULTILINE).search(text, start)
    if end is None:
        if not force:  # left alone anyway; only rewriting it needs its end
            return start, len(text)
        line = text.count("\n", 0, start) + 1
        raise ConfigError(f"{path}: bed's block starts at line {line} but its last line `{BLOCK_END}` is missing.",
                          hint="put that line back where the block ends, or delete the block and re-run bed init.")
    return start, end.end()


def _targets(text: str) -> dict[str, int]:
    """The targets a Makefile's rules name, each with the line of its first rule."""
    found: dict[str, int] = {}
    for match in _RULE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        for name in match.group(1).split():
            found.setdefault(name, line)
    return found


# --- the example suite and CI ---------------------------------------------------------------------

def suite_files(root: Path, suite: str, *, force: bool) -> list[Step]:
    return [_copy(root, root / suite / name, _template(f"suite/{name}", suite), force=force) for name in SUITE_FILES]


def ci_files(root: Path, suite: str, *, force: bool) -> list[Step]:
    steps = [_copy(root, root / WORKFLOW, _template("github/workflows/readiness.yml", suite), force=force)]
    theirs = _pr_template(root)
    if theirs is not None and theirs != root / PR_TEMPLATE:
        rel = theirs.relative_to(root)
        steps.append(Step(root / PR_TEMPLATE, None, (
            _skipped(root, root / PR_TEMPLATE, f"GitHub already uses {rel} (add bed's checklist to it by hand)"),)))
    else:
        steps.append(_copy(root, root / PR_TEMPLATE, _template("github/pull_request_template.md", suite), force=force))
    return steps


def _pr_template(root: Path) -> Path | None:
    for folder in PR_TEMPLATE_PLACES:
        where = root / folder
        if where.is_dir():
            for entry in sorted(where.iterdir()):
                if entry.name.lower() in ("pull_request_template.md", "pull_request_template"):
                    return entry
    return None


def _copy(root: Path, path: Path, text: str, *, force: bool) -> Step:
    if path.exists() and not force:
        return Step(path, None, (_skipped(root, path, "it exists (--force overwrites it)"),))
    return Step(path, text, (_said("overwrote" if path.exists() else "wrote", root, path),))


# --- reading, checking, writing -------------------------------------------------------------------

def _template(name: str, suite: str = DEFAULT_SUITE) -> str:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    if name.endswith(".toml"):  # a TOML string, quoted as TOML quotes it
        text = text.replace('"@BED_SUITE@"', tomlkit.string(suite).as_string())
    return text.replace("@BED_SUITE@", suite).replace("@BED_VERSION@", __version__)


def _root(raw: str) -> Path:
    root = Path(raw).expanduser()
    if not root.is_dir():
        raise ConfigError(f"{raw} is not a folder.", hint="run bed init in your repository, or give its path.")
    return root.resolve()


def _suite_dir(root: Path, raw: str) -> str:
    path = (root / Path(raw).expanduser()).resolve()
    if not raw.strip() or not path.is_relative_to(root) or path == root:
        raise ConfigError(f"--suite-dir {raw!r} is not a folder inside {root}.",
                          hint=f"give a path inside the repository, like {DEFAULT_SUITE}.")
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--suite-dir {raw}: {path} is a file.", hint="give a folder for the suite.")
    return path.relative_to(root).as_posix()


def _read(path: Path) -> str:
    raw = read_bounded(path, MAX_FILE, "file", hint="make it a readable text file, or move it aside.")
    try:
        return raw.decode("utf-8")  # bytes, not text mode: a CRLF file stays CRLF
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 ({exc.reason} at byte {exc.start}).",
                          hint="save it as UTF-8 and re-run bed init.") from None


def _toml(path: Path, text: str) -> dict[str, Any]:
    try:
        tomlkit.parse(text)  # the editor must read it too, not only bed's reader
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, tomlkit.exceptions.TOMLKitError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}).",
                          hint="fix the line it names, then re-run bed init.") from None


def _preflight(root: Path, path: Path) -> None:
    """Refuse before anything is written when a file could not be: so a bad repository gets nothing."""
    if path.is_dir():
        raise ArtifactError(f"cannot write {path.relative_to(root)}: it is a folder.",
                            hint="move that folder away, or re-run bed init with another --suite-dir.")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ArtifactError(f"cannot write {path.relative_to(root)}: {parent.relative_to(root)} is a file, "
                            "not a folder.", hint="move that file away, then re-run bed init.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ArtifactError(f"cannot write {path.relative_to(root)}: {parent} is not writable.",
                            hint="run bed init as a user who may write the repository.")


def _write(root: Path, path: Path, text: str) -> None:
    target = path.resolve() if path.is_symlink() else path  # edit what a link points at, keep the link
    mode = target.stat().st_mode & 0o7777 if target.exists() else None
    try:
        write_text(target, text, _verbatim)
        if mode is not None:
            target.chmod(mode)
    except (ArtifactError, OSError) as exc:
        why = exc.what if isinstance(exc, ArtifactError) else f"cannot write {target}: {exc.strerror}."
        raise ArtifactError(why, hint="make the repository writable, then re-run bed init "
                                      "(what it wrote already is skipped).") from exc


def _verbatim(text: str) -> str:
    # init writes bed's templates and the user's own files, never a secret; redacting would
    # rewrite the user's bytes (a `user:token@` URL in a dependency line, say).
    return text


def _eol(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _gap(text: str, eol: str) -> str:
    """What goes before an addition at the end of ``text`` so that one blank line parts them."""
    if not text.strip() or text.endswith(eol * 2):
        return ""
    return eol if text.endswith("\n") else eol * 2


def _said(verb: str, root: Path, path: Path, what: str = "") -> str:
    return f"{verb:9} {path.relative_to(root)}" + (f" ({what})" if what else "")


def _skipped(root: Path, path: Path, why: str) -> str:
    return f"skipped   {path.relative_to(root)}: {why}"
