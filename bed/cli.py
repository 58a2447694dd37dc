"""The command line: one module per sub-command (bed/commands/), each returning an exit code.

``main()`` wraps them in one error handler: a BedError prints its one line (and details) on
stderr and exits with its code; bad flags are a CONFIG_ERROR line too (never argparse's usage
dump); Ctrl-C exits 130, SIGTERM 143; anything else is a bug in bed, reported with where the
traceback was written, exit 70. Words after ``--`` go to the command that passes them on
(``bed run -- -k chat``: pytest's arguments for the tiers' sessions).
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
from .console import COLORS, Console
from .errors import EXIT_BUG, EXIT_INTERRUPTED, EXIT_PIPE, BedError, ConfigError, Interrupted, exit_codes
from .redact import Redactor

COMMANDS: dict[str, ModuleType] = {
    "run": run, "up": up, "down": down, "gc": gc, "images": images, "repro": repro, "doctor": doctor,
    "bench": bench, "compose": compose, "env": env, "init": init, "compare": compare,
}
COLOR_HELP = "colour the verdict, CAUSE lines, error kinds and banners: auto (a terminal, unless NO_COLOR; " \
             "FORCE_COLOR forces it), always or never"


def _epilog() -> str:
    codes = "\n".join(f"  {code:>3}  {meaning}" for code, meaning in exit_codes())
    return (
        "output:\n"
        "  stdout holds what a command found (the summary, CAUSE and VERDICT lines, `bed env`, `bed up --env`);\n"
        "  stderr holds what bed is doing (step lines, the tiers' live output, banners) and every error.\n"
        "  `bed run 2>/dev/null` shows only the results; `bed run > out.txt` keeps them in a file.\n\n"
        f"exit codes:\n{codes}\n\n"
        "docs/cli.md has the details; `bed COMMAND --help` the options of each command."
    )


class _Parser(argparse.ArgumentParser):
    """argparse that raises bed's one-line CONFIG_ERROR instead of printing usage and exiting 2."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"{self.prog}: {message}.", hint=f"`{self.prog} --help` lists the options.")


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="bed", description="A Dockerized readiness test-bed for a LiteLLM gateway.",
                  epilog=_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    top.add_argument("--version", action="version", version=f"bed {__version__}")
    top.add_argument("--color", choices=COLORS, help=COLOR_HELP)
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name, module in COMMANDS.items():
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        # also after the command (`bed run --color never`); SUPPRESS keeps a top-level choice
        command.add_argument("--color", choices=COLORS, default=argparse.SUPPRESS, help=COLOR_HELP)
        command.set_defaults(handler=module.run)
    return top


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = dict(os.environ if environ is None else environ)
    words = list(sys.argv[1:] if argv is None else argv)
    console = Console(redact=Redactor.from_env(environ))
    console.use_color(_color_word(words), environ)  # before parsing: a bad flag's error is painted too
    try:
        args = _parse(words)
        console.use_color(args.color, environ)
        paths.working_folder()  # every command reads the project file and writes here: said once, up front
        with signals.interruptible():
            code: int = args.handler(args, environ, console)
        return code
    except BedError as exc:
        console.error(exc.line())
        if exc.details:
            console.note(exc.details)
        return exc.exit_code
    except Interrupted as exc:
        console.error(f"INTERRUPTED: signal {exc.signum}; everything this run started has been removed.")
        return exc.exit_code
    except KeyboardInterrupt:
        console.error("INTERRUPTED: Ctrl-C; everything this run started has been removed.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `bed env | head`: the reader left; nothing is wrong with bed
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE
    except Exception:  # a bug in bed: say where the traceback went, not the traceback itself
        log = _crash_log(console.redact(traceback.format_exc()))
        console.error(f"BUG: bed failed unexpectedly; the traceback is in {log}. Please report it.")
        return EXIT_BUG


def _parse(words: list[str]) -> argparse.Namespace:
    """The flags; words after the first ``--`` go to a command that passes them on, as ``pytest_args``."""
    rest: list[str] | None = None
    if "--" in words:
        cut = words.index("--")
        words, rest = words[:cut], words[cut + 1:]
    args = parser().parse_args(words)
    if rest is not None and not getattr(args, "passes_args", False):
        raise ConfigError(f"bed {args.command} takes no arguments after `--` ({' '.join(rest) or 'none given'}).",
                          hint="only `bed run -- PYTEST_ARGS` passes arguments on (to pytest in the tiers).")
    args.pytest_args = tuple(rest or ())
    if not hasattr(args, "color"):
        args.color = None
    return args


def _color_word(words: list[str]) -> str | None:
    """``--color X`` / ``--color=X`` in the words before ``--``, read before argparse (which may refuse them)."""
    words = words[:words.index("--")] if "--" in words else words
    for i, word in enumerate(words):
        value = word.partition("=")[2] if word.startswith("--color=") else (
            words[i + 1] if word == "--color" and i + 1 < len(words) else None)
        if value in COLORS:
            return value
    return None


def _crash_log(text: str) -> Path:
    """A new file per crash (never two crashes in one file, however close in time)."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    fd, name = tempfile.mkstemp(prefix=f"bed-crash-{stamp}-", suffix=".log")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return Path(name)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
