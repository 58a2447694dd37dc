"""Image builds from threads side by side (compare legs): one build per tag."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator, Mapping

from bed.config.gateway import Gateway
from bed.console import Console
from bed.engine.fake import FakeEngine
from bed.images.build import Recipe, ensure_images

from ..fakes import engine_with_images


class SlowBuilds(FakeEngine):
    def build(self, context: bytes, tag: str, buildargs: Mapping[str, str],
              labels: Mapping[str, str]) -> Iterator[str]:
        time.sleep(0.05)  # long enough for a second thread to look for the same tag meanwhile
        yield from super().build(context, tag, buildargs, labels)


def test_two_gateways_built_side_by_side_share_one_build_of_each_common_image() -> None:
    engine = SlowBuilds(images=tuple(engine_with_images().images))
    recipes = [Recipe("debian:bookworm-slim", None, Gateway("release", v)) for v in ("1.100.5", "1.108.7")]
    found: list[dict[str, str]] = []

    def build(recipe: Recipe) -> None:
        found.append({n: r.tag for n, r in ensure_images(engine, recipe, Console(out=io.StringIO())).items()})

    threads = [threading.Thread(target=build, args=(r,)) for r in recipes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 2
    assert found[0]["python"] == found[1]["python"]
    assert found[0]["litellm"] != found[1]["litellm"]
    assert sorted(engine.builds) == sorted(set(engine.builds)), "a tag was built twice"
    assert len(engine.builds) == 2 + 2 * 3  # python and shim once; litellm, runner, agents per gateway
