"""The gateways a compare runs against: parsed the way ``litellm`` is, checked before anything
starts (a fork's checkout is read now, so a bad path is a CONFIG_ERROR, not a broken leg),
each with a name for people and a folder name. Or one gateway and several agent version sets
(``agents``, as BED_AGENTS takes them): a leg per set, the same regression rules.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path

from ..config import clients
from ..config.gateway import Gateway, checkout
from ..errors import ConfigError


@dataclasses.dataclass(frozen=True)
class Wanted:
    """One gateway to compare."""

    gateway: Gateway  # as parsed (what the leg's Config gets)
    spec: str  # the BED_LITELLM form: 1.100.5, path:/abs/dir, image:ref (a leg's report records it)
    name: str  # how the comparison names it: the release, the image, or <folder>@<commit>
    commit: str = ""  # a fork's HEAD, read when it was named
    agents: str = ""  # the leg's agent versions (BED_AGENTS), when a compare varies those instead

    @property
    def slug(self) -> str:
        """The leg's folder name."""
        return re.sub(r"[^A-Za-z0-9._@+-]+", "_", self.name).strip("._") or "gateway"


def spec_of(gateway: Gateway) -> str:
    """The environment form of a gateway (``BED_LITELLM``). A fork's explicit ``base`` has no text
    form: the leg still builds on it, but its report's repro record re-reads it from the fork."""
    return {"release": gateway.value, "path": f"path:{gateway.value}", "image": f"image:{gateway.value}"}[gateway.kind]


def wanted(raw: object, *, root: Path, where: str) -> Wanted:
    """One gateway, named as ``litellm`` / ``BED_LITELLM`` / ``--litellm`` takes it."""
    gateway = Gateway.parse(raw, root=root, where=where)
    if gateway.kind == "release":
        return Wanted(gateway, spec_of(gateway), gateway.value)
    if gateway.kind == "image":
        return Wanted(gateway, spec_of(gateway), gateway.value)
    read = checkout(gateway).gateway  # a CONFIG_ERROR now when it is not a git checkout of litellm
    name = f"{Path(gateway.value).name}@{read.commit[:8] or 'no-commit'}{'+dirty' if read.dirty else ''}"
    return Wanted(gateway, spec_of(gateway), name, read.commit)


def wanted_all(raws: Sequence[object], *, root: Path, where: str, at_least: int = 2) -> list[Wanted]:
    """Every gateway, in the order given; fewer than ``at_least`` or one named twice is a CONFIG_ERROR."""
    if len(raws) < at_least:
        raise ConfigError(f"bed compare needs at least {at_least} gateways; {where} names {len(raws)}.",
                          hint='name them earlier first: bed compare --litellm 1.100.5 --litellm 1.108.7 '
                               '(or [tool.bed.compare] litellm = ["1.100.5", "1.108.7"]).')
    found = [wanted(raw, root=root, where=f"{where}[{i}]") for i, raw in enumerate(raws)]
    seen: dict[str, int] = {}
    for i, one in enumerate(found):
        if one.slug in seen:
            raise ConfigError(f"{where} names the gateway {one.name} twice (entries {seen[one.slug]} and {i}).",
                              hint="name each gateway once; a compare shows what changes from one to the next.")
        seen[one.slug] = i
    return found


def agent_legs(raws: Sequence[object], gateway: Wanted, *, where: str) -> list[Wanted]:
    """One gateway, a leg per agent version set (each as BED_AGENTS takes it), in the order given;
    each set checked now, and named by the versions it picks."""
    found = []
    for i, raw in enumerate(raws):
        text = str(raw).strip()
        picked = clients.parse(f"{where}[{i}]", text)
        found.append(dataclasses.replace(gateway, name=f"{gateway.name} {text.replace(' ', '')}", agents=picked.spec))
    names = [one.slug for one in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice or len(found) < 2:
        raise ConfigError(f"{where} must name at least 2 different agent version sets; it names {len(found)}"
                          + (f" ({', '.join(twice)} twice)" if twice else "") + ".",
                          hint="bed compare --agents claude-code@2.1.300 --agents claude-code@2.1.328")
    return found
