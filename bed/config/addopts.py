"""PYTEST_ADDOPTS, checked before anything starts, as the runner's pytest would read it.

pytest splits the variable with ``shlex`` and parses it with argparse; a quote left open is a
traceback from inside the runner, an option it does not have a usage error, each only after the
stack has started. Both are a CONFIG_ERROR here instead: the split is the same ``shlex.split``,
and the options are parsed by argparse against the table of every option the runner's pytest
and its plugins accept (``pytest_options.py``, generated in the runner image).

A project's suite (``--suite``) can add options of its own (a conftest's ``pytest_addoption``, a
plugin among its requirements), and so can ``-p PLUGIN``; those only the runner's pytest can
know without running the suite's code, so their options are left to it there (a usage error is
then the tier's CAUSE, with pytest's own line).
"""

from __future__ import annotations

import argparse
import difflib
import shlex

from ..errors import ConfigError
from .pytest_options import OPTIONS, PYTEST

WHERE = "PYTEST_ADDOPTS"


def check(raw: str, *, suite: bool) -> str:
    """``raw`` when the runner's pytest can parse it; else one CONFIG_ERROR naming the problem."""
    try:
        words = shlex.split(raw)
    except ValueError as exc:
        raise ConfigError(f"{WHERE}={raw!r} cannot be split into arguments as pytest splits it ({exc}).",
                          hint=f"balance its quotes, like {WHERE}=\"-k 'not slow'\".") from None
    if suite or any(w == "-p" or (w.startswith("-p") and not w.startswith("--")) for w in words):
        return raw  # options of the suite's own conftests and plugins: pytest in the runner knows them
    try:
        _, rest = _parser().parse_known_args(words)
    except argparse.ArgumentError as exc:
        raise ConfigError(f"{WHERE}={raw!r}: {exc}.", hint="give the option its value, or leave it out.") from None
    unknown = next((w for w in rest if w.startswith("-") and w != "--"), None)
    if unknown is not None:
        name = unknown.split("=", 1)[0]
        near = difflib.get_close_matches(name, OPTIONS, n=1)
        maybe = f"did you mean {near[0]}? " if near else ""
        raise ConfigError(f"{WHERE} names {name}, an option the runner's pytest {PYTEST} does not have.",
                          hint=f"{maybe}`python -m pytest --help` lists them; set {WHERE} to pytest options only.")
    return raw


def _parser() -> argparse.ArgumentParser:
    """argparse as pytest builds it (no abbreviations), from the table; every option a dest of its own."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    for index, (name, nargs) in enumerate(OPTIONS.items()):
        if nargs == 0:
            parser.add_argument(name, dest=f"o{index}", action="store_const", const=True)
        else:
            parser.add_argument(name, dest=f"o{index}", nargs=None if nargs == 1 else nargs)
    parser.add_argument("file_or_dir", nargs="*")
    return parser
