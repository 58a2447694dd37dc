"""A project's own suite, as the files copied into its runners: the user's tree, as their pytest reads it.

The project's folder (the working directory when the suite is inside it, else the suite's own
folder) is copied, not mounted, so it works the same on a remote engine; its pytest.ini,
pyproject.toml, conftest.py files, packages and data come along, so pytest finds the same
rootdir, conftests and node ids as on the developer's machine. Every file goes, symbolic links
resolved (a linked test module or folder is copied as what it points at), whatever its name.
Only what is provably not the suite stays out, and each is said with its reason: version control
folders, virtualenvs (a folder holding ``pyvenv.cfg`` or ``conda-meta``), installed npm packages,
caches, bed's own outputs (by their exact paths, never by a name), and what ``suite_exclude``
names. Files git ignores are copied too (pytest reads them), and counted, because a CI checkout
will not have them. Sizes are checked before anything is read.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..config.paths import SizeBudget
from ..console import Console
from ..errors import ConfigError
from ..exec import Exec, Failed

MAX_BYTES = 64 * 1024 * 1024
VCS = frozenset({".git", ".hg", ".svn", ".bzr", "_darcs", "CVS"})
CACHES = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", ".tox", ".nox"})
SHOWN = 8  # left-out entries listed by name


@dataclasses.dataclass(frozen=True)
class Copy:
    files: tuple[tuple[str, bytes], ...]  # (path relative to the copied folder, content)
    target: str  # the suite's folder, relative to the copied folder
    base: Path  # the copied folder
    left_out: tuple[tuple[str, str], ...] = ()  # (path, why)
    ignored: int = 0  # files git ignores that were copied


def files(root: Path, suite: Path, outputs: Sequence[Path] = (), console: Console | None = None, *,
          exclude: Sequence[str] = (), run: Exec | None = None) -> tuple[tuple[tuple[str, bytes], ...], str]:
    """The files to copy and the suite's folder among them; what was left out is said on ``console``."""
    copy = collect(root, suite, outputs, exclude=exclude, run=run)
    if console is not None:
        say(copy, console)
    return copy.files, copy.target


def collect(root: Path, suite: Path, outputs: Sequence[Path] = (), *, exclude: Sequence[str] = (),
            run: Exec | None = None) -> Copy:
    base = root if suite.is_relative_to(root) else suite
    target = str(suite.relative_to(base)) or "."
    ours = [o.absolute() for o in outputs]
    found: list[tuple[str, Path, int]] = []
    left_out: list[tuple[str, str]] = []
    for rel, path, why in _walk(base, ours, exclude):
        if why:
            left_out.append((rel, why))
        else:
            found.append((rel, path, path.stat().st_size))
    total = sum(size for _, _, size in found)
    if total > MAX_BYTES:
        raise ConfigError(f"the project at {base} holds {total / 2**20:.0f} MB to copy into the runner, over "
                          f"{MAX_BYTES // 2**20} MB; the biggest: {_biggest(found)}.",
                          hint="name what is not the suite in [tool.bed] suite_exclude (BED_SUITE_EXCLUDE), or "
                               "point --suite at a folder outside the project's big files.")
    # Read against the same total: a file that grew since its stat cannot take the copy over it.
    budget = SizeBudget(MAX_BYTES, f"the project at {base}", hint="name what is not the suite in [tool.bed] "
                                                                   "suite_exclude (BED_SUITE_EXCLUDE).")
    out = tuple((rel, budget.read(path)) for rel, path, _ in found)
    return Copy(out, target, base, tuple(left_out), _ignored(base, [rel for rel, _, _ in found], run))


def say(copy: Copy, console: Console) -> None:
    size = sum(len(data) for _, data in copy.files)
    console.step(f"suite: {len(copy.files)} file(s), {size / 2**20:.1f} MB from {copy.base} (the suite: {copy.target})")
    if copy.left_out:
        shown = [f"{rel}: {why}" for rel, why in copy.left_out[:SHOWN]]
        more = len(copy.left_out) - SHOWN
        console.step("suite: left out " + "; ".join(shown) + (f"; and {more} more" if more > 0 else ""))
    if copy.ignored:
        console.step(f"suite: {copy.ignored} file(s) git ignores were copied too (pytest reads them here; a CI "
                     "checkout will not have them)")


def _walk(base: Path, ours: Sequence[Path], exclude: Sequence[str]) -> Iterator[tuple[str, Path, str]]:
    """(relative path, the path to read, why it is left out or "") for every entry under ``base``;
    symbolic links followed, each real folder entered once (a link loop is said, not followed)."""
    seen: set[str] = set()
    stack: list[tuple[str, Path]] = [("", base)]
    while stack:
        rel_dir, folder = stack.pop()
        real = os.path.realpath(folder)
        if real in seen:
            yield rel_dir, folder, "a symbolic link to a folder already copied (a loop?)"
            continue
        seen.add(real)
        try:
            names = sorted(os.listdir(folder))
        except OSError as exc:
            yield rel_dir or ".", folder, f"cannot be read ({exc.strerror})"
            continue
        for name in names:
            rel, path = f"{rel_dir}/{name}" if rel_dir else name, folder / name
            why = _why_not(rel, path, ours, exclude)
            if why == "folder":
                stack.append((rel, path))
            else:
                yield rel, path, why


def _why_not(rel: str, path: Path, ours: Sequence[Path], exclude: Sequence[str]) -> str:
    """"" to copy the file, "folder" to enter it, or why it stays out."""
    absolute = path.absolute()
    if any(absolute == o or o in absolute.parents for o in ours):
        return "bed's own output"
    if any(fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(path.name, pattern) for pattern in exclude):
        return "excluded by suite_exclude"
    try:
        mode = path.stat().st_mode  # follows a symbolic link
    except OSError:
        return "a broken symbolic link" if path.is_symlink() else "cannot be read"
    if stat.S_ISDIR(mode):
        return _why_not_folder(path)
    if not stat.S_ISREG(mode):
        return "not a regular file (a FIFO, socket or device)"
    return "compiled bytecode (a cache)" if path.suffix in (".pyc", ".pyo") else ""


def _why_not_folder(path: Path) -> str:
    if path.name in VCS:
        return "version control"
    if path.name in CACHES:
        return "a cache"
    if (path / "pyvenv.cfg").is_file() or (path / "conda-meta").is_dir():
        return "a virtualenv"
    if path.name == "node_modules":
        return "installed npm packages"
    return "folder"


def _biggest(found: list[tuple[str, Path, int]]) -> str:
    by_top: dict[str, int] = {}
    for rel, _, size in found:
        top = rel.split("/", 1)[0]
        by_top[top] = by_top.get(top, 0) + size
    top5 = sorted(by_top.items(), key=lambda kv: -kv[1])[:5]
    return ", ".join(f"{name} {size / 2**20:.0f} MB" for name, size in top5)


def _ignored(base: Path, rels: list[str], run: Exec | None) -> int:
    """How many of the copied files git ignores (0 outside a git checkout, or without git)."""
    if run is None or not rels:
        return 0
    try:
        done = run.capture(["git", "-C", str(base), "check-ignore", "--no-index", "--stdin", "-z"],
                           stdin="\0".join(rels).encode("utf-8", "surrogateescape"), ok=(0, 1))
    except Failed:
        return 0
    return len([p for p in done.stdout.split(b"\0") if p])
