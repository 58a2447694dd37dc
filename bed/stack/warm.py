"""The warm runners of a kept stack: the dev loop's answer to paying for imports every run.

`bed up` starts one runner per kind of session below, each running ``bed_warm serve``: it
imports pytest and the heavy libraries once, then forks a fresh pytest session for every tier
`bed run --reuse` sends it (``bed.tiers.run`` runs them through ``docker exec``). A warm
runner has what the tier's fresh runner would have: the same image, the same network (none for
the hermetic tiers), the same memory limit and CPU weight. A runner whose image changed since
`bed up`, or that is no longer running, is started again, and that is said.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ..engine.protocol import ContainerSpec
from ..images.build import ImageRef
from ..model.containers import VENV_PYTHON
from ..policy import budgets
from .owner import Service, Stack
from .services import RUNNER_CPU_SHARES

SOCKET = "/tmp/bed-warm.sock"  # noqa: S108 - inside the warm runner
RUNS = "/tmp/bed/runs"  # noqa: S108 - each session's records, JUnit and files, in a folder of its own
ROLE = "warm-runner"


@dataclasses.dataclass(frozen=True)
class Kind:
    key: str
    image: str  # the image name (runner, agents)
    networked: bool
    preload: tuple[str, ...]  # what its tiers import that is worth importing once


KINDS = {k.key: k for k in (
    Kind("hermetic", "runner", networked=False, preload=("litellm",)),  # deterministic; release when off
    Kind("served", "runner", networked=True, preload=("litellm", "openai", "anthropic", "httpx")),  # ND
    Kind("agents", "agents", networked=True, preload=()),  # the agent CLIs are processes of their own
)}


def kind_of(tier: str, *, live: bool) -> str | None:
    """The warm runner a tier's session runs in; None: a fresh runner (live release smokes)."""
    if tier in ("deterministic", "census") or (tier == "release" and not live):
        return "hermetic"
    return {"nd": "served", "agents": "agents"}.get(tier)


def spec(kind: Kind, image: str, network: str, memory: str) -> ContainerSpec:
    env = {"PYTHONUNBUFFERED": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True", "BED_WARM_PRELOAD": ",".join(kind.preload),
           "BED_WARM_RUNS": RUNS}
    return ContainerSpec(name="", image=image, labels={}, env=env,
                         command=(VENV_PYTHON, "-m", "bed_warm", "serve", SOCKET),
                         network=network if kind.networked else None, aliases=(f"runner-warm-{kind.key}",),
                         memory=budgets.runner_memory(kind.key, memory), cpu_shares=RUNNER_CPU_SHARES)


def start(stack: Stack, images: Mapping[str, ImageRef], memory: str) -> dict[str, Service]:
    """Every kind whose image this stack has; they import in the background (nobody waits here)."""
    assert stack.network is not None
    return {kind.key: stack.start(f"warm-{kind.key}", ROLE, spec(kind, images[kind.image].tag, stack.network, memory))
            for kind in KINDS.values() if kind.image in images}


def refresh(stack: Stack, have: Mapping[str, Service], had_images: Mapping[str, str],
            images: Mapping[str, ImageRef], memory: str) -> tuple[dict[str, Service], list[str]]:
    """The kept warm runners, each started again when its image changed or it is not running;
    and what was started again, and why."""
    assert stack.network is not None
    out: dict[str, Service] = {}
    notes: list[str] = []
    for kind in KINDS.values():
        old = have.get(kind.key)
        if kind.image not in images:  # this run does not build its image (not its tier): kept as it is
            if old is not None:
                out[kind.key] = old
            continue
        why = ("it was never started" if old is None
               else f"the {kind.image} image changed" if had_images.get(kind.image) != images[kind.image].id
               else f"it is {old.state().describe()}" if old.state().status != "running" else "")
        if not why:
            out[kind.key] = old  # type: ignore[assignment]  # old is set when why is empty
            continue
        notes.append(f"the warm {kind.key} runner ({why})")
        if old is not None:
            stack.engine.remove(old.id)
        out[kind.key] = stack.start(f"warm-{kind.key}", ROLE,
                                    spec(kind, images[kind.image].tag, stack.network, memory))
    return out, notes
