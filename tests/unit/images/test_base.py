"""The offline base: what prune() takes out of a bootstrapped rootfs, and what it leaves."""

from __future__ import annotations

from pathlib import Path

from bed.images.base import prune


def _file(root: Path, relative: str, size: int) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def test_prune_removes_apt_caches_docs_and_translations_and_counts_the_bytes(tmp_path: Path) -> None:
    gone = [_file(tmp_path, "var/cache/apt/archives/python3_3.11.deb", 1000),
            _file(tmp_path, "var/cache/apt/pkgcache.bin", 200),
            _file(tmp_path, "var/lib/apt/lists/deb.debian.org_dists_bookworm_main_binary-amd64_Packages", 300),
            _file(tmp_path, "usr/share/doc/python3/copyright", 40),
            _file(tmp_path, "usr/share/man/man1/python3.1.gz", 50),
            _file(tmp_path, "usr/share/locale/de/LC_MESSAGES/apt.mo", 60)]
    kept = [_file(tmp_path, "usr/share/locale/locale.alias", 7),
            _file(tmp_path, "var/lib/apt/lists/lock", 0),
            _file(tmp_path, "var/lib/dpkg/status", 9),
            _file(tmp_path, "usr/bin/python3", 11)]
    (tmp_path / "var/cache/apt/archives/partial").mkdir()
    assert prune(tmp_path) == 1650
    assert [p for p in gone if p.exists()] == []
    assert [p for p in kept if not p.exists()] == []
    assert (tmp_path / "var/cache/apt/archives/partial").is_dir()  # apt-get expects its folders
    assert not (tmp_path / "usr/share/locale/de").exists()


def test_prune_of_a_rootfs_with_nothing_to_remove_frees_nothing(tmp_path: Path) -> None:
    _file(tmp_path, "usr/bin/python3", 11)
    assert prune(tmp_path) == 0
    assert (tmp_path / "usr/bin/python3").exists()
