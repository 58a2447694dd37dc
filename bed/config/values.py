"""Strict parsers for configuration values: each returns a typed value or raises ConfigError.

Numbers are ASCII digits only (``str.isdigit`` accepts superscripts, which ``int`` then
rejects), seconds are finite, memory sizes have the engine's minimum. ``where`` names the
value as the user wrote it ("BED_WAIT_TIMEOUT", "[tool.bed] wait_timeout", "--shard"), and
every hint gives that value's own default.
"""

from __future__ import annotations

import math
import re

from ..errors import ConfigError

_INT = re.compile(r"[0-9]+")
_FLOAT = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")
_MEMORY = re.compile(r"([0-9]+)([bkmg]?)")
_UNIT = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
MIN_MEMORY_BYTES = 6 * 1024**2  # the engine refuses smaller limits
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
TRUE = ("1", "true", "yes", "on")
FALSE = ("", "0", "false", "no", "off")


def switch(where: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in FALSE:
        return False
    if text in TRUE:
        return True
    raise ConfigError(f"{where}={raw!r} is not a switch.", hint=f"set {where} to 1 or 0.")


def count(where: str, raw: object, *, default: int, minimum: int = 1) -> int:
    text = str(raw).strip() if not isinstance(raw, bool) else ""
    if not _INT.fullmatch(text) or int(text) < minimum:
        raise ConfigError(f"{where}={raw!r} is not a whole number of at least {minimum}.",
                          hint=f"write it with the digits 0-9, like {default} (the default).")
    return int(text)


def seconds(where: str, raw: object, *, default: float) -> float:
    text = str(raw).strip() if not isinstance(raw, bool) else ""
    value = float(text) if _FLOAT.fullmatch(text) else math.nan
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{where}={raw!r} is not a positive, finite number of seconds.",
                          hint=f"write it like {default:g} (the default).")
    return value


def memory(where: str, raw: object, *, default: str) -> str:
    text = str(raw).strip().lower()
    match = _MEMORY.fullmatch(text)
    if match is None:
        raise ConfigError(f"{where}={raw!r} is not a memory size.",
                          hint=f"write it like 512m or 2g (digits, then b, k, m or g; default {default}).")
    size = int(match.group(1)) * _UNIT[match.group(2) or "b"]
    if size < MIN_MEMORY_BYTES:
        raise ConfigError(f"{where}={raw!r} is below the engine's minimum of 6m.",
                          hint=f"give at least 6m; the tiers need about 512m ({default} is the default).")
    return text


def name(where: str, raw: object, *, example: str) -> str:
    """A model group, service or similar name: ASCII letters, digits, '.', '_' and '-'."""
    text = str(raw)
    if not _NAME.fullmatch(text):
        raise ConfigError(f"{where}={raw!r} is not a usable name.",
                          hint=f"use ASCII letters, digits, '.', '_' or '-' (at most 64), like {example}.")
    return text


def words(where: str, raw: object, *, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """A comma list (or a TOML list) of names from ``allowed``."""
    items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    out = tuple(dict.fromkeys(str(x).strip() for x in items if str(x).strip()))
    for item in out:
        if item not in allowed:
            raise ConfigError(f"{where} names {item!r}, which bed does not know.",
                              hint=f"use a comma list of: {', '.join(allowed)}.")
    return out


def patterns(where: str, raw: object) -> tuple[str, ...]:
    """A comma list (or a TOML list) of glob patterns, such as ``data/*,*.parquet``."""
    items = raw if isinstance(raw, list | tuple) else text(where, raw).split(",")
    out = tuple(dict.fromkeys(str(x).strip() for x in items if str(x).strip()))
    for item in out:
        if item in ("*", "**", ".") or item.startswith("/") or ".." in item.split("/"):
            raise ConfigError(f"{where} pattern {item!r} would leave out the whole suite or reach outside it.",
                              hint="name folders or files of the project, like data/* or *.parquet.")
    return out


def text(where: str, raw: object) -> str:
    if not isinstance(raw, str):
        raise ConfigError(f"{where}={raw!r} is not a string.", hint=f'quote it: {where.split()[-1]} = "..."')
    return raw


def path_value(where: str, raw: object) -> str:
    value = text(where, raw).strip()
    if not value:
        raise ConfigError(f"{where} is empty.", hint="give a path, or leave the setting out.")
    if "\x00" in value:
        raise ConfigError(f"{where} contains a NUL byte.", hint="give a plain path.")
    return value
