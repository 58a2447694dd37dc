"""`bed gc` and bed's images on a real engine of its own (a second dockerd in its own network
namespace, scripts/remote-engine.sh), so nothing of the shared engine's images is ever touched:
a failed build's leftover found by bed's label and removed, and `bed gc --images` listing, then
removing, an old content-hashed image while what the current config uses stays."""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from bed.config.settings import Config
from bed.console import Console
from bed.engine.docker import DockerEngine, connect
from bed.engine.labels import IMAGE
from bed.errors import ImageError
from bed.images import build, sweep
from bed.images.base import known_base
from bed.images.build import ImageRef
from bed.policy.images import DANGLING_MIN_AGE_S

from .conftest import REPO, bed_cli
from .remote_engine import RemoteEngine

QUIET = Console(out=io.StringIO())


@pytest.fixture(scope="module")
def own_engine(client: docker.DockerClient, images: dict[str, ImageRef]) -> Iterator[tuple[RemoteEngine, DockerEngine]]:
    base = known_base(connect({}), Config.from_env({}, root=REPO).base_image)
    assert base is not None
    base_tags = [t for t in client.images.get(base).tags]
    with RemoteEngine(Path(tempfile.mkdtemp(prefix="bed-gc-", dir="/tmp"))) as remote:
        remote.load([base_tags[0], images["python"].tag])  # the base and bed-python: nothing else of bed's
        yield remote, connect({"DOCKER_HOST": remote.docker_host})


def test_a_failed_builds_leftover_is_found_by_bed_s_label_and_removed(own_engine: tuple[RemoteEngine, DockerEngine],
                                                                     ) -> None:
    remote, engine = own_engine
    context = {"Dockerfile": b"FROM scratch\nCOPY a /a\nRUN false\n", "a": b"what the failed step left"}
    with pytest.raises(ImageError):  # scratch has no shell: the RUN step fails after COPY was committed
        build._build(engine, "bed-probe:aaaaaaaaaaaa", context, {}, QUIET, None)
    (left,) = engine.images(IMAGE, dangling=True)
    assert left.labels[IMAGE] == "probe"  # set after FROM: the build's own label lands on the final image only
    assert sweep.dangling(engine).images == ()  # just made: it may be a step of a build running now
    swept = sweep.dangling(engine, now=time.time() + DANGLING_MIN_AGE_S + 60)
    assert [i.id for i in swept.images] == [left.id]
    listed = remote.client().images.list(all=True)
    assert [i.id for i in listed if not i.tags] == []  # its untagged parent (the LABEL step) went with it


def test_gc_images_lists_then_removes_an_old_image_and_keeps_the_current_ones(
        own_engine: tuple[RemoteEngine, DockerEngine], images: dict[str, ImageRef], tmp_path: Path) -> None:
    remote, engine = own_engine
    for tag in ("bed-shim:bbbbbbbbbbbb", "bed-runner:bbbbbbbbbbbb"):  # an older shim; a runner of unknown age
        build._build(engine, tag, {"Dockerfile": b"FROM scratch\nCOPY a /a\n", "a": tag.encode()}, {}, QUIET, None)
    env = remote.env()
    listed = bed_cli(["gc", "--images"], tmp_path, env=env)
    assert listed.returncode == 0, listed.stdout[-2000:]
    assert "would remove bed-shim:bbbbbbbbbbbb" in listed.stdout
    assert "kept bed-runner: the tag this config uses is not known" in listed.stdout  # its litellm is not here
    assert engine.image("bed-shim:bbbbbbbbbbbb") is not None  # a listing removes nothing
    removed = bed_cli(["gc", "--images", "--yes"], tmp_path, env=env)
    assert removed.returncode == 0, removed.stdout[-2000:]
    assert "removed 1 image(s)" in removed.stdout
    assert engine.image("bed-shim:bbbbbbbbbbbb") is None
    assert engine.image("bed-runner:bbbbbbbbbbbb") is not None
    assert engine.image(images["python"].tag) is not None  # what the current config uses
