"""A tampered lock, against the real index: `make venv` and an image build refuse it, loudly.

(tests/unit/test_locks.py shows the same refusals offline, with a wheel built there.)
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import docker
import pytest

from bed.images.build import ImageRef

from .conftest import REPO

WRONG = "0" * 64


def tamper(lock: Path, name: str) -> None:
    """Every hash of ``name``'s pin replaced by a wrong one (pip takes any listed hash that matches)."""
    out, inside = [], False
    for line in lock.read_text().splitlines():
        if re.match(r"^[A-Za-z0-9]", line):
            inside = line.lower().startswith(f"{name}==")
        if inside and "--hash=sha256:" in line:
            line = re.sub(r"sha256:[0-9a-f]{64}", f"sha256:{WRONG}", line)
        out.append(line)
    lock.write_text("\n".join(out) + "\n")
    assert WRONG in lock.read_text(), f"{name} is not pinned in {lock}"


def test_make_venv_refuses_a_lock_with_a_tampered_hash(tmp_path: Path) -> None:
    for name in ("Makefile", "pyproject.toml", "requirements.lock", "README.md"):
        shutil.copy(REPO / name, tmp_path / name)
    tamper(tmp_path / "requirements.lock", "tenacity")
    done = subprocess.run(["make", "venv", f"PYTHON={sys.executable}"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode != 0, done.stdout
    assert "THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE" in done.stderr
    assert re.search(r"tenacity==[0-9.]+ from (?:https|file)://\S+\.whl", done.stderr), done.stderr[-2000:]
    assert f"Expected sha256 {WRONG}" in done.stderr
    assert not (tmp_path / ".venv" / ".installed-stamp").exists(), "a refused install must not count as installed"


def test_an_image_build_refuses_a_lock_with_a_tampered_hash(images: dict[str, ImageRef], client: docker.DockerClient,
                                                              tmp_path: Path) -> None:
    context = tmp_path / "shim"
    shutil.copytree(REPO / "bed" / "images" / "context" / "shim", context)
    shutil.copytree(REPO / "bed" / "shim", context / "bed_shim", ignore=shutil.ignore_patterns("__pycache__"))
    tamper(context / "requirements.lock", "uvicorn")
    with pytest.raises(docker.errors.BuildError) as refused:
        client.images.build(path=str(context), buildargs={"BASE_IMAGE": images["python"].tag}, rm=True,
                            forcerm=True, labels={"bed.project": "bed-test"})
    log = "".join(str(chunk.get("stream", "")) for chunk in refused.value.build_log)
    assert "THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE" in log
    assert re.search(r"uvicorn==[0-9.]+ from https://\S+\.whl", log), log[-2000:]
