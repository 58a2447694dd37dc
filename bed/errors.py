"""The error tree. Every failure a user can cause or meet ends as one of these.

    BedError                  (never raised itself)
     +-- ConfigError          exit 2  CONFIG_ERROR: bad environment, flags, bed.toml or router config
     +-- EngineError          exit 3  ENGINE_ERROR: no Docker engine, or it refused a call
     |    +-- ContainerGone           the container was removed under bed's feet (e.g. by a gc)
     +-- ImageError           exit 4  IMAGE_ERROR: an image could not be found, pulled or built
     +-- StackError           exit 5  STACK_ERROR: a container did not start, become healthy or answer
     |    +-- PortInUseError          a host port bed was told to use is taken
     +-- ArtifactError        exit 6  ARTIFACT_ERROR: a report or artifact could not be written

Other exit codes: 0 ready, 1 not ready (a check failed), 70 a bug in bed (see the log),
130 interrupted (SIGINT), 141 the output pipe closed, 143 terminated (SIGTERM).

Each error renders as one line: ``KIND: what failed. Hint: how to fix it.``; details such
as a container's last log lines follow on later lines when there are any. Errors of lower
libraries (docker and its transport) are translated into this tree at one boundary: bed/engine/docker.py.
"""

from __future__ import annotations

EXIT_READY = 0
EXIT_NOT_READY = 1
EXIT_BUG = 70
EXIT_PIPE = 141  # the output pipe closed (`bed env | head`), as for a shell tool killed by SIGPIPE
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT): 128 + the signal, as Interrupted.exit_code computes it
EXIT_TERMINATED = 143  # SIGTERM


class BedError(Exception):
    kind = "BED_ERROR"
    exit_code = 1

    def __init__(self, what: str, *, hint: str | None = None, details: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.hint = hint
        self.details = details

    def line(self) -> str:
        """The one line a user reads: what, then the fix."""
        hint = f" Hint: {self.hint}" if self.hint else ""
        return f"{self.kind}: {self.what}{hint}"


class ConfigError(BedError):
    """bad environment, flags, bed.toml / [tool.bed] or router config"""

    kind = "CONFIG_ERROR"
    exit_code = 2


class EngineError(BedError):
    """no Docker engine answers, or it refused a call"""

    kind = "ENGINE_ERROR"
    exit_code = 3


class ContainerGone(EngineError):
    """A container bed owns no longer exists: something else removed it."""


class ImageError(BedError):
    """an image could not be found, pulled or built"""

    kind = "IMAGE_ERROR"
    exit_code = 4


class StackError(BedError):
    """a container did not start, become healthy or answer"""

    kind = "STACK_ERROR"
    exit_code = 5


class PortInUseError(StackError):
    pass


class ArtifactError(BedError):
    """a report or artifact could not be written"""

    kind = "ARTIFACT_ERROR"
    exit_code = 6


def exit_codes() -> list[tuple[int, str]]:
    """Every exit code bed uses and what it means, in order: what `bed --help` lists."""
    kinds = [(k.exit_code, f"{k.kind}: {(k.__doc__ or '').strip()}") for k in
             (ConfigError, EngineError, ImageError, StackError, ArtifactError)]
    return sorted([(EXIT_READY, "READY (or the command did what it was asked)"),
                   (EXIT_NOT_READY, "NOT READY: a required check failed (compare: a gateway regressed)"),
                   *kinds, (EXIT_BUG, "BUG: bed failed unexpectedly (the message names the traceback's file)"),
                   (EXIT_INTERRUPTED, "interrupted (Ctrl-C): everything started was removed first"),
                   (EXIT_TERMINATED, "terminated (SIGTERM): everything started was removed first"),
                   (EXIT_PIPE, "the output pipe closed (`bed env | head`)")])


class Interrupted(BaseException):
    """Raised from the SIGINT/SIGTERM handler so every owner unwinds and tears down."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum
