"""The base image: found, pulled, or bootstrapped offline with debootstrap when no registry answers."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from ..config.settings import DEFAULT_BASE_IMAGE
from ..console import Console
from ..engine.protocol import Engine
from ..errors import ImageError
from ..exec import Exec, Local

# "-lean": the rootfs is pruned before import (see PRUNED); a machine that still holds the
# unpruned "bed-base:bookworm" of an older bed bootstraps this one once and stops using it.
OFFLINE_BASE = "bed-base:bookworm-lean"
# What debootstrap leaves that no bed image reads, about 140 MB of the 287 MB python image: the
# downloaded .debs and apt's package caches (an image that installs packages runs apt-get update
# first), and docs, man pages and translations (debian:bookworm-slim leaves them out too).
# locale.alias stays: glibc reads it.
PRUNED = ("var/cache/apt/archives/*.deb", "var/cache/apt/*.bin", "var/lib/apt/lists/*_*",
          "usr/share/doc/*", "usr/share/man/*", "usr/share/info/*", "usr/share/locale/*")
KEPT = frozenset({"locale.alias"})


def base_image(engine: Engine, wanted: str, console: Console) -> tuple[str, str]:
    """The base image's name and id: found locally, pulled, or bootstrapped offline."""
    found = engine.image(wanted)
    if found is not None:
        return wanted, found.id
    if wanted == DEFAULT_BASE_IMAGE:
        offline = engine.image(OFFLINE_BASE)
        if offline is not None:
            return OFFLINE_BASE, offline.id
    console.step(f"pulling base image {wanted}")
    try:
        return wanted, engine.pull(wanted).id
    except ImageError as exc:
        why = exc.what
    if wanted != DEFAULT_BASE_IMAGE:
        raise ImageError(f"base image {wanted} is not on this engine and cannot be pulled ({why[:120]}).",
                         hint=f"`docker load` it, or unset BED_BASE_IMAGE to use {DEFAULT_BASE_IMAGE} "
                              "(bootstrapped offline when no registry answers).")
    console.banner("NO REGISTRY: bootstrapping an offline Debian base", [
        f"could not pull {wanted}: {why[:100]}",
        f"building {OFFLINE_BASE} with debootstrap from the host's Debian mirror (about 30 s, once)",
    ])
    return OFFLINE_BASE, bootstrap(engine, console)


def known_base(engine: Engine, wanted: str) -> str | None:
    """The base image's id when it is already on the engine (no pull, no bootstrap)."""
    found = engine.image(wanted)
    if found is None and wanted == DEFAULT_BASE_IMAGE:
        found = engine.image(OFFLINE_BASE)
    return found.id if found else None


def bootstrap(engine: Engine, console: Console, run: Exec | None = None) -> str:
    """Build ``bed-base:bookworm`` offline: debootstrap a minbase rootfs, then import it."""
    tool = shutil.which("debootstrap") or shutil.which("/usr/sbin/debootstrap")
    if tool is None:
        raise ImageError("no base image can be pulled and debootstrap is not installed to build one.",
                         hint="apt-get install -y debootstrap (then re-run), or `docker load` a Debian "
                              "bookworm image and set BED_BASE_IMAGE to it.")
    if os.geteuid() != 0:
        raise ImageError("no base image can be pulled and debootstrap needs root to build one.",
                         hint="run `sudo .venv/bin/python -m bed images` once, or `docker load` a Debian "
                              "bookworm image and set BED_BASE_IMAGE to it.")
    mirror = apt_mirror()
    with tempfile.TemporaryDirectory(prefix="bed-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        argv = [tool, "--variant=minbase", "--include=python3,python3-venv", "bookworm", str(rootfs), mirror]
        console.step(f"$ {' '.join(argv)}")
        run = run or Local()
        run.stream(argv, lambda line: console.stream("debootstrap", line), timeout=1800, error=ImageError,
                   hint=f"check that the mirror {mirror} answers (apt-get update), or `docker load` a Debian "
                        "bookworm image and set BED_BASE_IMAGE.")
        freed = prune(rootfs)
        console.step(f"pruned {freed / 1e6:.0f} MB of apt caches, docs and translations from the rootfs")
        archive = Path(tmp) / "rootfs.tar"
        run.capture(["tar", "-C", str(rootfs), "-cf", str(archive), "."], timeout=600, error=ImageError,
                    hint="check the free disk space of the temporary folder (TMPDIR).")
        repository, tag = OFFLINE_BASE.split(":")
        engine.import_rootfs(str(archive), repository, tag)
    image = engine.image(OFFLINE_BASE)
    if image is None:
        raise ImageError(f"importing {OFFLINE_BASE} did not produce an image.",
                         hint="check the engine's log and free disk space.")
    console.step(f"bootstrapped {OFFLINE_BASE} ({image.size_mb:.0f} MB)")
    return image.id


def prune(rootfs: Path) -> int:
    """Remove PRUNED from a bootstrapped rootfs; the bytes freed."""
    freed = 0
    for pattern in PRUNED:
        for path in rootfs.glob(pattern):
            if path.name in KEPT:
                continue
            if path.is_symlink() or path.is_file():
                freed += path.lstat().st_size
                path.unlink()
            elif path.is_dir():
                freed += sum(f.lstat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
                shutil.rmtree(path)
    return freed


def apt_mirror(sources: tuple[Path, ...] = (Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list"))) -> str:
    """The host's Debian mirror, from its apt sources (deb822 or one-line form)."""
    files: list[Path] = []
    for source in sources:
        if source.is_dir():
            files += sorted(source.glob("*.sources")) + sorted(source.glob("*.list"))
        elif source.is_file():
            files.append(source)
    for file in files:
        for match in re.finditer(r"^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+)", file.read_text(), re.MULTILINE):
            uri = match.group(1)
            if uri.startswith("http") and "security" not in uri:
                return uri
    return "http://deb.debian.org/debian"
