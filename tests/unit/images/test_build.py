"""Image builds from threads side by side (compare legs): one build per tag."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator, Mapping

import pytest

from bed.config.gateway import Gateway
from bed.console import Console
from bed.engine.fake import FakeEngine
from bed.engine.protocol import ExecResult
from bed.errors import ImageError
from bed.images.build import Recipe, ensure_images

from ..fakes import engine_with_images


class SlowBuilds(FakeEngine):
    def build(self, context: bytes, tag: str, buildargs: Mapping[str, str],
              labels: Mapping[str, str]) -> Iterator[str]:
        time.sleep(0.05)  # long enough for a second thread to look for the same tag meanwhile
        yield from super().build(context, tag, buildargs, labels)


def test_two_gateways_built_side_by_side_share_one_build_of_each_common_image() -> None:
    engine = SlowBuilds(images=tuple(engine_with_images().stored))
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
    assert len(engine.builds) == 3 + 2 * 3  # python, clients, shim once; litellm, runner, agents per gateway


class TimedBuilds(FakeEngine):
    """Records when each build starts and ends; the clients build is slow (it downloads)."""

    def __init__(self, *, clients_fail: bool = False) -> None:
        super().__init__(images=tuple(engine_with_images().stored))
        self.spans: dict[str, tuple[float, float]] = {}
        self.clients_fail = clients_fail

    def build(self, context: bytes, tag: str, buildargs: Mapping[str, str],
              labels: Mapping[str, str]) -> Iterator[str]:
        name = tag.split(":")[0].removeprefix("bed-")
        started = time.monotonic()
        time.sleep(0.3 if name == "clients" else 0.05)
        if name == "clients" and self.clients_fail:
            raise ImageError("building bed-clients failed: the npm registry did not answer", hint="retry")
        yield from super().build(context, tag, buildargs, labels)
        self.spans[name] = (started, time.monotonic())


def test_the_clients_download_runs_beside_the_gateway_builds_and_before_the_agents_image() -> None:
    engine = TimedBuilds()
    refs = ensure_images(engine, Recipe("debian:bookworm-slim"), Console(out=io.StringIO()))
    spans = engine.spans
    assert spans["clients"][0] < spans["litellm"][1]  # under way while the gateway was built
    assert spans["litellm"][0] < spans["clients"][1]
    assert spans["agents"][0] >= spans["clients"][1]  # the agents image copies from it
    assert refs["clients"].built
    assert refs["agents"].tag.startswith("bed-agents:")


def test_the_gateway_build_does_not_wait_for_the_shim() -> None:
    engine = TimedBuilds()
    refs = ensure_images(engine, Recipe("debian:bookworm-slim", agents=False), Console(out=io.StringIO()))
    spans = engine.spans
    assert spans["litellm"][0] < spans["shim"][1]  # started while the shim was still being built
    assert refs["shim"].built


def test_a_failed_clients_build_is_the_runs_image_error() -> None:
    engine = TimedBuilds(clients_fail=True)
    with pytest.raises(ImageError, match="npm registry did not answer"):
        ensure_images(engine, Recipe("debian:bookworm-slim"), Console(out=io.StringIO()))
    assert "agents" not in engine.spans


def test_without_the_agents_tier_neither_clients_nor_agents_is_built() -> None:
    engine = TimedBuilds()
    refs = ensure_images(engine, Recipe("debian:bookworm-slim", agents=False), Console(out=io.StringIO()))
    assert set(refs) == {"python", "shim", "litellm", "runner"}
    assert set(engine.spans) == {"python", "shim", "litellm", "runner"}


@pytest.mark.parametrize(("agents", "layered"), [(True, ("runner", "agents")), (False, ("runner",))],
                         ids=["agents", "no-agents"])
def test_your_suites_packages_are_a_layer_on_each_runner(agents: bool, layered: tuple[str, ...]) -> None:
    engine = FakeEngine(images=tuple(engine_with_images().stored))
    refs = ensure_images(engine, Recipe("debian:bookworm-slim", requirements=("respx==0.22.0",), agents=agents),
                         Console(out=io.StringIO()))
    for name in layered:
        assert refs[f"{name}-base"].tag.startswith(f"bed-{name}:")
        assert refs[name].tag.startswith("bed-suite:" if name == "runner" else f"bed-suite-{name}:")
        assert refs[name].name == name
        assert refs[name].built
    assert set(refs) == {"python", "shim", "litellm", *layered, *(f"{n}-base" for n in layered),
                         *(("clients",) if agents else ())}


def test_without_requirements_no_suite_layer_is_built() -> None:
    engine = FakeEngine(images=tuple(engine_with_images().stored))
    refs = ensure_images(engine, Recipe("debian:bookworm-slim"), Console(out=io.StringIO()))
    assert set(refs) == {"python", "clients", "shim", "litellm", "runner", "agents"}
    assert not any("suite" in tag for tag in engine.builds)


class GatewayImage(FakeEngine):
    """Holds a gateway image whose python3 imports litellm; records what each build is FROM."""

    def __init__(self) -> None:
        super().__init__(images=(*engine_with_images().stored, "registry.example/gw:1.2"))
        self.parents: dict[str, str | None] = {}

    def build(self, context: bytes, tag: str, buildargs: Mapping[str, str],
              labels: Mapping[str, str]) -> Iterator[str]:
        self.parents[tag] = buildargs.get("BASE_IMAGE")
        yield from super().build(context, tag, buildargs, labels)

    def once(self, image: str, argv: list[str]) -> ExecResult:
        return ExecResult(0, "BED-PROBE " + json.dumps({
            "python": "/usr/bin/python3", "prefix": "/usr", "base_prefix": "/usr", "version": "3.12.1",
            "litellm": "1.90.0", "pip": True, "ensurepip": True}) + "\n")


def test_a_gateway_image_is_used_as_is_and_the_runner_is_built_on_its_adapter() -> None:
    engine = GatewayImage()
    refs = ensure_images(engine, Recipe("debian:bookworm-slim", gateway=Gateway("image", "registry.example/gw:1.2"),
                                        agents=False), Console(out=io.StringIO()))
    assert set(refs) == {"python", "shim", "litellm", "adapter", "runner"}
    gateway = refs["litellm"]
    assert (gateway.tag, gateway.built) == ("registry.example/gw:1.2", False)
    assert gateway.command[:2] == ("/usr/bin/python3", "-m")
    assert gateway.gateway is not None
    assert gateway.gateway.base == "1.90.0"
    assert refs["adapter"].tag.startswith("bed-adapter:")
    assert not any(tag.startswith("bed-litellm:") for tag in engine.builds)  # the gateway is not built
    assert engine.parents[refs["adapter"].tag] == gateway.id
    assert engine.parents[refs["runner"].tag] == refs["adapter"].tag  # the smokes import the proxy's litellm
    assert refs["runner"].built
