"""The command line: one module per sub-command (bed/commands/), each returning an exit code.

``main()`` wraps them in one error handler: a BedError prints its one line (and details) and
exits with its code; bad flags are a CONFIG_ERROR line too (never argparse's usage dump);
Ctrl-C exits 130, SIGTERM 143; anything else is a bug in bed, reported with where the
traceback was written, exit 70.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from . import __version__, signals
from .commands import bench, compare, compose, doctor, down, env, gc, images, init, repro, run, up
from .config import paths
from .console import Console
from .errors import EXIT_BUG, EXIT_PIPE, BedError, ConfigError, Interrupted
from .redact import Redactor

COMMANDS: dict[str, ModuleType] = {
    "run": run, "up": up, "down": down, "gc": gc, "images": images, "repro": repro, "doctor": doctor,
    "bench": bench, "compose": compose, "env": env, "init": init, "compare": compare,
}


class _Parser(argparse.ArgumentParser):
    """argparse that raises bed's one-line CONFIG_ERROR instead of printing usage and exiting 2."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{self.prog}: {message}.", hint=f"`{self.prog} --help` lists the options.")


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="bed", description="A Dockerized readiness test-bed for a LiteLLM gateway.")
    top.add_argument("--version", action="version", version=f"bed {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name, module in COMMANDS.items():
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(handler=module.run)
    return top


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = dict(os.environ if environ is None else environ)
    console = Console(redact=Redactor.from_env(environ))
    try:
        args = parser().parse_args(argv)
        paths.working_folder()  # every command reads the project file and writes here: said once, up front
        with signals.interruptible():
            code: int = args.handler(args, environ, console)
        return code
    except BedError as exc:
        console.plain(exc.line())
        if exc.details:
            console.plain(exc.details)
        return exc.exit_code
    except Interrupted as exc:
        console.plain(f"INTERRUPTED: signal {exc.signum}; everything this run started has been removed.")
        return exc.exit_code
    except KeyboardInterrupt:
        console.plain("INTERRUPTED: Ctrl-C; everything this run started has been removed.")
        return 130
    except BrokenPipeError:  # `bed env | head`: the reader left; nothing is wrong with bed
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE
    except Exception:  # a bug in bed: say where the traceback went, not the traceback itself
        log = _crash_log(console.redact(traceback.format_exc()))
        console.plain(f"BUG: bed failed unexpectedly; the traceback is in {log}. Please report it.")
        return EXIT_BUG


def _crash_log(text: str) -> Path:
    """A new file per crash (never two crashes in one file, however close in time)."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    fd, name = tempfile.mkstemp(prefix=f"bed-crash-{stamp}-", suffix=".log")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return Path(name)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
