"""A project's own suite, as the files copied into its runners.

The project's folder (the working directory when the suite is inside it, else the suite's own
folder) is copied, not mounted, so it works the same on a remote engine; its pytest.ini,
pyproject.toml, conftest.py files and packages come along, so pytest finds the same rootdir and
node ids as on the developer's machine. In a git checkout only tracked and untracked-but-not-
ignored files go; elsewhere the usual clutter (.git, .venv, caches, bed's own artifacts) stays out.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..errors import ConfigError

MAX_BYTES = 64 * 1024 * 1024
SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache",
                       ".pytest_cache", ".artifacts", "local", ".tox", "build", "dist"})


def files(root: Path, suite: Path, outputs: tuple[Path, ...] = ()) -> tuple[tuple[tuple[str, bytes], ...], str]:
    """The files to copy ((path relative to the project, content)), and the suite's folder among them.

    ``outputs``: what bed itself writes (reports, the router stub, the flake store) stays out, so
    an earlier run's artifacts never travel into the next run's runner.
    """
    base = root if suite.is_relative_to(root) else suite
    target = str(suite.relative_to(base)) or "."
    out: list[tuple[str, bytes]] = []
    total = 0
    for rel in _listing(base):
        path = base / rel
        if not path.is_file() or path.is_symlink() or any(path == o or o in path.parents for o in outputs):
            continue
        data = path.read_bytes()
        total += len(data)
        if total > MAX_BYTES:
            raise ConfigError(f"the project at {base} is over {MAX_BYTES // 2**20} MB to copy into the runner.",
                              hint="point --suite at a folder outside the big files, or ignore them in git.")
        out.append((rel, data))
    return tuple(out), target


def _listing(base: Path) -> list[str]:
    try:
        done = subprocess.run(["git", "-C", str(base), "ls-files", "-co", "--exclude-standard", "-z"],
                              capture_output=True, check=False)
    except OSError:  # no git on this machine
        done = subprocess.CompletedProcess([], 1)
    if done.returncode == 0:
        return sorted({p for p in done.stdout.decode("utf-8", "surrogateescape").split("\0") if p})
    out = []
    for folder, dirs, names in os.walk(base):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        rel = Path(folder).relative_to(base)
        out += [str(rel / n) if str(rel) != "." else n for n in names if not n.endswith((".pyc", ".swp"))]
    return sorted(out)
