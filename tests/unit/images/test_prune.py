"""prune.sh, run for real on a small site-packages: what it sets aside, drops and puts back."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

PRUNE = Path(__file__).resolve().parents[3] / "bed" / "images" / "context" / "litellm" / "prune.sh"
KEPT = ("numpy/__init__.py", "numpy/testing/__init__.py", "numpy/_core/_umath.so", "litellm/tests/conftest.py",
        "litellm/rust_bridge/_native.pyi", "litellm/proxy/x.h", "pkg-1.0.dist-info/METADATA")
PRUNED = ("numpy/_core/tests/test_umath.py", "numpy/tests/test_a.py", "regex/test/test_regex.py",
          "numpy/__init__.pyi", "numpy/_core/include/numpy/ndarraytypes.h", "pkg/_speedups.c", "pkg/x.pyx")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site-packages"
    for name in KEPT + PRUNED:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    return root


def prune(site: Path, step: str) -> str:
    done = subprocess.run(["sh", str(PRUNE), step], env={"PATH": "/usr/bin:/bin", "BED_SITE": str(site),
                                                         "BED_PRUNED": str(site.parent / "pruned")},
                          capture_output=True, text=True, check=True)
    return done.stdout


def files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_aside_then_drop_leaves_the_gateway_and_what_dependencies_run(site: Path) -> None:
    assert "set aside" in prune(site, "aside")
    assert files(site) == set(KEPT)
    prune(site, "drop")
    assert files(site) == set(KEPT)
    assert not (site.parent / "pruned").exists()


def test_restore_puts_back_every_file_where_it_was(site: Path) -> None:
    prune(site, "aside")
    prune(site, "restore")
    assert files(site) == set(KEPT + PRUNED)
    assert all((site / name).read_text() == name for name in KEPT + PRUNED)
    assert not (site.parent / "pruned").exists()
