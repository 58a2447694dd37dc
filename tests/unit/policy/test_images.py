"""Which of bed's images `bed gc` may remove: a table per rule."""

from __future__ import annotations

import pytest

from bed.engine.protocol import ImageInfo
from bed.policy.images import DANGLING_MIN_AGE_S, dangling, old, repository

NOW = 1_000_000.0


def img(*tags: str, id_: str = "sha256:1", age_s: float = 3600.0) -> ImageInfo:
    return ImageInfo(id_, tags, 100.0, {"bed.image": "x"}, NOW - age_s)


@pytest.mark.parametrize(("image", "used", "goes"), [
    (img(), set(), True),  # a failed build's leftover, an hour old
    (img(age_s=DANGLING_MIN_AGE_S), set(), True),  # just old enough
    (img(age_s=DANGLING_MIN_AGE_S - 1), set(), False),  # may be a step of a build running now
    (img(age_s=5), set(), False),
    (img(), {"sha256:1"}, False),  # a container runs from it
    (img("bed-runner:0123456789ab"), set(), False),  # tagged: not dangling
])
def test_dangling(image: ImageInfo, used: set[str], goes: bool) -> None:
    assert (dangling([image], now=NOW, used=used) == [image]) is goes


@pytest.mark.parametrize(("tags", "repo"), [
    (("bed-runner:0123456789ab",), "bed-runner"),
    (("bed-suite-agents:0123456789ab", "bed-suite-agents:ba9876543210"), "bed-suite-agents"),
    (("bed-runner:0123456789ab", "bed-runner:current"), None),  # also :current
    (("bed-runner:0123456789ab", "mine:1"), None),  # a tag a person gave it
    (("bed-runner:0123456789ab", "bed-litellm:0123456789ab"), None),  # two repositories
    (("bed-runner:0123456789", ), None),  # not a content hash
    (("bed-runner:0123456789AB",), None),
    (("registry/bed-runner:0123456789ab",), None),
    ((), None),
])
def test_only_content_hashed_tags_name_a_repository(tags: tuple[str, ...], repo: str | None) -> None:
    assert repository(img(*tags)) == repo


WANTED = {"bed-runner": "bed-runner:aaaaaaaaaaaa", "bed-litellm": None}


@pytest.mark.parametrize(("image", "used", "goes"), [
    (img("bed-runner:bbbbbbbbbbbb"), set(), True),  # an older runner
    (img("bed-runner:aaaaaaaaaaaa"), set(), False),  # the one this config uses
    (img("bed-runner:aaaaaaaaaaaa", "bed-runner:bbbbbbbbbbbb"), set(), False),  # one content, both tags
    (img("bed-runner:bbbbbbbbbbbb"), {"sha256:1"}, False),  # a container (a kept stack) uses it
    (img("bed-litellm:bbbbbbbbbbbb"), set(), False),  # this config's tag is not known yet: keep all
    (img("bed-adapter:bbbbbbbbbbbb"), set(), True),  # the config uses no image of it
    (img("bed-runner:bbbbbbbbbbbb", "bed-runner:current"), set(), False),
    (img("bed-base:bookworm-lean"), set(), False),
    (img(), set(), False),  # dangling: the other rule's
])
def test_old(image: ImageInfo, used: set[str], goes: bool) -> None:
    assert (old([image], wanted=WANTED, used=used) == [image]) is goes


def test_every_image_is_weighed_past_one_that_stays() -> None:
    kept, older = img("bed-litellm:bbbbbbbbbbbb", id_="sha256:1"), img("bed-runner:bbbbbbbbbbbb", id_="sha256:2")
    mine = img("bed-runner:cccccccccccc", id_="sha256:3")
    assert old([kept, mine, older], wanted=WANTED, used={"sha256:3"}) == [older]
