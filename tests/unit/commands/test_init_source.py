"""How `bed init` finds where the running bed came from, and the pip requirement CI gets for it.

Installed distributions are small fakes of importlib.metadata's (their direct_url.json as pip
writes it, PEP 610); the package index is httpx's MockTransport; a checkout's wheel is built by
a fake builder (the real build runs in tests/integration/test_first_push.py).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import httpx
import pytest

from bed.commands import init_source
from bed.commands.init_source import DIST, Install, detect, given, index_has
from bed.errors import ConfigError


class Dist:
    def __init__(self, direct: dict[str, object] | None, version: str = "0.2.0") -> None:
        self.version = version
        self._direct = direct

    def read_text(self, filename: str) -> str | None:
        assert filename == "direct_url.json"
        return None if self._direct is None else json.dumps(self._direct)


def wheel_file(folder: Path, name: str = "bed_readiness-0.2.0-py3-none-any.whl", dist: str = "bed-readiness") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("bed_readiness-0.2.0.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {dist}\n")
    return path


def no_lookup(index: str, name: str, version: str) -> bool | None:
    raise AssertionError("the index must not be asked")


def test_a_vcs_install_is_pinned_to_its_commit() -> None:
    commit = "0123456789abcdef" * 2 + "01234567"
    dist = Dist({"url": "https://git.example/team/bed.git", "subdirectory": "py",
                 "vcs_info": {"vcs": "git", "requested_revision": "v0.2.0", "commit_id": commit}})
    found = detect({}, dist=dist, lookup=no_lookup)
    assert found.requirement == (f"{DIST} @ git+https://git.example/team/bed.git@"
                                 f"{'0123456789abcdef' * 2}01234567#subdirectory=py")
    assert found.wheel is None
    assert "pinned to commit 0123456789ab" in found.how


def test_an_archive_url_is_installed_from_that_url() -> None:
    url = "https://files.example/bed_readiness-0.2.0-py3-none-any.whl"
    found = detect({}, dist=Dist({"url": url, "archive_info": {"hashes": {"sha256": "ab"}}}), lookup=no_lookup)
    assert found == Install(f"{DIST} @ {url}", "installed from that URL")


def test_a_local_wheel_is_vendored(tmp_path: Path) -> None:
    wheel = wheel_file(tmp_path / "dist")
    found = detect({}, dist=Dist({"url": wheel.as_uri(), "archive_info": {}}), lookup=no_lookup)
    assert found.requirement == "./.bed/bed_readiness-0.2.0-py3-none-any.whl"
    assert found.wheel == wheel


def test_a_checkout_gets_a_wheel_built_and_vendored(tmp_path: Path) -> None:
    built: list[Path] = []

    def build(source: Path, into: Path) -> Path:
        built.append(source)
        return wheel_file(into)

    checkout = tmp_path / "bed"
    checkout.mkdir()
    found = detect({}, dist=Dist({"url": checkout.as_uri(), "dir_info": {"editable": True}}), build=build,
                   lookup=no_lookup)
    assert built == [checkout]
    assert found.requirement == "./.bed/bed_readiness-0.2.0-py3-none-any.whl"
    assert found.wheel is not None
    assert found.wheel.is_file()
    assert "(editable)" in found.how


def test_a_checkout_that_is_gone_falls_back_to_the_index_and_says_so(tmp_path: Path) -> None:
    dist = Dist({"url": (tmp_path / "gone").as_uri(), "dir_info": {}})
    found = detect({}, dist=dist, lookup=lambda index, name, version: True)
    assert found.requirement == f"{DIST}==0.2.0"
    assert "which is gone" in found.warning


def test_an_index_install_is_looked_up_and_a_missing_release_is_a_warning() -> None:
    asked: list[tuple[str, str, str]] = []

    def lookup(index: str, name: str, version: str) -> bool | None:
        asked.append((index, name, version))
        return False

    found = detect({"PIP_INDEX_URL": "https://user:s3cret@pkgs.example/simple"}, dist=Dist(None, "0.3.1"),
                   lookup=lookup)
    assert found.requirement == f"{DIST}==0.3.1"
    assert found.index_url == "https://pkgs.example/simple"  # never the credentials
    assert asked == [("https://pkgs.example/simple", DIST, "0.3.1")]
    assert "credentials" in found.warning
    found = detect({}, dist=Dist(None, "0.3.1"), lookup=lookup)
    assert found.index_url is None
    assert found.warning.startswith(f"https://pypi.org/simple has no {DIST} 0.3.1: the CI install would fail")
    assert detect({}, dist=Dist(None), lookup=lambda *a: True).warning == ""


def test_install_flag(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    outside = wheel_file(tmp_path / "dist")
    assert given(str(outside), root, {}).wheel == outside
    inside = wheel_file(root / "vendor")
    assert given(str(inside), root, {}) == Install("./vendor/bed_readiness-0.2.0-py3-none-any.whl",
                                               "named with --install: a wheel in the repository")
    assert given("git+https://git.example/bed.git@v0.2.0", root, {}).requirement == "git+https://git.example/bed.git@v0.2.0"
    with pytest.raises(ConfigError, match="no such wheel file"):
        given("dist/missing.whl", root, {})
    with pytest.raises(ConfigError, match="--install is empty"):
        given(" ", root, {})


# --- the index, through httpx's MockTransport ------------------------------------------------------

def _index(pages: list[httpx.Response]) -> tuple[httpx.MockTransport, list[str]]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return pages.pop(0)

    return httpx.MockTransport(handler), seen


def test_the_index_lookup_reads_pep_691_json_and_pep_503_html() -> None:
    files = {"files": [{"filename": "bed_readiness-0.2.0-py3-none-any.whl"},
                       {"filename": "bed-readiness-0.1.0.tar.gz"}]}
    transport, seen = _index([httpx.Response(200, json=files)])
    assert index_has("https://pkgs.example/simple/", "bed-readiness", "0.2.0", transport=transport) is True
    assert seen == ["https://pkgs.example/simple/bed-readiness/"]
    html = ('<html><body><a href="x">bed-readiness-0.1.0.tar.gz</a>\n'
            '<a href="y">bed_readiness-0.1.0-py3-none-any.whl</a>')
    transport, _ = _index([httpx.Response(200, text=html, headers={"content-type": "text/html"})])
    assert index_has("https://pkgs.example/simple", "bed-readiness", "0.2.0", transport=transport) is False
    transport, _ = _index([httpx.Response(200, text=html, headers={"content-type": "text/html"})])
    assert index_has("https://pkgs.example/simple", "bed-readiness", "0.1.0", transport=transport) is True
    transport, _ = _index([httpx.Response(404)])
    assert index_has("https://pypi.org/simple", "bed-readiness", "0.2.0", transport=transport) is False


def test_the_index_lookup_retries_a_transient_failure_and_gives_up_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"files": [{"filename": "bed_readiness-0.2.0-py3-none-any.whl"}]}
    transport, seen = _index([httpx.Response(503), httpx.Response(200, json=files)])
    assert index_has("https://pkgs.example/simple", "bed-readiness", "0.2.0", transport=transport) is True
    assert len(seen) == 2

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    calls: list[int] = []
    transport = httpx.MockTransport(lambda r: (calls.append(1), refused(r))[1])
    assert index_has("https://pkgs.example/simple", "bed-readiness", "0.2.0", transport=transport) is None
    assert len(calls) == init_source.LOOKUP_TRIES
