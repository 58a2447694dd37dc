"""Breaking things on purpose: every case must end within its budget, say what happened,
and leave no container or network of the run behind."""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import docker.errors
import pytest

from bed.images.build import ImageRef

from .conftest import bed_cli, clean_env, leftovers

pytestmark = pytest.mark.usefixtures("images", "no_leftovers")


class Bed:
    """A `bed` subprocess whose output is read line by line as it comes."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "bed", *args], cwd=cwd, env={**clean_env(), **(env or {})},
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.lines: list[tuple[float, str]] = []
        self._queue: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            item = (time.monotonic(), line.rstrip("\n"))
            self.lines.append(item)
            self._queue.put(item)

    def wait_for(self, pattern: str, timeout: float = 180) -> tuple[float, re.Match[str]]:
        deadline = time.monotonic() + timeout
        for when, line in list(self.lines):
            if match := re.search(pattern, line):
                return when, match
        while time.monotonic() < deadline:
            try:
                when, line = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if match := re.search(pattern, line):
                return when, match
        raise AssertionError(f"no line matching {pattern!r} within {timeout} s:\n{self.text[-3000:]}")

    def finish(self, timeout: float = 120) -> int:
        code = self.proc.wait(timeout=timeout)
        time.sleep(0.2)  # let the reader drain
        return code

    @property
    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)

    @property
    def run_id(self) -> str:
        return re.search(r"run ([0-9a-f]{8})", self.text).group(1)  # type: ignore[union-attr]


def _container(client: docker.DockerClient, bed: Bed, suffix: str) -> docker.models.containers.Container:
    _, match = bed.wait_for(r"starting (bed-[0-9a-f]{8})-" + suffix)
    deadline = time.monotonic() + 10
    while True:  # the line is printed just before the engine creates it
        try:
            return client.containers.get(f"{match.group(1)}-{suffix}")
        except docker.errors.NotFound:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


Starter = Callable[..., Bed]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Starter]:
    """Start `bed` subprocesses; any still running when the test ends gets SIGTERM (and cleans up)."""
    started: list[Bed] = []

    def launch(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> Bed:
        bed = Bed(args, cwd or tmp_path, env)
        started.append(bed)
        return bed

    yield launch
    for bed in started:
        if bed.proc.poll() is None:
            bed.proc.terminate()
            bed.proc.wait(timeout=60)


@pytest.mark.parametrize("strict", [False, True], ids=["skip", "strict-fails"])
def test_shim_killed_during_the_nd_tier(client: docker.DockerClient, start: Starter, strict: bool) -> None:
    bed = start(["run"], env={"STRICT": "1"} if strict else {})
    shim = _container(client, bed, "mini-agent")
    bed.wait_for(r"bed-\w+-litellm healthy after")  # the services are up; the ND tier is under way
    killed_at = time.monotonic()
    shim.kill()
    noticed_at, _ = bed.wait_for(r"DEPENDENCY DOWN during the tier: bed-[0-9a-f]{8}-mini-agent is exited", 30)
    code = bed.finish()
    assert noticed_at - killed_at < 2.0, f"noticed after {noticed_at - killed_at:.2f} s"
    print(f"exit-to-report latency (shim killed): {noticed_at - killed_at:.2f} s")
    text = bed.text
    assert "SKIP all_smokes_nd: a dependency went down mid-run" in text
    if strict:
        assert code == 1
        assert re.search(r"CAUSE all_smokes_nd: bed-\w+-mini-agent: DEPENDENCY DOWN", text)
    else:
        assert code == 0, text[-3000:]
        assert "SKIPPED  all_smokes_nd" in text
    assert leftovers(client, bed.run_id) == []


def test_proxy_paused_is_a_hang_caught_at_once(client: docker.DockerClient, tmp_path: Path, start: Starter) -> None:
    bed = start(["run", "--tier", "nd"])
    proxy = _container(client, bed, "litellm")
    bed.wait_for(r"bed-\w+-litellm healthy after")
    paused_at = time.monotonic()
    proxy.pause()
    noticed_at, _ = bed.wait_for(r"DEPENDENCY DOWN during the tier: bed-[0-9a-f]{8}-litellm is paused", 30)
    # The only tier asked for was stopped: a loud SKIP, and a run in which nothing was tested is not READY.
    assert bed.finish() == 1, bed.text[-3000:]
    assert "SKIP all_smokes_nd: a dependency went down mid-run" in bed.text
    assert "CAUSE census: census: nothing was tested" in bed.text
    assert noticed_at - paused_at < 2.0
    print(f"pause-to-report latency (proxy paused): {noticed_at - paused_at:.2f} s")
    assert leftovers(client, bed.run_id) == []


def test_runner_oom_killed_is_named(client: docker.DockerClient, tmp_path: Path, start: Starter) -> None:
    bed = start(["run", "--gate", "dev"], env={"BED_RUNNER_MEMORY": "24m"})
    assert bed.finish() == 1
    assert "the runner was OOM-killed (BED_RUNNER_MEMORY=24m; raise it)" in bed.text
    assert re.search(r"CAUSE all_smokes_core: .*OOM-killed", bed.text)
    assert leftovers(client, bed.run_id) == []


def test_shim_port_taken_is_one_line_and_nothing_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = bed_cli(["run", "--tier", "nd"], tmp_path, {"MINI_AGENT_API_BASE": f"http://127.0.0.1:{port}"})
    last = done.stdout.strip().splitlines()
    assert done.returncode == 5  # STACK_ERROR: bed's own setup failed; never a SKIP, never READY
    assert any(ln.startswith(f"STACK_ERROR: port {port} on 127.0.0.1 (from MINI_AGENT_API_BASE) is already taken")
               for ln in last)
    assert "Traceback" not in done.stdout + done.stderr
    assert "VERDICT" not in done.stdout


@pytest.mark.parametrize(("moment", "signum"), [
    (r"waiting for bed-\w+-litellm", signal.SIGINT),
    (r"all_smokes_core \| ", signal.SIGTERM),
    (r"starting bed-\w+-runner-nd", signal.SIGINT),
    (r"all_smokes_nd \| .*PASSED", signal.SIGTERM),
], ids=["int-while-waiting", "term-in-deterministic", "int-starting-nd", "term-in-nd"])
def test_signals_tear_everything_down(client: docker.DockerClient, tmp_path: Path, start: Starter, moment: str,
                                      signum: signal.Signals) -> None:
    bed = start(["run"])
    bed.wait_for(moment)
    sent = time.monotonic()
    bed.proc.send_signal(signum)
    code = bed.finish(timeout=30)
    assert code == 128 + signum
    assert time.monotonic() - sent < 3
    print(f"signal-to-exit ({moment}): {time.monotonic() - sent:.2f} s")
    assert "INTERRUPTED" in bed.text
    assert leftovers(client, bed.run_id) == []


def test_two_runs_at_once_do_not_collide(client: docker.DockerClient, tmp_path: Path, start: Starter) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = start(["run", "--tier", "nd"], tmp_path / "a"), start(["run", "--tier", "nd"], tmp_path / "b")
    assert (first.finish(300), second.finish(300)) == (0, 0), first.text[-2000:] + second.text[-2000:]
    assert first.run_id != second.run_id
    for bed in (first, second):
        assert "VERDICT: READY" in bed.text
        assert leftovers(client, bed.run_id) == []


def test_gc_removes_what_a_killed_run_left(client: docker.DockerClient, tmp_path: Path, start: Starter) -> None:
    bed = start(["run", "--tier", "nd"])
    bed.wait_for(r"waiting for bed-\w+-litellm")
    bed.proc.kill()  # SIGKILL: no handler runs, so the stack stays behind
    bed.finish()
    assert leftovers(client, bed.run_id) != []
    done = bed_cli(["gc"], tmp_path)
    assert done.returncode == 0
    assert re.search(r"removed [1-9]\d* container\(s\) and 1 network\(s\)", done.stdout)
    assert leftovers(client, bed.run_id) == []


def test_unknown_base_image_is_one_line(tmp_path: Path, images: dict[str, ImageRef]) -> None:
    done = bed_cli(["run"], tmp_path, {"BED_BASE_IMAGE": "registry.invalid/none:1"})
    assert done.returncode == 4
    assert done.stdout.strip().splitlines()[-1].startswith("IMAGE_ERROR: base image registry.invalid/none:1")


def test_a_tier_over_its_budget_is_an_error_with_a_cause_not_a_hang(client: docker.DockerClient,
                                                                    start: Starter) -> None:
    bed = start(["run", "--tier", "nd"], env={"ALL_SMOKES_ND_TIMEOUT": "1"})
    assert bed.finish(timeout=120) == 1
    assert "all_smokes_nd ran out of its 1 s budget; stopping it" in bed.text
    assert re.search(r"CAUSE all_smokes_nd: all_smokes_nd \(budget\): stopped after 1 s", bed.text)
    assert leftovers(client, bed.run_id) == []


def test_gc_from_another_pid_namespace_never_touches_a_live_run(client: docker.DockerClient, tmp_path: Path,
                                                                start: Starter) -> None:
    # CI jobs sharing one engine run in their own PID namespaces: a PID there says nothing here.
    bed = start(["run", "--tier", "nd"])
    bed.wait_for(r"waiting for bed-\w+-litellm")
    assert leftovers(client, bed.run_id) != []
    other = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-m", "bed", "gc"],
                           cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=120, check=False)
    assert other.returncode == 0, other.stdout + other.stderr
    assert "removed 0 container(s) and 0 network(s)" in other.stdout
    here = bed_cli(["gc"], tmp_path)  # the same namespace: its process is alive, so it stays too
    assert "removed 0 container(s)" in here.stdout
    assert bed.finish(300) == 0, bed.text[-3000:]
    assert "VERDICT: READY" in bed.text


def test_a_wait_budget_shorter_than_the_proxy_boot_is_a_stack_error(tmp_path: Path) -> None:
    done = bed_cli(["run", "--tier", "nd"], tmp_path, {"BED_WAIT_TIMEOUT": "0.5"})
    assert done.returncode == 5, done.stdout[-3000:]
    assert re.search(r"^STACK_ERROR: bed-\w+-(litellm|mini-agent) was not healthy at http://\S+ within 0.5 s",
                     done.stdout, re.MULTILINE)
    assert "raise BED_WAIT_TIMEOUT (now 0.5 s; the default is 120)" in done.stdout
    assert "VERDICT" not in done.stdout


def test_a_router_config_the_proxy_cannot_load_is_a_stack_error_with_its_log(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "model_list:\n  - {model_name: codex-agent-1, litellm_params: {model: openai/codex-agent-1}}\n"
        "litellm_settings:\n  callbacks: not_a_module_anywhere.handler\n")
    done = bed_cli(["run", "--tier", "nd", "--router-config", "mine.yaml"], tmp_path)
    assert done.returncode == 5, done.stdout[-3000:]
    assert re.search(r"^STACK_ERROR: bed-\w+-litellm stopped before it was healthy", done.stdout, re.MULTILINE)
    assert "not_a_module_anywhere" in done.stdout  # its log tail says why
    assert "VERDICT" not in done.stdout


def test_a_shell_still_holding_bed_up_s_exports_is_told_so(client: docker.DockerClient, tmp_path: Path) -> None:
    up = bed_cli(["up"], tmp_path)
    try:
        assert up.returncode == 0, up.stdout[-3000:]
        exports = dict(re.findall(r"^export (\w+)=(.*)$", up.stdout, re.MULTILINE))
        done = bed_cli(["run", "--tier", "nd"], tmp_path, {"MINI_AGENT_API_BASE": exports["MINI_AGENT_API_BASE"]})
        assert done.returncode == 5, done.stdout[-3000:]
        assert "is already taken" in done.stdout
        assert "a stack kept by `bed up` (run " in done.stdout
    finally:
        bed_cli(["down"], tmp_path)


def test_two_runbook_runs_at_once_one_gets_the_port_the_other_an_error(tmp_path: Path, start: Starter) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    env = {"MINI_AGENT_API_BASE": "http://127.0.0.1:8788"}
    first = start(["run", "--tier", "nd"], tmp_path / "a", env)
    first.wait_for(r"starting bed-\w+-mini-agent")
    second = start(["run", "--tier", "nd"], tmp_path / "b", env)
    codes = sorted((first.finish(300), second.finish(300)))
    assert codes == [0, 5], first.text[-2000:] + second.text[-2000:]
