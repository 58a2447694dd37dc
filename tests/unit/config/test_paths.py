"""The safe readers: every file a user names is stat'ed first and never waited on."""

from __future__ import annotations

import io
import os
import signal
import socket
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bed.config import paths
from bed.config.gateway import fork_version
from bed.console import Console
from bed.errors import ConfigError
from bed.model.results import RunResult
from bed.report.ci import annotate

HINT = "the fix."


@pytest.fixture(autouse=True)
def never_hang() -> Iterator[None]:
    """A read that blocks (a FIFO opened without O_NONBLOCK) fails the test instead of hanging it."""
    def hung(signum: int, frame: object) -> None:
        raise TimeoutError("a read blocked")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _huge(path: Path, size: int = 2**30) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)  # sparse: a 1 GB size that costs nothing unless it is read
    return path


def test_a_regular_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"model_list: []\n")
    assert paths.read_bounded(tmp_path / "f", 100, "router config", hint=HINT) == b"model_list: []\n"


@pytest.mark.parametrize(("make", "says"), [
    (_fifo, "is a FIFO (named pipe), not a regular file"),
    (lambda p: p.mkdir() or p, "is a folder, not a regular file"),
    (lambda p: p.symlink_to("/dev/zero") or p, "is a character device, not a regular file"),
    (lambda p: _huge(p), "is 1024 MB, over the 1 KB bed reads"),
    (lambda p: p, "cannot read router config"),
])
def test_what_is_not_a_small_regular_file_is_one_line(tmp_path: Path, make: Callable[[Path], Path], says: str) -> None:
    path = make(tmp_path / "cfg")
    with pytest.raises(ConfigError) as caught:
        paths.read_bounded(path, 1024, "router config", hint=HINT)
    assert says in caught.value.line()
    assert caught.value.line().endswith("Hint: the fix.")


def test_a_socket_is_refused(tmp_path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "s"))
        with pytest.raises(ConfigError, match="is a socket"):
            paths.read_bounded(tmp_path / "s", 1024, "flake store", hint=HINT)
    finally:
        server.close()


def test_a_fifo_swapped_in_after_the_stat_is_refused_without_blocking(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Between the stat and the open the path became a FIFO: the open does not wait for a writer
    (O_NONBLOCK) and the open file's own stat refuses it."""
    regular = tmp_path / "regular"
    regular.write_bytes(b"{}")
    fifo = _fifo(tmp_path / "fifo")
    real = os.stat
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: real(regular) if Path(p) == fifo else real(p, *a, **k))
    with pytest.raises(ConfigError, match="is a FIFO"):
        paths.read_bounded(fifo, 1024, "report", hint=HINT)


def test_a_file_that_grew_past_the_limit_since_the_stat_is_refused(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 5000)
    small = tmp_path / "small"
    small.write_bytes(b"x")
    real = os.stat
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: real(small) if Path(p) == path else real(p, *a, **k))
    with pytest.raises(ConfigError, match="over the 1 KB"):
        paths.read_bounded(path, 1024, "report", hint=HINT)


def test_text_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"caf\xe9")
    with pytest.raises(ConfigError, match="not UTF-8 text \\(byte 3 is 0xe9\\)"):
        paths.read_text(tmp_path / "f", 100, "project file", hint=HINT)


def test_the_suite_budget_refuses_a_1gb_file_from_its_size_without_reading_it(tmp_path: Path) -> None:
    """The suite's size check read a 1 GB file whole (1.09 GB peak) before the total refused it."""
    (tmp_path / "conftest.py").write_bytes(b"x" * 1000)
    big = _huge(tmp_path / "data.bin")
    budget = paths.SizeBudget(64 * 2**20, f"the project at {tmp_path}", hint=HINT)
    assert budget.read(tmp_path / "conftest.py") == b"x" * 1000
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as caught:
            budget.read(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20, f"{peak} bytes allocated to refuse it"
    assert caught.value.line().startswith(f"CONFIG_ERROR: the project at {tmp_path} is over 64 MB: {big} alone is "
                                          "1024 MB, with 1000 bytes already taken.")


def test_the_suite_budget_adds_up_and_refuses_the_file_that_goes_over(tmp_path: Path) -> None:
    for name in "abc":
        (tmp_path / name).write_bytes(b"x" * 400)
    budget = paths.SizeBudget(1000, "the project", hint=HINT)
    assert budget.read(tmp_path / "a") == b"x" * 400
    assert budget.read(tmp_path / "b") == b"x" * 400
    assert budget.left == 200
    with pytest.raises(ConfigError, match="with 800 bytes already taken"):
        budget.read(tmp_path / "c")


def test_the_suite_budget_refuses_a_fifo(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a FIFO"):
        paths.SizeBudget(1000, "the project", hint=HINT).read(_fifo(tmp_path / "pipe"))


def test_a_working_folder_deleted_under_the_shell_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    with pytest.raises(ConfigError, match="the working folder is gone"):
        paths.working_folder()


def test_the_forks_pyproject_is_read_safely(tmp_path: Path) -> None:
    _fifo(tmp_path / "pyproject.toml")
    with pytest.raises(ConfigError, match=r"the fork's pyproject .* is a FIFO"):
        fork_version(tmp_path)


def test_a_job_summary_that_is_not_a_file_is_said_and_skipped(tmp_path: Path) -> None:
    out = io.StringIO()
    result = RunResult(run_id="0123abcd", gate="dev", ready=True, strict=False, checks=(), bases={}, images={},
                       timings={}, versions={})
    fifo = _fifo(tmp_path / "summary")
    annotate(result, {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(fifo)}, Console(out=out), tmp_path)
    assert "WARNING: the job summary was not written: CONFIG_ERROR: GITHUB_STEP_SUMMARY" in out.getvalue()
