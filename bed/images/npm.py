"""Each agent version a run drives, as the npm tarball that carries it and its integrity hash.

A version the committed lock pins comes from the lock; any other is looked up in the npm registry
(the package's document, ``versions[v].dist.integrity``), once per build plan, with a bounded
timeout. A version npm does not have is a CONFIG_ERROR that names the nearest ones it has. The
result is ``agents.json``, the clients image's one generated file (see clients/fetch.py): its
content, so the image's tag, changes exactly when the version set does.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import httpx

from ..config import clients
from ..config.clients import AgentVersions, Artefact
from ..errors import ConfigError, ImageError

REGISTRY = "https://registry.npmjs.org"
TIMEOUT_S = 15.0
_RELEASE = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)")


class Registry(Protocol):
    """The npm registry's package documents: ``{version: {"dist": {"integrity": ...}, ...}}``."""

    def versions(self, package: str) -> Mapping[str, Mapping[str, Any]]: ...


class NpmRegistry:
    """The public registry over httpx; the abbreviated document (what npm install reads) is enough."""

    def __init__(self, base: str = REGISTRY, timeout_s: float = TIMEOUT_S) -> None:
        self.base = base.rstrip("/")
        self.timeout_s = timeout_s

    def versions(self, package: str) -> Mapping[str, Mapping[str, Any]]:
        url = f"{self.base}/{package.replace('/', '%2f')}"
        try:
            response = httpx.get(url, timeout=self.timeout_s,
                                 headers={"accept": "application/vnd.npm.install-v1+json"})
        except httpx.HTTPError as exc:
            raise ImageError(f"cannot reach the npm registry for {package} ({url}: {exc}).",
                             hint="check the network or proxy, or pick versions package-lock.json pins.") from None
        if response.status_code == 404:
            return {}
        if response.status_code != 200:
            raise ImageError(f"the npm registry answered {response.status_code} for {package} ({url}).",
                             hint="try again later, or pick versions package-lock.json pins.")
        try:
            found = response.json().get("versions")
        except ValueError:
            found = None
        if not isinstance(found, dict):
            raise ImageError(f"the npm registry's document for {package} has no versions ({url}).",
                             hint="try again later, or pick versions package-lock.json pins.")
        return found


@dataclasses.dataclass(frozen=True)
class Resolved:
    agent: str  # an agent name, or "node"
    version: str
    artefact: Artefact
    integrity: str
    source: str  # "lock" or "registry"

    def to_dict(self) -> dict[str, str]:
        return {"agent": self.agent, "version": self.version, "package": self.artefact.package,
                "package_version": self.artefact.package_version(self.version), "integrity": self.integrity,
                "kind": self.artefact.kind, "member": self.artefact.member, "command": self.artefact.command}


def resolve(versions: AgentVersions, registry: Registry | None) -> tuple[Resolved, ...]:
    """Node and every pick, with integrity; ``registry`` None: the lock only (a version it lacks
    is then an ImageError saying a lookup was needed)."""
    node = _from_lock("node", clients.locked()["node"], clients.NODE)
    assert node is not None  # the lock pins node with its integrity
    out = [node]
    documents: dict[str, Mapping[str, Mapping[str, Any]]] = {}
    for pick in versions.picks:
        artefact = clients.AGENTS[pick.agent]
        found = _from_lock(pick.agent, pick.version, artefact)
        if found is None:
            if registry is None:
                raise ImageError(f"{pick} is not in package-lock.json and no registry lookup was allowed here.",
                                 hint="run `bed images` to resolve it.")
            if artefact.package not in documents:
                documents[artefact.package] = registry.versions(artefact.package)
            found = _from_registry(pick.agent, pick.version, artefact, documents[artefact.package])
        out.append(found)
    return tuple(out)


def _from_lock(agent: str, version: str, artefact: Artefact) -> Resolved | None:
    entry = clients.lock_entry(agent, version)
    if entry is not None and isinstance(entry.get("integrity"), str):
        return Resolved(agent, version, artefact, str(entry["integrity"]), "lock")
    return None


def _from_registry(agent: str, version: str, artefact: Artefact,
                   document: Mapping[str, Mapping[str, Any]]) -> Resolved:
    entry = document.get(artefact.package_version(version))
    integrity = (entry or {}).get("dist", {}).get("integrity") if isinstance(entry, Mapping) else None
    if isinstance(integrity, str) and integrity.startswith("sha512-"):
        return Resolved(agent, version, artefact, integrity, "registry")
    have = [v.removesuffix(artefact.suffix) for v in document if v.endswith(artefact.suffix)]
    near = nearest(version, have)
    named = f"; nearest it has: {', '.join(near)}" if near else "; npm has no version of it"
    raise ConfigError(f"{agent} {version} is not on npm ({artefact.package}{named}).",
                      hint=f"pick one of those for {agent} in [tool.bed] agents or BED_AGENTS.")


def nearest(wanted: str, have: Iterable[str], n: int = 3) -> list[str]:
    """The released versions closest to ``wanted`` in npm's order: the one just below, the one just
    above, then the next below and above, and so on; in ascending order."""
    releases = sorted({v for v in have if _RELEASE.fullmatch(v)}, key=_key)
    below = [v for v in releases if _key(v) < _key(wanted)]
    above = [v for v in releases if _key(v) > _key(wanted)]
    picked: list[str] = []
    while len(picked) < n and (below or above):
        picked += [below.pop()] if below else []
        picked += [above.pop(0)] if above and len(picked) < n else []
    return sorted(picked, key=_key)


def _key(version: str) -> tuple[int, int, int]:
    match = _RELEASE.match(version)
    return (int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else (0, 0, 0)


def plan(resolved: Iterable[Resolved]) -> bytes:
    """``agents.json`` for clients/fetch.py (stable bytes: its hash is part of the image's tag)."""
    items = list(resolved)
    node = next(r for r in items if r.agent == "node")
    document = {"node": {"package": node.artefact.package, "version": node.version,
                         "package_version": node.version, "integrity": node.integrity},
                "agents": [r.to_dict() for r in items if r.agent != "node"]}
    return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode()
