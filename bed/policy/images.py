"""Which of bed's images may `bed gc` remove? Pure functions over what the engine listed.

Only images bed built are ever considered (the caller lists them by bed's image label), and of
those never one a container uses (a kept stack, another run, a user's own container).

- **Dangling**: an untagged image with no child is what a failed build leaves (its last step,
  689 MB for a failed runner build). It goes, once it is older than a build step can be: a build
  running right now (this project's or another's on a shared engine) commits each step as an
  untagged image for a moment, and removing that one would break it.
- **Old content-hashed images** (``bed gc --images``): a tag ``bed-NAME:<12 hex>`` names exactly
  one content; a repository whose current tag is known keeps that tag and loses the others. A
  repository whose current tag cannot be known yet (its parent is not built) keeps everything,
  and so does an image that also carries another tag (``:current``, or one a person gave it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Set

from ..engine.protocol import ImageInfo

DANGLING_MIN_AGE_S = 15 * 60  # far longer than a build step runs; a failed build's leftover is older
CONTENT_TAG = re.compile(r"(bed-[a-z0-9-]+):[0-9a-f]{12}")


def dangling(images: Iterable[ImageInfo], *, now: float, used: Set[str],
             min_age_s: float = DANGLING_MIN_AGE_S) -> list[ImageInfo]:
    """The untagged images that may go: no tag, no container from them, older than ``min_age_s``."""
    return [i for i in images if not i.tags and i.id not in used and now - i.created >= min_age_s]


def repository(image: ImageInfo) -> str | None:
    """The repository of an image tagged only with content hashes (bed-runner), else None."""
    repos = [m.group(1) if (m := CONTENT_TAG.fullmatch(tag)) else None for tag in image.tags]
    return repos[0] if repos and None not in repos and len(set(repos)) == 1 else None


def old(images: Iterable[ImageInfo], *, wanted: Mapping[str, str | None], used: Set[str]) -> list[ImageInfo]:
    """Tagged images the current config does not use. ``wanted``: repository -> the tag the current
    config uses, None when it cannot be known (keep the repository whole); a repository absent
    from ``wanted`` is one the current config uses no image of."""
    out = []
    for image in images:
        repo = repository(image)
        if repo is None or image.id in used or (repo in wanted and wanted[repo] is None):
            continue
        if wanted.get(repo) not in image.tags:
            out.append(image)
    return out
