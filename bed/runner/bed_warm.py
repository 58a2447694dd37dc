"""A warm runner: one interpreter that has imported pytest and the heavy libraries once, and
forks a fresh pytest session for every tier a kept stack runs (the dev loop in seconds).

Standard library only; the runner image carries it as ``bed_warm`` beside ``bed_records``.

    python -m bed_warm serve SOCKET          imports BED_WARM_PRELOAD (comma-separated module
                                             names), then serves; the socket appears once ready
    python -m bed_warm run SOCKET TOKEN -- ARGS
                                             runs ``pytest ARGS`` in a fork, with this process's
                                             stdin/stdout/stderr, environment and working folder;
                                             exits as that session exited (128+N for signal N)
    python -m bed_warm stop TOKEN            kills the session TOKEN and everything it started

Each session is forked from the server, which never imports a test, a conftest or bed's plugin:
every run starts from the same clean state, exactly as a fresh interpreter would, only without
paying for the imports again. A manager process sits between the server and each session: it
reports the session's end to the client, and kills the session with everything it started when
the client goes away (bed stops a tier at its budget that way) or when the session ends. The
manager is a child subreaper (``PR_SET_CHILD_SUBREAPER``), so a process that left the session's
process group or session (``setsid``, a double fork) is still below it, never adopted by init: at
the end it kills the process group, then every process below it in /proc, and reaps them.
When idle, the server imports the library modules (standard library and installed packages
only) that the last sessions imported and it had not, and builds the pydantic models they built
(the SDKs defer building thousands of models to their first use, so every session paid for the
ones it touched again), so the next session starts warmer.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import random
import select
import shutil
import signal
import socket
import sys
import sysconfig
import time

# Inside the runner container: one pid file per running session, and what sessions imported.
SESSIONS = os.environ.get("BED_WARM_SESSIONS", "/tmp/bed-warm")  # noqa: S108
WAIT_S = float(os.environ.get("BED_WARM_WAIT", "300"))  # how long a client waits for the server's imports
POLL_S = 0.05
NO_ANSWER = 70  # the session's manager died without saying how the session ended
IDLE_S = 0.5
END_S = 5.0  # how long a manager keeps killing what its session left before it gives up
PR_SET_CHILD_SUBREAPER = 36  # prctl(2)
KEEP_RUNS = 40  # session folders kept (bed reads each as soon as its session ends)
LIBRARIES = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")})
_deferred: list[type] = []  # the server's pydantic models not built yet; a session says which it built
_plugins: list[str] = []  # the packages of installed pytest plugins (pytest rewrites their asserts)


# --- the server ---------------------------------------------------------------------------------


def serve(path: str) -> None:
    for name in filter(None, (n.strip() for n in os.environ.get("BED_WARM_PRELOAD", "").split(","))):
        try:
            importlib.import_module(name)
        except Exception as exc:  # a preload that fails is only slower, never wrong
            print(f"bed_warm: not preloaded {name}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    importlib.import_module("pytest")
    _plugins[:] = _plugin_packages()
    _deferred[:] = _unbuilt_models()
    gc.freeze()  # what is imported stays: no collection in a session walks it again (pytest collects)
    os.makedirs(SESSIONS, exist_ok=True)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the managers are reaped by the kernel
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    staging = f"{path}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(staging)
    listener.bind(staging)
    listener.listen(16)
    os.replace(staging, path)  # the socket's path exists only once the server accepts
    print(f"bed_warm: serving on {path} (pid {os.getpid()})", flush=True)
    while True:
        if not select.select([listener], [], [], IDLE_S)[0]:
            _learn()  # idle: import what the last sessions imported, so the next ones need not
            _prune(os.environ.get("BED_WARM_RUNS", ""))
            continue
        conn, _ = listener.accept()
        try:
            request, fds = _receive(conn)
        except (OSError, ValueError) as exc:
            print(f"bed_warm: a bad request: {exc}", file=sys.stderr, flush=True)
            conn.close()
            continue
        if os.fork() == 0:
            listener.close()
            _manage(conn, request, fds)  # never returns
        conn.close()
        for fd in fds:
            os.close(fd)


def _receive(conn: socket.socket) -> tuple[dict[str, object], list[int]]:
    data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
    while data and not data.endswith(b"\n"):  # the descriptors come with the first part
        more = conn.recv(1 << 16)
        if not more:
            break
        data += more
    if len(fds) != 3:
        for fd in fds:
            os.close(fd)
        raise ValueError(f"expected stdin, stdout and stderr, got {len(fds)} descriptor(s)")
    request = json.loads(data.decode())
    if not isinstance(request, dict):
        raise ValueError("the request is not an object")
    return request, fds


def _manage(conn: socket.socket, request: dict[str, object], fds: list[int]) -> None:
    """The manager: fork the session, watch it and its client, report how it ended."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _become_subreaper()  # what the session orphans (a setsid'd daemon, a double fork) is adopted here
    pid = os.fork()
    if pid == 0:
        conn.close()
        _session(request, fds)  # never returns
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)  # also here: a kill may come before the session has run a line
    for fd in fds:
        os.close(fd)
    token = str(request.get("token") or pid)
    pidfile = os.path.join(SESSIONS, os.path.basename(token))
    with open(pidfile, "w") as out:
        out.write(str(pid))
    status = _watch(conn, pid)
    _end_everything(pid)  # whatever the session started goes with it, in its group or not
    with contextlib.suppress(FileNotFoundError):
        os.unlink(pidfile)
    if status is not None:
        answer = {"signal": os.WTERMSIG(status)} if os.WIFSIGNALED(status) else {"exit": os.WEXITSTATUS(status)}
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps(answer).encode() + b"\n")
    os._exit(0)


def _become_subreaper() -> None:
    with contextlib.suppress(Exception):  # Linux only; elsewhere the process group is all that is killed
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _end_everything(group: int) -> None:
    """Kill the session's process group, then every process still below this manager (a subreaper,
    so the processes that left the group or the session are below it too), until none is left;
    reap them all."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)
    deadline = time.monotonic() + END_S
    while time.monotonic() < deadline:
        alive = [pid for pid, state in _below(os.getpid()) if state != "Z"]
        for pid in alive:  # a process forking meanwhile: its child is found on the next pass
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        _reap()
        if not alive:
            return
        time.sleep(0.005)


def _below(root: int) -> list[tuple[int, str]]:
    """Every process below ``root`` (pid, state letter), from /proc's parent links."""
    children: dict[int, list[tuple[int, str]]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()  # after "pid (comm)", which may hold spaces
        except OSError:
            continue  # gone meanwhile
        children.setdefault(int(fields[1]), []).append((int(name), fields[0].decode()))
    found: list[tuple[int, str]] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child[0])
    return found


def _reap() -> None:
    while True:
        try:
            done, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not done:
            return


def _watch(conn: socket.socket, pid: int) -> int | None:
    """Wait for the session; None when the client went away first (the session is then killed)."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        readable, _, _ = select.select([conn], [], [], POLL_S)
        if readable and not conn.recv(1, socket.MSG_PEEK):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None


def _session(request: dict[str, object], fds: list[int]) -> None:
    """The forked session: the client's streams, environment and folder, then pytest."""
    code = 3
    before = set(sys.modules)
    try:
        _set_up_process(fds)
        _enter_client_environment(request)
        random.seed()  # not the server's sequence: every session draws its own
        sys.argv = ["pytest", *_pytest_args(request.get("args"), before)]
        import pytest

        code = int(pytest.main(sys.argv[1:]))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # reported as an interpreter would, then its code
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        _note_learned(before)
    os._exit(code)


def _set_up_process(fds: list[int]) -> None:
    """The session's own process group, the client's stdin, stdout and stderr, and the signal
    handlers a fresh interpreter starts with."""
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _enter_client_environment(request: dict[str, object]) -> None:
    """The client's environment (the server's when it sent none) and folder, and its own
    PYTHONPATH entries on sys.path ahead of the server's."""
    env = request.get("env")
    served_path = os.environ.get("PYTHONPATH", "")
    if isinstance(env, dict):
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in env.items()})
    cwd = str(request.get("cwd") or "/")
    os.chdir(cwd)
    sys.path[0] = cwd  # as `python -m pytest` run in that folder would have it
    if os.environ.get("PYTHONPATH", "") != served_path:  # the session's own, ahead of the server's
        sys.path[1:1] = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p not in sys.path]


def _pytest_args(args: object, before: set[str]) -> list[str]:
    """The client's arguments (none unless a list), then a filter for each installed plugin the
    server had imported before the session began."""
    # pytest cannot rewrite the asserts of a plugin the server imported (httpx imports anyio)
    # and says so in every session, where a fresh interpreter would not have imported it. Last,
    # so that these filters win over the session's own (-W error).
    quiet = [f"-Wignore:Module already imported so cannot be rewritten; {name}:pytest.PytestAssertRewriteWarning"
             for name in _plugins if name in before]
    return [*(str(a) for a in (args if isinstance(args, list) else [])), *quiet]


def _learn() -> None:
    """Import the library modules sessions imported that the server has not (only the standard
    library and installed packages, never a test, a conftest or a project's own module), then
    build the server's pydantic models that sessions built."""
    for name in sorted(os.listdir(SESSIONS)):
        if not name.startswith("learned-"):
            continue
        found = os.path.join(SESSIONS, name)
        try:
            with open(found) as learned:
                noted = json.load(learned)
        except (OSError, ValueError):
            noted = {}
        with contextlib.suppress(FileNotFoundError):
            os.unlink(found)
        noted = noted if isinstance(noted, dict) else {}
        for module in noted.get("modules") or []:
            if isinstance(module, str) and module not in sys.modules:
                with contextlib.suppress(Exception):  # a module that fails here is only slower, never wrong
                    importlib.import_module(module)
        for model in filter(None, map(_model, noted.get("models") or [])):
            _build(model)
        _deferred[:] = _unbuilt_models()
        gc.freeze()


def _plugin_packages() -> list[str]:
    from importlib import metadata

    with contextlib.suppress(Exception):  # a broken distribution only means a warning more
        return sorted({e.value.split(".")[0].split(":")[0] for e in metadata.entry_points(group="pytest11")})
    return []


def _unbuilt_models() -> list[type]:
    """The loaded pydantic models whose schema and validator wait for their first use
    (``defer_build``: the OpenAI and Anthropic SDKs defer all of theirs so they import fast)."""
    base = getattr(sys.modules.get("pydantic"), "BaseModel", None)
    found: list[type] = []
    if not isinstance(base, type):
        return found
    seen: set[type] = set()
    stack: list[type] = [base]
    while stack:
        sub: type
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
                if sub.__dict__.get("__pydantic_complete__") is False:
                    found.append(sub)
    return found


def _model(name: object) -> type | None:
    """A model the server has, by the ``module:qualname`` a session noted; None otherwise."""
    if not isinstance(name, str) or "<locals>" in name:
        return None
    module, _, qualname = name.partition(":")
    found: object = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found if isinstance(found, type) and found.__dict__.get("__pydantic_complete__") is False else None


def _build(model: type) -> None:
    """What the model's first use would build, built now. Only the model's own module and the
    namespace it was defined in resolve its names (depth 0: not this function's locals); a model
    that cannot be built here stays deferred, exactly as it was."""
    with contextlib.suppress(Exception):
        model.model_rebuild(raise_errors=False, _parent_namespace_depth=0)  # type: ignore[attr-defined]


def _prune(runs: str, keep: int = KEEP_RUNS) -> None:
    """The sessions' folders (records, JUnit, temporary files) beyond the newest ``keep`` go."""
    if not runs or not os.path.isdir(runs):
        return
    folders = sorted((os.path.join(runs, n) for n in os.listdir(runs)), key=_mtime, reverse=True)
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def _mtime(path: str) -> float:
    try:
        return os.path.getmtime(path)
    except OSError:
        return 0.0  # gone meanwhile


def _library(module: object) -> bool:
    where = getattr(module, "__file__", None)
    return isinstance(where, str) and where.startswith(LIBRARIES)


def _note_learned(before: set[str]) -> None:
    """What this session imported and built that the server may take on: library modules, and
    the server's own deferred models the session built."""
    new = [n for n, m in list(sys.modules.items()) if n not in before and "__main__" not in n and _library(m)]
    built = [f"{m.__module__}:{m.__qualname__}" for m in _deferred if m.__dict__.get("__pydantic_complete__")]
    if new or built:
        with contextlib.suppress(OSError), open(os.path.join(SESSIONS, f"learned-{os.getpid()}"), "w") as out:
            json.dump({"modules": sorted(new, key=lambda n: (n.count("."), n)), "models": built}, out)


# --- the client ---------------------------------------------------------------------------------


def run(path: str, token: str, args: list[str]) -> int:
    conn = _connect(path)
    request = {"token": token, "args": args, "env": dict(os.environ), "cwd": os.getcwd()}
    socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
    answer = b""
    while not answer.endswith(b"\n"):
        chunk = conn.recv(4096)
        if not chunk:
            print("bed_warm: the warm runner ended the session without saying how it ended", file=sys.stderr)
            return NO_ANSWER
        answer += chunk
    ended = json.loads(answer)
    return 128 + int(ended["signal"]) if "signal" in ended else int(ended["exit"])


def _connect(path: str) -> socket.socket:
    deadline = time.monotonic() + WAIT_S
    said = False
    while True:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(path)
            return conn
        except (FileNotFoundError, ConnectionRefusedError):
            conn.close()
            if time.monotonic() > deadline:
                print(f"bed_warm: no warm runner at {path} after {WAIT_S:g} s", file=sys.stderr)
                raise SystemExit(NO_ANSWER) from None
            if not said:
                print("bed_warm: the warm runner is still importing; waiting for it", file=sys.stderr, flush=True)
                said = True
            time.sleep(POLL_S)


def stop(token: str) -> int:
    """Kill a running session and its process group; 0 also when it had ended already."""
    try:
        with open(os.path.join(SESSIONS, os.path.basename(token))) as found:
            pid = int(found.read().strip())
    except (FileNotFoundError, ValueError):
        return 0
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "serve":
        serve(argv[1])
        return 0
    if len(argv) >= 3 and argv[0] == "run":
        rest = argv[3:]
        return run(argv[1], argv[2], rest[1:] if rest[:1] == ["--"] else rest)
    if len(argv) == 2 and argv[0] == "stop":
        return stop(argv[1])
    print("usage: python -m bed_warm serve SOCKET | run SOCKET TOKEN -- ARGS | stop TOKEN", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
