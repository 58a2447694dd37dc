"""bed_warm, the warm runner's forking server, run for real on this machine: a server process,
clients that connect to it, pytest sessions forked from it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parents[3] / "bed" / "runner"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    sessions = tmp_path / "sessions"
    runs = tmp_path / "runs"
    runs.mkdir()
    for n in range(45):  # sessions' folders of earlier runs, oldest first
        (runs / f"run-{n:02d}").mkdir()
        os.utime(runs / f"run-{n:02d}", (1_000_000 + n, 1_000_000 + n))
    library = tmp_path / "library"  # a library whose pydantic models wait for their first use, as the SDKs' do
    library.mkdir()
    (library / "bed_warm_models.py").write_text(
        "import pydantic\n"
        "class Inner(pydantic.BaseModel):\n"
        "    model_config = pydantic.ConfigDict(defer_build=True)\n"
        "    n: int\n"
        "class Later(pydantic.BaseModel):\n"
        "    model_config = pydantic.ConfigDict(defer_build=True)\n"
        "    inner: Inner\n"
        "class Unused(pydantic.BaseModel):\n"
        "    model_config = pydantic.ConfigDict(defer_build=True)\n"
        "    text: str\n")
    env = {**os.environ, "PYTHONPATH": f"{RUNNER}{os.pathsep}{library}", "BED_WARM_SESSIONS": str(sessions),
           "BED_WARM_WAIT": "30", "BED_WARM_PRELOAD": "json,no_such_module_here,bed_warm_models,anyio",
           "BED_WARM_RUNS": str(runs)}
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    sock = tmp_path / "warm.sock"
    proc = subprocess.Popen([sys.executable, "-m", "bed_warm", "serve", str(sock)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield sock, env
    finally:
        proc.kill()
        proc.wait(timeout=10)


def session(sock: Path, env: dict[str, str], cwd: Path, token: str, *args: str,
            extra: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    client_env = {k: v for k, v in env.items() if k != "BED_WARM_PRELOAD"}  # the server's own, not the session's
    return subprocess.run([sys.executable, "-m", "bed_warm", "run", str(sock), token, "--", "-p", "no:cacheprovider",
                           "-q", *args], env={**client_env, **(extra or {})}, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)


def in_background(sock: Path, env: dict[str, str], cwd: Path, token: str, test_file: str,
                  until: Path) -> subprocess.Popen[bytes]:
    """A client whose session runs on; returned once the session's test has written ``until``."""
    client = subprocess.Popen([sys.executable, "-m", "bed_warm", "run", str(sock), token, "--", "-p",
                               "no:cacheprovider", test_file], env=env, cwd=cwd,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not until.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return client


def raw_session(sock: Path, request: dict[str, object], out: Path) -> tuple[dict[str, int], str, str]:
    """A request as it reaches the server from a client other than ``bed_warm run``: the server's
    answer, and what the session wrote to its stdout and stderr (files in ``out``)."""
    deadline = time.monotonic() + 30
    while not sock.exists() and time.monotonic() < deadline:  # the server is still importing
        time.sleep(0.05)
    out.mkdir(exist_ok=True)
    with open(os.devnull) as stdin, open(out / "stdout", "w") as stdout, open(out / "stderr", "w") as stderr, \
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(60)
        conn.connect(str(sock))
        socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [stdin.fileno(), stdout.fileno(),
                                                                          stderr.fileno()])
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = conn.recv(4096)
            assert chunk, "the server ended the session without saying how"
            answer += chunk
    return json.loads(answer), (out / "stdout").read_text(), (out / "stderr").read_text()


def test_sessions_end_as_pytest_ended_with_their_output_env_and_folder(server: tuple[Path, dict[str, str]],
                                                                        tmp_path: Path) -> None:
    sock, env = server
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_a.py").write_text(
        "import os\n"
        "def test_env_and_folder():\n"
        "    assert os.environ['MINE'] == 'yes' and 'BED_WARM_PRELOAD' not in os.environ\n"
        "    assert os.getcwd() == os.environ['WANT_CWD']\n"
        "def test_fails():\n"
        "    assert 1 == 2, 'the bed_warm failure'\n")
    done = session(sock, env, suite, "t1", extra={"MINE": "yes", "WANT_CWD": str(suite)})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 1 passed" in done.stdout
    assert "the bed_warm failure" in done.stdout
    green = session(sock, env, suite, "t2", "-k", "env_and_folder", extra={"MINE": "yes", "WANT_CWD": str(suite)})
    assert green.returncode == 0, green.stdout + green.stderr
    usage = session(sock, env, suite, "t3", "--no-such-option")
    assert usage.returncode == 4


def test_a_session_ends_as_an_interpreter_would_whatever_its_request_holds(server: tuple[Path, dict[str, str]],
                                                                            tmp_path: Path) -> None:
    sock, env = server
    client_env = {k: v for k, v in env.items() if k != "BED_WARM_PRELOAD"}
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_where.py").write_text(
        "import os\n"
        "def test_where():\n"
        "    assert os.getcwd() == os.environ.get('WANT_CWD', '/')\n"
        "    assert ('BED_WARM_PRELOAD' in os.environ) is ('WANT_CWD' not in os.environ)  # the server's\n")
    quits = tmp_path / "quits"
    quits.mkdir()
    (quits / "conftest.py").write_text("import os\nraise SystemExit(int(os.environ['QUIT']) if "
                                       "os.environ['QUIT'].isdigit() else os.environ['QUIT'])\n")
    (quits / "test_never.py").write_text("def test_never():\n    pass\n")
    args = ["-p", "no:cacheprovider", "-q"]
    # pytest.main lets a SystemExit from a conftest through: its code, or 1 for a message
    for quit_with, code in (("7", 7), ("goodbye", 1)):
        answer, _, _ = raw_session(sock, {"args": [*args, str(quits)], "env": {**client_env, "QUIT": quit_with},
                                          "cwd": str(quits)}, tmp_path / f"quit-{quit_with}")
        assert answer == {"exit": code}, quit_with
    # a folder that is not there: the traceback, then 1
    answer, _, err = raw_session(sock, {"args": args, "env": client_env, "cwd": str(tmp_path / "gone")},
                                 tmp_path / "gone-out")
    assert answer == {"exit": 1}
    assert "FileNotFoundError" in err
    # no environment and no folder: the server's own (not the client's) and /
    answer, out, err = raw_session(sock, {"args": [*args, str(suite / "test_where.py"), "-k", "where"]},
                                   tmp_path / "bare")
    assert answer == {"exit": 0}, out + err
    # arguments that are not a list: none (a string's letters would be pytest's arguments)
    answer, out, err = raw_session(sock, {"args": "-x", "env": {**client_env, "WANT_CWD": str(suite)},
                                          "cwd": str(suite)}, tmp_path / "no-args")
    assert answer == {"exit": 0}, out + err
    assert "1 passed" in out


def test_a_plugin_the_server_imported_is_no_warning_in_a_session(server: tuple[Path, dict[str, str]],
                                                                  tmp_path: Path) -> None:
    sock, env = server  # the server imported anyio, whose pytest plugin pytest would rewrite
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings =\n    error\n")  # a strict suite
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    pass\n")
    done = session(sock, env, tmp_path, "w1", "-rw")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cannot be rewritten" not in done.stdout + done.stderr


def test_no_state_leaks_from_one_session_to_the_next(server: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    sock, env = server
    (tmp_path / "test_leak.py").write_text(
        "import json, os, sys\n"
        "def test_clean():\n"
        "    assert not hasattr(json, 'bed_leak') and 'BED_LEAK' not in os.environ\n"
        "    assert 'test_leak' not in sys.modules or sys.modules['test_leak'].__file__.endswith('test_leak.py')\n"
        "    json.bed_leak = 1\n"
        "    os.environ['BED_LEAK'] = '1'\n")
    for token in ("a", "b", "c"):
        done = session(sock, env, tmp_path, token)
        assert done.returncode == 0, done.stdout + done.stderr


def test_a_session_that_dies_or_is_stopped_ends_with_its_signal(server: tuple[Path, dict[str, str]],
                                                                 tmp_path: Path) -> None:
    sock, env = server
    child_pid = tmp_path / "child.pid"
    (tmp_path / "test_hang.py").write_text(
        "import subprocess, time\n"
        "def test_hang():\n"
        f"    p = subprocess.Popen(['sleep', '300'])\n"
        f"    open({str(child_pid)!r}, 'w').write(str(p.pid))\n"
        "    time.sleep(300)\n")
    left = tmp_path / "left.pid"
    (tmp_path / "test_exit.py").write_text(
        "import os, subprocess\n"
        "def test_exit():\n"
        f"    open({str(left)!r}, 'w').write(str(subprocess.Popen(['sleep', '300']).pid))\n"
        "    os._exit(0)\n")
    died = session(sock, env, tmp_path, "exit", "test_exit.py")
    assert died.returncode == 0  # as a fresh interpreter: exit 0 with no finish record (bed's verdict: a crash)
    deadline = time.monotonic() + 10
    while _alive(int(left.read_text())) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(int(left.read_text())), "what the session started outlived it"
    runner = in_background(sock, env, tmp_path, "hang", "test_hang.py", until=child_pid)
    stop = subprocess.run([sys.executable, "-m", "bed_warm", "stop", "hang"], env=env, check=False)
    assert stop.returncode == 0
    assert runner.wait(timeout=30) == 128 + 9
    sleeper = int(child_pid.read_text())
    deadline = time.monotonic() + 10
    while _alive(sleeper) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(sleeper), "what the session started outlived it"


ESCAPES = (
    "import os, subprocess, time\n"
    "def _write(name, pid):\n"
    "    with open(os.path.join(os.environ['OUT'], name), 'w') as out:\n"
    "        out.write(str(pid))\n"
    "def test_escapes():\n"
    "    # its own session and process group (setsid), its parent still alive\n"
    "    _write('setsid.pid', subprocess.Popen(['sleep', '300'], start_new_session=True).pid)\n"
    "    # a daemon: double fork and setsid, so its parent is gone and init would adopt it\n"
    "    if os.fork() == 0:\n"
    "        os.setsid()\n"
    "        if os.fork() == 0:\n"
    "            _write('daemon.pid', os.getpid())\n"
    "            time.sleep(300)\n"
    "        os._exit(0)\n"
    "    deadline = time.monotonic() + 10\n"
    "    while not os.path.exists(os.path.join(os.environ['OUT'], 'daemon.pid')) and time.monotonic() < deadline:\n"
    "        time.sleep(0.01)\n")


@pytest.mark.parametrize("how", ["ends", "is stopped"])
def test_what_left_the_sessions_group_or_session_dies_with_it_too(server: tuple[Path, dict[str, str]],
                                                                   tmp_path: Path, how: str) -> None:
    """A setsid'd child and a double-forked daemon: outside the session's process group, so they
    outlived a session of a kept stack until `bed down`. The manager is their subreaper now."""
    sock, env = server
    (tmp_path / "test_escapes.py").write_text(ESCAPES + ("    time.sleep(300)\n" if how == "is stopped" else ""))
    files = [tmp_path / name for name in ("setsid.pid", "daemon.pid")]
    try:
        if how == "ends":  # (before: they held the client's output open, so the client never returned)
            done = session(sock, env, tmp_path, "esc", "test_escapes.py", extra={"OUT": str(tmp_path)}, timeout=30)
            assert done.returncode == 0, done.stdout + done.stderr
        else:
            runner = in_background(sock, {**env, "OUT": str(tmp_path)}, tmp_path, "esc", "test_escapes.py",
                                   until=files[1])
            subprocess.run([sys.executable, "-m", "bed_warm", "stop", "esc"], env=env, check=True)
            assert runner.wait(timeout=30) == 128 + 9
        pids = [int(f.read_text()) for f in files]
        deadline = time.monotonic() + 10
        while any(map(_alive, pids)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [p for p in pids if _alive(p)] == [], "a process the session started outlived it"
    finally:
        for pid in (int(f.read_text()) for f in files if f.exists()):  # a failed test leaves nothing either
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_a_client_that_goes_away_takes_its_session_with_it(server: tuple[Path, dict[str, str]],
                                                           tmp_path: Path) -> None:
    sock, env = server
    marker = tmp_path / "started"
    (tmp_path / "test_slow.py").write_text(
        f"import time\ndef test_slow():\n    open({str(marker)!r}, 'w').close()\n    time.sleep(300)\n")
    client = in_background(sock, env, tmp_path, "gone", "test_slow.py", until=marker)
    pidfile = Path(env["BED_WARM_SESSIONS"]) / "gone"
    pid = int(pidfile.read_text())
    client.kill()
    client.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def run_twice_with_idle_between(server: tuple[Path, dict[str, str]], tmp_path: Path, test: str) -> None:
    """The test file ``test`` in a session (FIRST=1), then, after the server idled, in another."""
    sock, env = server
    (tmp_path / "test_twice.py").write_text(test)
    first = session(sock, env, tmp_path, "t1", extra={"FIRST": "1"})
    assert first.returncode == 0, first.stdout + first.stderr
    time.sleep(1.5)  # the server is idle: it takes on what the session imported and built
    second = session(sock, env, tmp_path, "t2", extra={"FIRST": "0"})
    assert second.returncode == 0, second.stdout + second.stderr


def test_the_server_imports_what_sessions_imported_when_idle(server: tuple[Path, dict[str, str]],
                                                             tmp_path: Path) -> None:
    run_twice_with_idle_between(server, tmp_path, (
        "import os, sys\n"
        "def test_learn():\n"
        "    first = os.environ.get('FIRST') == '1'\n"
        "    assert ('wave' in sys.modules) is not first\n"
        "    import wave  # noqa: F401\n"))


def test_the_server_builds_the_deferred_models_sessions_built_when_idle(server: tuple[Path, dict[str, str]],
                                                                        tmp_path: Path) -> None:
    run_twice_with_idle_between(server, tmp_path, (
        "import os\n"
        "import bed_warm_models as m\n"
        "def test_models():\n"
        "    first = os.environ.get('FIRST') == '1'\n"
        "    assert m.Later.__pydantic_complete__ is not first\n"
        "    assert m.Later.model_validate({'inner': {'n': 7}}).inner.n == 7\n"
        "    assert not m.Unused.__pydantic_complete__  # only what a session used is built\n"))


def test_a_client_without_a_server_says_so(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(RUNNER), "BED_WARM_WAIT": "0.3"}
    done = subprocess.run([sys.executable, "-m", "bed_warm", "run", str(tmp_path / "none.sock"), "x", "--", "-q"],
                          env=env, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 70
    assert "no warm runner" in done.stderr


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for this purpose
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def test_a_session_gets_its_own_pythonpath_and_no_collection_walks_the_servers_imports(
        server: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    sock, env = server
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "bed_warm_extra_mod.py").write_text("VALUE = 42\n")
    (tmp_path / "test_path.py").write_text(
        "import gc\n"
        "def test_path():\n"
        "    import bed_warm_extra_mod\n"
        "    assert bed_warm_extra_mod.VALUE == 42\n"
        "def test_frozen():\n"
        "    assert gc.get_freeze_count() > 1000  # pytest's gc.collect() calls skip what the server imported\n")
    done = session(sock, env, tmp_path, "pp", extra={"PYTHONPATH": f"{extra}{os.pathsep}{env['PYTHONPATH']}"})
    assert done.returncode == 0, done.stdout + done.stderr


def test_old_session_folders_are_pruned_when_idle(server: tuple[Path, dict[str, str]]) -> None:
    runs = Path(server[1]["BED_WARM_RUNS"])
    deadline = time.monotonic() + 20
    while len(list(runs.iterdir())) > 40 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(p.name for p in runs.iterdir()) == [f"run-{n:02d}" for n in range(5, 45)]  # the newest 40
