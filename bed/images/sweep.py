"""bed's own images that `bed gc` removes: what failed builds left, and (``--images``) old
content-hashed images the current config no longer uses. What may go is decided by
``bed.policy.images``; this module lists, asks and removes.
"""

from __future__ import annotations

import dataclasses
import time

from ..config.settings import Config
from ..engine.labels import IMAGE
from ..engine.protocol import Engine, ImageInfo
from ..policy import images as policy
from .build import ImageRef, Recipe, expected_tags, suite_tag
from .specs import SPECS


@dataclasses.dataclass(frozen=True)
class Swept:
    images: tuple[ImageInfo, ...]  # removed (or, in a dry run, to remove)
    kept: tuple[str, ...] = ()  # repositories kept whole, each with why

    @property
    def size_mb(self) -> float:
        return round(sum(i.size_mb for i in self.images), 1)


def dangling(engine: Engine, *, now: float | None = None) -> Swept:
    """Remove the untagged images bed's failed builds left (see bed.policy.images)."""
    used = engine.used_images()
    doomed = policy.dangling(engine.images(IMAGE, dangling=True), now=time.time() if now is None else now, used=used)
    return Swept(tuple(i for i in doomed if engine.remove_image(i.id)))


def old(engine: Engine, config: Config, *, remove: bool) -> Swept:
    """bed's content-hashed images the current config does not use; removed only with ``remove``."""
    wanted = wanted_tags(engine, config)
    doomed = policy.old(engine.images(IMAGE), wanted=wanted, used=engine.used_images())
    kept = tuple(f"{repo}: the tag this config uses is not known until what it is built from is built"
                 for repo, tag in sorted(wanted.items()) if tag is None)
    if remove:
        doomed = [i for i in doomed if engine.remove_image(i.id)]
    return Swept(tuple(sorted(doomed, key=lambda i: (i.tags, i.id))), kept)


def wanted_tags(engine: Engine, config: Config) -> dict[str, str | None]:
    """Repository -> the tag the current config uses (None: not knowable yet); a repository it
    uses no image of is absent."""
    recipe = Recipe.of(config)
    known = expected_tags(engine, recipe)
    wanted: dict[str, str | None] = {}
    for spec in SPECS:
        if spec.name in ("clients", "agents") and not recipe.agents:
            continue
        if spec.name == "litellm" and config.gateway.kind == "image":
            wanted["bed-adapter"] = None  # built FROM the user's image (not bed's), after a probe of it
            continue
        wanted[spec.repository] = known.get(spec.name)
    for name, repository in (("runner", "bed-suite"), ("agents", "bed-suite-agents")):
        if config.requirements and spec_used(wanted, name):
            parent = known.get(name)
            found = engine.image(parent) if parent else None
            wanted[repository] = suite_tag(ImageRef(name, parent or "", found.id, 0, False),
                                           config.requirements)[0] if found and parent else None
    return wanted


def spec_used(wanted: dict[str, str | None], name: str) -> bool:
    return f"bed-{name}" in wanted
