"""The suite copied into the runner is the user's tree: every file, links resolved, no exclusion by a
name bed uses itself; only what is provably not the suite stays out, each with its reason."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from bed.console import Console
from bed.errors import ConfigError
from bed.exec import Done
from bed.exec.fake import FakeExec
from bed.tiers import suite


def tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def copied(root: Path, **kw: object) -> dict[str, bytes]:
    return dict(suite.collect(root, root, **kw).files)  # type: ignore[arg-type]


def test_folders_named_like_bed_s_own_are_copied(tmp_path: Path) -> None:
    names = ["local/test_l.py", "build/test_b.py", "dist/test_d.py", ".artifacts/test_a.py", "venv/test_v.py",
             "tests/node_modules_notes.txt"]
    tree(tmp_path, dict.fromkeys(names, "x"))
    assert sorted(copied(tmp_path)) == sorted(names)


def test_links_are_copied_as_what_they_point_at_and_a_loop_is_said(tmp_path: Path) -> None:
    tree(tmp_path, {"shared/impl.py": "A = 1\n", "outside/data.txt": "d"})
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_link.py").symlink_to("../shared/impl.py")
    (tmp_path / "tests/more").symlink_to("../outside")
    (tmp_path / "tests/loop").symlink_to("..")
    (tmp_path / "tests/broken.py").symlink_to("nowhere.py")
    copy = suite.collect(tmp_path, tmp_path)
    files = dict(copy.files)
    assert files["tests/test_link.py"] == b"A = 1\n"
    assert files["tests/more/data.txt"] == b"d"
    why = dict(copy.left_out)
    assert why["tests/loop"] == "a symbolic link to a folder already copied (a loop?)"
    assert why["tests/broken.py"] == "a broken symbolic link"


def test_only_what_is_provably_not_the_suite_stays_out(tmp_path: Path) -> None:
    tree(tmp_path, {"test_a.py": "", ".git/HEAD": "ref", ".venv/pyvenv.cfg": "home", ".venv/lib/x.py": "",
                    "env2/pyvenv.cfg": "", "conda/conda-meta/history": "", "node_modules/p/index.js": "",
                    "__pycache__/m.pyc": "", "pkg/m.cpython-311.pyc": "", ".pytest_cache/v": "",
                    "local/artifacts/mvp/mvp_report.json": "{}", "PROJECT_READY.md": "# old", "data/big.bin": "x"})
    os.mkfifo(tmp_path / "a-fifo")
    outputs = (tmp_path / "local/artifacts/mvp", tmp_path / "PROJECT_READY.md")
    copy = suite.collect(tmp_path, tmp_path, outputs, exclude=("data/*",))
    assert [rel for rel, _ in copy.files] == ["test_a.py"]
    assert dict(copy.left_out) == {
        ".git": "version control", ".venv": "a virtualenv", "env2": "a virtualenv", "conda": "a virtualenv",
        "node_modules": "installed npm packages", "__pycache__": "a cache", ".pytest_cache": "a cache",
        "pkg/m.cpython-311.pyc": "compiled bytecode (a cache)", "local/artifacts/mvp": "bed's own output",
        "PROJECT_READY.md": "bed's own output", "data/big.bin": "excluded by suite_exclude",
        "a-fifo": "not a regular file (a FIFO, socket or device)"}


def test_sizes_are_checked_before_anything_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "huge.bin").write_bytes(b"")
    os.truncate(tmp_path / "huge.bin", suite.MAX_BYTES + 1)  # sparse: costs no disk
    read: list[Path] = []
    monkeypatch.setattr(suite.SizeBudget, "read", lambda self, path: read.append(path) or b"")
    with pytest.raises(ConfigError) as caught:
        suite.collect(tmp_path, tmp_path)
    assert "the biggest: huge.bin 64 MB" in caught.value.what
    assert "suite_exclude" in (caught.value.hint or "")
    assert read == []


def test_a_file_that_grows_after_its_stat_cannot_take_the_copy_over_the_total(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "test_a.py").write_bytes(b"x" * 10)
    grows = tmp_path / "data.bin"
    grows.write_bytes(b"")
    stat, seen = suite.Path.stat, []

    def grown(path: Path, **kwargs: object) -> os.stat_result:  # the walk and the sizes see it empty...
        found = stat(path, **kwargs)  # type: ignore[arg-type]
        if path == grows:
            seen.append(path)
            if len(seen) == 2:  # ...and it is written to between the size check and the read
                os.truncate(grows, suite.MAX_BYTES)
        return found

    monkeypatch.setattr(suite.Path, "stat", grown)
    with pytest.raises(ConfigError) as caught:
        suite.collect(tmp_path, tmp_path)
    monkeypatch.undo()
    assert caught.value.what.startswith(f"the project at {tmp_path} is over 64 MB: ")


def test_files_git_ignores_are_copied_and_counted(tmp_path: Path) -> None:
    tree(tmp_path, {"test_a.py": "", "secrets.env": "X=1"})
    run = FakeExec({("git",): Done(("git",), 0, b"secrets.env\0")})
    copy = suite.collect(tmp_path, tmp_path, run=run)
    assert sorted(dict(copy.files)) == ["secrets.env", "test_a.py"]
    assert copy.ignored == 1
    assert run.calls[0][:4] == ("git", "-C", str(tmp_path), "check-ignore")
    assert run.stdin[0] == b"secrets.env\0test_a.py"
    outside = FakeExec({("git",): Done(("git",), 128, b"", b"fatal: not a git repository")})
    assert suite.collect(tmp_path, tmp_path, run=outside).ignored == 0


def test_what_was_left_out_is_said(tmp_path: Path) -> None:
    tree(tmp_path, {"tests/test_a.py": "", ".git/HEAD": ""})
    out = io.StringIO()
    files, target = suite.files(tmp_path, tmp_path / "tests", (), Console(out=out))
    assert [rel for rel, _ in files] == ["tests/test_a.py"]
    assert target == "tests"
    assert "suite: left out .git: version control" in out.getvalue()


def test_a_suite_outside_the_project_is_copied_from_its_own_folder(tmp_path: Path) -> None:
    tree(tmp_path, {"elsewhere/test_e.py": "", "project/x.py": ""})
    files, target = suite.files(tmp_path / "project", tmp_path / "elsewhere")
    assert ([rel for rel, _ in files], target) == (["test_e.py"], ".")
