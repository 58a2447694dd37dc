"""`bed gc` and bed's images, on the fake engine: what failed builds leave, and old content-hashed images."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from bed.cli import main
from bed.commands import common
from bed.config.settings import Config
from bed.console import Console
from bed.engine.fake import FakeEngine, Program
from bed.engine.labels import IMAGE
from bed.engine.protocol import ContainerSpec
from bed.errors import ImageError
from bed.images import sweep
from bed.images.build import Recipe, ensure_images, labelled
from bed.policy.images import DANGLING_MIN_AGE_S

from ..fakes import engine_with_images

LATER = DANGLING_MIN_AGE_S + 60


def test_every_step_of_a_build_carries_bed_s_label() -> None:
    dockerfile = (b"ARG BASE_IMAGE\nARG CLIENTS_IMAGE\nFROM ${CLIENTS_IMAGE} AS clients\nRUN a\n"
                  b"FROM ${BASE_IMAGE}\nRUN b\n")
    out = labelled({"Dockerfile": dockerfile, "x": b"1"}, "agents")
    assert out["Dockerfile"].decode().splitlines() == [
        "ARG BASE_IMAGE", "ARG CLIENTS_IMAGE", "FROM ${CLIENTS_IMAGE} AS clients", 'LABEL bed.image="agents"',
        "RUN a", "FROM ${BASE_IMAGE}", 'LABEL bed.image="agents"', "RUN b"]
    assert out["x"] == b"1"


def _failed_runner_build(engine: FakeEngine) -> None:
    engine.fail_build["bed-runner"] = "pip could not reach the index"
    with pytest.raises(ImageError):
        ensure_images(engine, Recipe("debian:bookworm-slim", None), Console(out=io.StringIO()))


def test_a_failed_build_s_leftover_is_removed_once_no_build_can_be_using_it() -> None:
    engine = engine_with_images()
    _failed_runner_build(engine)
    (leftover,) = engine.images(IMAGE, dangling=True)  # found by bed's label, set on every step
    assert leftover.size_mb == 689.0
    assert sweep.dangling(engine).images == ()  # just made: may be a step of a build running now
    swept = sweep.dangling(engine, now=time.time() + LATER)
    assert [i.id for i in swept.images] == [leftover.id]
    assert engine.images(IMAGE, dangling=True) == []
    assert engine.image("bed-python:current") is not None  # tagged images are never touched by this


def test_an_untagged_image_a_container_uses_stays() -> None:
    engine = engine_with_images()
    _failed_runner_build(engine)
    (leftover,) = engine.images(IMAGE, dangling=True)
    engine.on("probe", Program())
    engine.run(ContainerSpec(name="probe", image=leftover.id, labels={}))
    assert sweep.dangling(engine, now=time.time() + LATER).images == ()


def test_gc_says_what_it_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    engine = engine_with_images()
    _failed_runner_build(engine)
    old = time.time() - LATER
    for info in engine.images(IMAGE, dangling=True):  # an hour-old leftover
        engine.stored[info.id] = type(info)(info.id, (), info.size_mb, info.labels, old)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(common, "engine", lambda environ: engine)
    assert main(["gc"], {}) == 0
    assert "removed 1 untagged image(s) (689 MB) left by failed builds" in capsys.readouterr().out
    assert engine.images(IMAGE, dangling=True) == []


def _built(tmp_path: Path) -> tuple[FakeEngine, dict[str, str]]:
    engine = engine_with_images()
    refs = ensure_images(engine, Recipe.of(Config.from_env({}, root=tmp_path)), Console(out=io.StringIO()))
    return engine, {name: ref.tag for name, ref in refs.items()}


def test_gc_images_lists_old_images_and_removes_nothing_without_yes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    engine, current = _built(tmp_path)
    engine.add_image("bed-runner:bbbbbbbbbbbb", 688.0, labels={IMAGE: "runner"}, created=time.time() - 3 * 86400)
    engine.add_image("bed-litellm:cccccccccccc", 667.0, labels={IMAGE: "litellm"})
    engine.add_image("bed-suite:dddddddddddd", 700.0, labels={IMAGE: "suite"})  # this config has no requirements
    kept_alive = engine.add_image("bed-shim:eeeeeeeeeeee", 163.0, labels={IMAGE: "shim"})
    engine.on("old-shim", Program())
    engine.run(ContainerSpec(name="old-shim", image="bed-shim:eeeeeeeeeeee", labels={}))  # a kept stack's, say
    engine.add_image("mine:latest", 10.0)  # not bed's
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(common, "engine", lambda environ: engine)
    assert main(["gc", "--images"], {}) == 0
    out = capsys.readouterr().out
    assert "would remove bed-runner:bbbbbbbbbbbb (688 MB, 3 day(s) old)" in out
    assert "would remove 3 image(s) (2055 MB) the current config does not use" in out
    assert "`bed gc --images --yes` removes them" in out
    assert "bed-shim:eeeeeeeeeeee" not in out
    assert all(engine.image(t) for t in ("bed-runner:bbbbbbbbbbbb", "bed-litellm:cccccccccccc", "mine:latest"))
    assert main(["gc", "--images", "--yes"], {}) == 0
    assert "removed 3 image(s) (2055 MB)" in capsys.readouterr().out
    assert [t for t in ("bed-runner:bbbbbbbbbbbb", "bed-litellm:cccccccccccc", "bed-suite:dddddddddddd")
            if engine.image(t)] == []
    assert all(engine.image(tag) for tag in current.values())  # what the current config uses stays
    assert all(engine.image(f"bed-{name}:current") for name in current)
    assert engine.image(kept_alive.id) is not None
    assert engine.image("mine:latest") is not None


def test_gc_images_keeps_a_repository_whose_current_tag_cannot_be_known(tmp_path: Path) -> None:
    engine = engine_with_images()  # nothing built: only the python image's tag is knowable
    engine.add_image("bed-runner:bbbbbbbbbbbb", labels={IMAGE: "runner"})
    swept = sweep.old(engine, Config.from_env({}, root=tmp_path), remove=True)
    assert swept.images == ()
    assert any(k.startswith("bed-runner: the tag this config uses is not known") for k in swept.kept)
    assert engine.image("bed-runner:bbbbbbbbbbbb") is not None
