"""The agents image's fetch step (bed/images/context/clients/fetch.py): the tarball npm would fetch,
checked against package-lock.json's integrity, one binary taken out of it."""

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

from bed.images.build import HOST_CA_BUNDLE, PACKAGE

CODEX = "node_modules/@openai/codex-linux-x64"
CLAUDE = "node_modules/@anthropic-ai/claude-code-linux-x64"


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


def _tarball(member: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo(member)
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _registry(tmp_path: Path, tamper: bool = False) -> Path:
    """A file:// registry with both tarballs, and a lock pinning them (as the real lock does)."""
    codex = _tarball("package/vendor/x86_64-unknown-linux-musl/bin/codex", b"codex-binary")
    claude = _tarball("package/claude", b"claude-binary")
    for path, data in (("@openai/codex/-/codex-0.169.0-linux-x64.tgz", codex),
                       ("@anthropic-ai/claude-code-linux-x64/-/claude-code-linux-x64-2.1.328.tgz", claude)):
        target = tmp_path / "registry" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data + (b"x" if tamper and "claude" in path else b""))
    lock = {"packages": {CODEX: {"name": "@openai/codex", "version": "0.169.0-linux-x64",
                                 "integrity": _integrity(codex)},
                         CLAUDE: {"version": "2.1.328", "integrity": _integrity(claude)}}}
    path = tmp_path / "package-lock.json"
    path.write_text(json.dumps(lock))
    return path


def test_the_urls_are_the_registrys_for_the_real_lock(fetch: ModuleType) -> None:
    packages = json.loads((PACKAGE / "images/context/clients/package-lock.json").read_text())["packages"]
    fetch.REGISTRY = "https://registry.npmjs.org"
    assert fetch.tarball_url(CODEX, packages[CODEX]) == \
        "https://registry.npmjs.org/@openai/codex/-/codex-0.169.0-linux-x64.tgz"  # the alias's real name
    assert fetch.tarball_url(CLAUDE, packages[CLAUDE]) == \
        "https://registry.npmjs.org/@anthropic-ai/claude-code-linux-x64/-/claude-code-linux-x64-2.1.328.tgz"


def test_each_binary_is_extracted_executable(fetch: ModuleType, tmp_path: Path) -> None:
    lock = _registry(tmp_path)
    fetch.main(str(lock), str(tmp_path / "bin"))
    assert (tmp_path / "bin/codex").read_bytes() == b"codex-binary"
    assert (tmp_path / "bin/claude").read_bytes() == b"claude-binary"
    assert os.access(tmp_path / "bin/claude", os.X_OK)


def test_a_tarball_that_does_not_match_the_lock_is_refused(fetch: ModuleType, tmp_path: Path) -> None:
    lock = _registry(tmp_path, tamper=True)
    with pytest.raises(SystemExit, match=r"does not match package-lock\.json's integrity"):
        fetch.main(str(lock), str(tmp_path / "bin"))
    assert not (tmp_path / "bin/claude").exists()
