"""Safe readers: the one way bed reads a file a user names, and the working folder it runs in.

A path a user gives (a router config, a flake store, a requirements file, a CA bundle, a report,
a project file) may name anything: a FIFO, whose ``open`` blocks until a writer comes (forever);
``/dev/zero``, which never ends; a folder; a socket; a 1 GB file. So every such read goes
through ``read_bounded``: ``os.stat`` first (a regular file, and its size within the limit,
before a byte is read), then ``open`` with ``O_NONBLOCK`` (should the path have become a FIFO
since the stat, the open returns at once and ``fstat`` refuses it), then at most ``limit + 1``
bytes. Each refusal is one CONFIG_ERROR line naming the file, what it is and the fix.

``SizeBudget`` does the same for many files that share one total (the suite copied into the
runner): each file's size is checked against what is left before it is read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ..errors import ConfigError

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def kind(mode: int) -> str | None:
    """What a non-regular file is ("a FIFO (named pipe)", ...); None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def size(count: int) -> str:
    """A byte count as a person reads it: 8 MB, 1024 KB, 300 bytes."""
    if count >= 2**20 and count % 2**20 == 0:
        return f"{count // 2**20} MB"
    if count >= 2**10:
        return f"{count // 2**10} KB"
    return f"{count} bytes"


def regular_file(path: Path, what: str, *, hint: str) -> os.stat_result:
    """``path``'s stat when it is a regular file bed may read (symlinks followed); else ConfigError."""
    try:
        found = os.stat(path)
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {_reason(exc)}.", hint=hint) from None
    other = kind(found.st_mode)
    if other is not None:
        raise ConfigError(f"{what} {path} is {other}, not a regular file.", hint=hint)
    return found


def read_bounded(path: Path, limit: int, what: str, *, hint: str, too_big: str | None = None) -> bytes:
    """A regular file's bytes, refused (one CONFIG_ERROR) when it is not a regular file or is
    over ``limit`` bytes: decided from its stat, before anything is read, and never blocking."""
    found = regular_file(path, what, hint=hint)
    if found.st_size > limit:
        raise _too_big(path, what, limit, found.st_size, too_big or hint)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {_reason(exc)}.", hint=hint) from None
    with os.fdopen(fd, "rb") as handle:
        other = kind(os.fstat(fd).st_mode)
        if other is not None:  # swapped for a FIFO or a device since the stat: refused all the same
            raise ConfigError(f"{what} {path} is {other}, not a regular file.", hint=hint)
        try:
            raw = handle.read(limit + 1)
        except OSError as exc:
            raise ConfigError(f"cannot read {what} {path}: {_reason(exc)}.", hint=hint) from None
    if len(raw) > limit:  # it grew since the stat
        raise _too_big(path, what, limit, len(raw), too_big or hint)
    return raw


def read_text(path: Path, limit: int, what: str, *, hint: str, too_big: str | None = None) -> str:
    """``read_bounded``, decoded as UTF-8 (anything else is one CONFIG_ERROR naming the byte)."""
    raw = read_bounded(path, limit, what, hint=hint, too_big=too_big)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} {path} is not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x}).",
                          hint="save the file as UTF-8.") from None


class SizeBudget:
    """Many files read against one total (``limit`` bytes): each file's size is checked, from its
    stat, against what is left before it is read, so an over-size file fails at once and costs no
    memory (a 1 GB file in a suite used to be read whole, 1.09 GB peak, before the total refused it)."""

    def __init__(self, limit: int, what: str, *, hint: str) -> None:
        self.limit, self.what, self.hint = limit, what, hint
        self.used = 0

    @property
    def left(self) -> int:
        return self.limit - self.used

    def read(self, path: Path) -> bytes:
        """``path``'s bytes, counted against the total; one CONFIG_ERROR when it would go over."""
        found = regular_file(path, "file", hint=self.hint)
        if found.st_size > self.left:
            raise self._over(path, found.st_size)
        try:
            data = read_bounded(path, self.left, "file", hint=self.hint)
        except _TooBig:  # it grew past what is left since the stat
            raise self._over(path, max(found.st_size, self.left + 1)) from None
        self.used += len(data)
        return data

    def _over(self, path: Path, count: int) -> ConfigError:
        return ConfigError(f"{self.what} is over {size(self.limit)}: {path} alone is {size(count)}, "
                           f"with {size(self.used)} already taken.", hint=self.hint)


def working_folder() -> Path:
    """The working folder, when bed can use it: it reads ``pyproject.toml`` and ``.artifacts/``
    there and writes its reports there. A folder the user cannot search or read (``sudo -u
    nobody`` in root's home, ``chmod 000``), or one deleted under the shell, is one CONFIG_ERROR."""
    hint = "cd to a folder you own (or run bed as the user who owns this one), then run bed again."
    try:
        here = Path.cwd()
    except OSError as exc:
        raise ConfigError(f"the working folder is gone ({_reason(exc)}).", hint=hint) from None
    try:
        os.stat(here / "pyproject.toml")
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ConfigError(f"cannot search the working folder {here} ({_reason(exc)}): bed reads its project "
                          "file and writes its reports there.", hint=hint) from None
    try:
        with os.scandir(here) as entries:
            next(entries, None)
    except OSError as exc:
        raise ConfigError(f"cannot read the working folder {here} ({_reason(exc)}): bed lists it to find the "
                          "project's files.", hint=hint) from None
    return here


class _TooBig(ConfigError):
    """A file over what bed reads (apart from a file it cannot read at all)."""


def _too_big(path: Path, what: str, limit: int, count: int, hint: str) -> ConfigError:
    return _TooBig(f"{what} {path} is {size(count)}, over the {size(limit)} bed reads.", hint=hint)


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "no such file or folder"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)
