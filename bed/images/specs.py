"""The bed images, as data: what goes into each build context, and what each is built FROM.

Paths are relative to the bed package, so a wheel carries everything a build needs.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    name: str
    files: tuple[tuple[str, str], ...]  # (path under the bed package, path in the build context)
    base_from: str | None = None  # another spec's name; None: the configured base image
    with_ca: bool = False  # the CA bundle pip uses inside the build
    args: tuple[tuple[str, str], ...] = ()  # (build argument, another spec's name): that image's tag
    # Built on a thread of its own beside the specs after it, until one of them needs it: for a
    # build that mostly downloads or is small, so it overlaps the gateway's long build.
    beside: bool = False
    generated: tuple[str, ...] = ()  # files of its context that the run's recipe writes (not package files)

    @property
    def repository(self) -> str:
        return f"bed-{self.name}"


SPECS = (  # in build order: each one's base_from and args are built (or under way) before it
    ImageSpec("python", (("images/context/python", "."),), with_ca=True),
    # The agent clients and node (~850 MB downloaded from the npm registry), beside the rest. Its
    # agents.json (what to fetch, with integrity) is generated per version set (bed.images.npm).
    ImageSpec("clients", (("images/context/clients/Dockerfile", "Dockerfile"),
                          ("images/context/clients/fetch.py", "fetch.py")), base_from="python", beside=True,
              generated=("agents.json",)),
    # The shim (3 s): no image is built on it, so the gateway's build need not wait for it.
    ImageSpec("shim", (("images/context/shim", "."), ("shim", "bed_shim")), base_from="python", beside=True),
    ImageSpec("litellm", (("images/context/litellm", "."),), base_from="python"),
    ImageSpec("runner", (("images/context/runner", "."), ("runner/tiers", "tiers"),
                         ("runner/bed_shards.py", "lib/bed_shards.py"), ("runner/bed_agents.py", "lib/bed_agents.py"),
                         ("runner/bed_records.py", "lib/bed_records.py"),
                         ("runner/bed_contract.py", "lib/bed_contract.py"),
                         ("runner/bed_warm.py", "lib/bed_warm.py")), base_from="litellm"),
    # The real agent clients (Codex CLI, Claude Code, Gemini CLI, OpenCode, Qwen Code) on top of the
    # runner, copied from bed-clients, so a change to the tiers does not download the clients again.
    ImageSpec("agents", (("images/context/agents", "."),), base_from="runner", args=(("CLIENTS_IMAGE", "clients"),)),
)
BY_NAME = {spec.name: spec for spec in SPECS}
