"""One base for the mini-agent: normalised, resolved once, seen from the host and the network.

The shim always listens on ``http://mini-agent:8788/v1`` inside the bed network; that is the
*network* base every container uses. The host reaches it through a port published on
127.0.0.1: the *host* base. ``MINI_AGENT_API_BASE`` may name either form; bed rewrites one
into the other, and ``CODEX_AGENT_API_BASE`` is forced to the same value.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import urllib.parse
from collections.abc import Mapping

from ..errors import ConfigError

SHIM_ALIAS = "mini-agent"
SHIM_PORT = 8788
NETWORK_BASE = f"http://{SHIM_ALIAS}:{SHIM_PORT}/v1"
# 0.0.0.0 is a listening address; as a base a user means "this machine" by it.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1"})  # noqa: S104


@dataclasses.dataclass(frozen=True)
class Bases:
    network: str  # what containers on the bed network use
    host_port: int | None  # the host port to publish the shim on; None: any free port
    source: str  # which variable (or default) the base came from
    given: str | None  # the raw value, as the user typed it
    warnings: tuple[str, ...] = ()

    def host(self, published_port: int) -> str:
        return f"http://127.0.0.1:{published_port}/v1"


def normalise(raw: str) -> tuple[str, list[str]]:
    """A canonical ``scheme://host:port/v1`` form of a base URL, and what was changed.

    Raises ConfigError for values that cannot be a base at all.
    """
    warnings: list[str] = []
    value = raw.strip()
    shown = _safe(raw)
    if not value:
        raise ConfigError("the base URL is empty.", hint="set it like http://127.0.0.1:8788, or unset it.")
    if "://" not in value:
        warnings.append(f"{shown!r} has no scheme; using http://")
        value = "http://" + value
    parts = urllib.parse.urlsplit(value)
    host, port = _checked(parts, shown)
    if host in LOOPBACK_NAMES and host != "127.0.0.1":
        why = {"localhost": "avoids IPv6-first resolution",
               "0.0.0.0": "a listening address; as a base it means this machine"}.get(  # noqa: S104
            host, "bed publishes the shim on IPv4 loopback only")
        warnings.append(f"{host} rewritten to 127.0.0.1 ({why})")
        host = "127.0.0.1"
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        path = path + "/v1"
    bracketed = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{bracketed}:{port}{path}", warnings


def _one_base(mini: str | None, codex: str | None, base: str, *, strict: bool) -> list[str]:
    """The two variables name one base: what was forced to make it so (a CONFIG_ERROR under STRICT)."""
    if mini is None:
        return ["MINI_AGENT_API_BASE is unset; taking CODEX_AGENT_API_BASE as the one base"]
    if codex is None or normalise(codex)[0] == base:
        return []
    if strict:
        raise ConfigError(f"MINI_AGENT_API_BASE={mini} and CODEX_AGENT_API_BASE={codex} name different bases.",
                          hint="export CODEX_AGENT_API_BASE=$MINI_AGENT_API_BASE (STRICT=1 refuses to pick one).")
    return [f"CODEX_AGENT_API_BASE={codex} differs from MINI_AGENT_API_BASE; forced to {base}"]


def _checked(parts: urllib.parse.SplitResult, shown: str) -> tuple[str, int | None]:
    """The host and port of a base that can be one; a ConfigError naming what cannot."""
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"base {shown!r} has scheme {parts.scheme!r}.", hint="use http:// or https://.")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ConfigError(f"base {shown!r} has a port that is not a number from 1 to 65535.",
                          hint="write it like http://127.0.0.1:8788.") from None
    if not host:
        raise ConfigError(f"base {shown!r} has no host.", hint="write it like http://127.0.0.1:8788.")
    if parts.username is not None or parts.password is not None:
        # A password here would be printed and stored in every report; the shim needs none.
        raise ConfigError("the base URL carries credentials (user:password@); bed refuses to store or print them.",
                          hint="drop the user:password@ part: the shim needs no credentials.")
    if port == 0:
        raise ConfigError(f"base {shown!r} has port 0, which is not a port.",
                          hint="give a port from 1 to 65535, or leave the port out to let bed pick a free one.")
    if parts.query or parts.fragment:
        raise ConfigError(f"base {shown!r} has a query or fragment.", hint="give only scheme, host, port and path.")
    return host, port


def resolve(environ: Mapping[str, str], *, strict: bool, group: str, port: int | None = None) -> Bases:
    """Resolve MINI_AGENT_API_BASE (and CODEX_AGENT_API_BASE) into the run's one base.

    ``port``: your agent's port on the bed network, when it stands in for the shim.
    """
    if port is not None and port != SHIM_PORT:
        resolved = resolve(environ, strict=strict, group=group)
        return dataclasses.replace(resolved, network=f"http://{SHIM_ALIAS}:{port}/v1")
    mini = environ.get("MINI_AGENT_API_BASE")
    codex = environ.get("CODEX_AGENT_API_BASE")
    warnings: list[str] = []
    if mini is None and codex is None:
        return Bases(network=NETWORK_BASE, host_port=None, source="default", given=None)
    source, raw = ("MINI_AGENT_API_BASE", mini) if mini is not None else ("CODEX_AGENT_API_BASE", codex)
    assert raw is not None
    base, notes = normalise(raw)
    warnings += [f"{source}: {n}" for n in notes]
    warnings += _one_base(mini, codex, base, strict=strict)
    host = urllib.parse.urlsplit(base).hostname or ""
    port = urllib.parse.urlsplit(base).port
    if host == group or host.startswith("codex-agent"):
        raise ConfigError(
            f"{source}={raw} puts the model group {host!r} where a host name belongs; "
            "that is what turns into 'Name or service not known'.",
            hint=f"set {source}=http://127.0.0.1:{SHIM_PORT} and call the group by model name.",
        )
    if host == SHIM_ALIAS:
        if port != SHIM_PORT:
            raise ConfigError(f"{source}={raw}: the shim listens on port {SHIM_PORT} in the bed network.",
                              hint=f"use {NETWORK_BASE}.")
        return Bases(NETWORK_BASE, None, source, raw, tuple(warnings))
    if not _is_loopback(host):
        raise ConfigError(
            f"{source}={raw} points away from this machine; bed runs its own mini-agent shim.",
            hint=f"use http://127.0.0.1:PORT (published on the host) or {NETWORK_BASE}.",
        )
    return Bases(NETWORK_BASE, port, source, raw, tuple(warnings))


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _safe(raw: str) -> str:
    """A base as it may be shown: any user:password@ part masked."""
    return re.sub(r"//[^/@]*@", "//***@", raw)
