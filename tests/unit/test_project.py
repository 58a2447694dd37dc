"""Things that keep the project honest: public API, generated compose, README, image hashes."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import bed
from bed.config.settings import ENV_VARS
from bed.errors import BedError
from bed.images.base import apt_mirror
from bed.images.build import build_context, digest
from bed.images.specs import SPECS
from bed.stack import compose

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()


def test_all_is_sorted_and_complete() -> None:
    # Sorted the way ruff's RUF022 sorts: CONSTANTS, then Classes, then the rest.
    def kind(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert bed.__all__ == sorted(bed.__all__, key=kind)
    public = {n for n in dir(bed) if not n.startswith("_") and n[0].isupper()}
    assert public <= set(bed.__all__)


def test_compose_file_is_what_the_code_renders() -> None:
    committed = (REPO / "compose" / "bed.yaml").read_text()
    assert committed == compose.render(), "compose/bed.yaml drifted: run `make compose`"


def test_readme_lists_every_env_var_and_exit_code() -> None:
    for name in ENV_VARS:
        assert f"`{name}`" in README, name
    codes = {cls.exit_code for cls in _subclasses(BedError)} | {0, 1, 70, 130, 143}
    for code in codes:
        assert re.search(rf"^\| *{code} *\|", README, re.MULTILINE), f"exit code {code} missing from README"


def test_readme_starts_with_the_two_commands() -> None:
    head = README[:1500]
    assert "make project-ready-core-only-with-docker" in head
    assert "make test" in head


def test_image_tags_change_with_content_only() -> None:
    spec = SPECS[0]
    context = build_context(spec, b"ca")
    assert digest(context, "sha256:base") == digest(dict(context), "sha256:base")
    assert digest(context, "sha256:base") != digest(context, "sha256:other")
    changed = {**context, "ca.crt": b"other ca"}
    assert digest(changed, "sha256:base") != digest(context, "sha256:base")
    assert not any("__pycache__" in name for name in context)


def test_the_runner_context_carries_the_plugin_and_the_tiers() -> None:
    runner = next(s for s in SPECS if s.name == "runner")
    context = build_context(runner, b"")
    assert {"lib/bed_records.py", "lib/bed_contract.py", "lib/bed_shards.py", "tiers/pytest.ini",
            "Dockerfile"} <= set(context)
    assert any(name.startswith("tiers/nd/test_") for name in context)


def test_apt_mirror_from_deb822_and_one_line_sources(tmp_path: Path) -> None:
    (tmp_path / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.internal/debian\nSuites: bookworm\n\n"
        "Types: deb\nURIs: http://mirror.internal/debian-security\n")
    assert apt_mirror((tmp_path,)) == "http://mirror.internal/debian"
    listing = tmp_path / "sources.list"
    listing.write_text("deb [arch=amd64] http://old.mirror/debian bookworm main\n")
    assert apt_mirror((listing,)) == "http://old.mirror/debian"
    assert apt_mirror((tmp_path / "none",)) == "http://deb.debian.org/debian"


def _subclasses(cls: type) -> set[type]:
    out = set(cls.__subclasses__())
    for sub in list(out):
        out |= _subclasses(sub)
    return out


def test_the_bad_input_page_has_every_row_of_the_bad_input_table() -> None:
    from tests.unit.test_bad_input import INPUTS, KINDS, ROWS

    page = (REPO / "docs" / "bad-input.md").read_text()
    matrix = {f"{name}-{tag}" for name, *_ in INPUTS for _, tag, _ in KINDS}
    for row in ROWS:
        if row[0] not in matrix:
            assert f"| `{row[0]}` |" in page, f"docs/bad-input.md lacks the row {row[0]}"
    for name, *_ in INPUTS:
        assert f"| `{name}-*` |" in page, f"docs/bad-input.md lacks the files row {name}"
    assert "docs/bad-input.md" in README


def test_the_top_level_images_are_the_build_contexts_and_travel_in_the_wheel(tmp_path: Path) -> None:
    """The Dockerfiles live in the repository's images/; the package reads them through its link,
    and the wheel carries every file of them (an installed bed builds its images from the wheel)."""
    link = REPO / "bed/images/context"
    assert link.is_symlink()
    assert link.resolve() == REPO / "images"
    source = tmp_path / "source"  # a copy: an in-tree build would leave build/ behind, and reuse it
    (source / "bed").mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "images", source / "images", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "bed", source / "bed", symlinks=True, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path), str(source)], capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("bed_readiness-*.whl")
    carried = {name.removeprefix("bed/images/context/") for name in zipfile.ZipFile(wheel).namelist()
               if name.startswith("bed/images/context/")}
    files = {str(p.relative_to(REPO / "images")) for p in (REPO / "images").rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}
    assert "litellm/Dockerfile" in files
    assert carried == files
