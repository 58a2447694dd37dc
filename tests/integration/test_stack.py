"""The real stack: real engine, the real LiteLLM proxy, real HTTP from the host."""

from __future__ import annotations

import json
import re
from pathlib import Path

import docker
import httpx
import jsonschema
import pytest
from openai import OpenAI

import bed
from bed.config.router import plan
from bed.config.settings import Config
from bed.console import Console
from bed.engine.docker import DockerEngine
from bed.engine.protocol import ContainerSpec
from bed.errors import PortInUseError
from bed.images.build import ImageRef
from bed.pipeline.stages.prepare import new_master_key
from bed.stack.bringup import Plan, bring_up
from bed.stack.owner import Stack
from bed.stack.services import IDLE, RUNNER_CPU_SHARES

from .conftest import REPO, bed_cli, leftovers

SCHEMA = json.loads((Path(bed.__file__).parent / "report" / "report.schema.json").read_text())


def _plan(config: Config, images: dict[str, ImageRef], key: str, **kwargs: object) -> Plan:
    router = plan(None, config.group, config.bases.network, strict=True)
    return Plan.of(config, images, router, key, **kwargs)


def test_openai_client_through_the_real_proxy_to_the_shim(engine: DockerEngine, images: dict[str, ImageRef],
                                                           quiet: Console, no_leftovers: None) -> None:
    config = Config.from_env({}, root=REPO)
    key = new_master_key()
    with Stack(engine, config.run_id, quiet) as stack:
        stack.create_network()
        services = bring_up(stack, _plan(config, images, key, publish=True))
        proxy_url = f"http://127.0.0.1:{engine.published_port(services.proxy.id, 4000)}"
        shim_url = f"http://127.0.0.1:{engine.published_port(services.shim.id, 8788)}"

        gateway = OpenAI(api_key=key, base_url=proxy_url + "/v1", max_retries=0, timeout=30)
        reply = gateway.chat.completions.create(model="codex-agent-1",
                                                messages=[{"role": "user", "content": "through the gateway"}])
        assert (reply.choices[0].message.content or "").startswith("[mini-agent] through the gateway")
        stream = gateway.chat.completions.create(model="codex-agent-1", stream=True,
                                                 messages=[{"role": "user", "content": "streamed"}])
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices).startswith("[mini-agent]")

        journal = httpx.get(shim_url + "/_bed/journal", timeout=10).json()["entries"]
        assert [e["body"]["model"] for e in journal if e["path"].endswith("/chat/completions")] == \
            ["codex-agent-1", "codex-agent-1"]
        # The published ports are on loopback only.
        ports = engine._client.api.inspect_container(services.proxy.id)["NetworkSettings"]["Ports"]["4000/tcp"]
        assert {p["HostIp"] for p in ports} == {"127.0.0.1"}
        run_id = config.run_id
    assert leftovers(engine._client, run_id) == []


def test_a_runs_own_containers_publish_nothing_and_its_runners_yield_the_cores(
        engine: DockerEngine, images: dict[str, ImageRef], quiet: Console, no_leftovers: None) -> None:
    config = Config.from_env({}, root=REPO)
    with Stack(engine, config.run_id, quiet) as stack:
        stack.create_network()
        services = bring_up(stack, _plan(config, images, new_master_key()))
        runner = stack.start("runner", "runner", ContainerSpec(name="", image=images["runner"].tag, labels={},
                                                               command=IDLE, cpu_shares=RUNNER_CPU_SHARES))
        seen = {name: engine._client.api.inspect_container(s.id) for name, s in {
            "shim": services.shim, "proxy": services.proxy, "probe": services.probe, "runner": runner}.items()}
    for name, inspected in seen.items():
        ports = inspected["NetworkSettings"]["Ports"] or {}
        assert all(binding is None for binding in ports.values()), (name, ports)  # exposed, not published
    shares = {name: inspected["HostConfig"]["CpuShares"] for name, inspected in seen.items()}
    assert shares == {"shim": 0, "proxy": 0, "probe": 0, "runner": RUNNER_CPU_SHARES}  # 0: the default, 1024


def test_port_taken_is_a_clear_error_and_nothing_is_left(engine: DockerEngine, images: dict[str, ImageRef],
                                                         quiet: Console, no_leftovers: None) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = Config.from_env({"MINI_AGENT_API_BASE": f"http://127.0.0.1:{port}"}, root=REPO)
        with Stack(engine, config.run_id, quiet) as stack:
            stack.create_network()
            with pytest.raises(PortInUseError) as caught:
                bring_up(stack, _plan(config, images, "sk-x" * 4))
    assert f"port {port}" in caught.value.line()
    assert "Hint:" in caught.value.line()


def test_core_gate_end_to_end(client: docker.DockerClient, images: dict[str, ImageRef], tmp_path: Path,
                              no_leftovers: None) -> None:
    # Known secrets are planted in the environment; none may surface anywhere.
    planted = {"OPENAI_API_KEY": "sk-planted-openai-0123456789", "SOME_SERVICE_TOKEN": "tok-planted-abcdefgh"}
    done = bed_cli(["run"], tmp_path, planted)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert "VERDICT: READY" in out
    assert "MINI_AGENT_API_BASE=http://mini-agent:8788/v1" in out
    assert "CODEX_AGENT_API_BASE=http://mini-agent:8788/v1" in out
    # Live output: the tiers' own test lines reached the terminal.
    assert re.search(r"all_smokes_core \| .*test_router_maps_group_to_base_sync PASSED", out)
    assert re.search(r"all_smokes_nd \| .*test_group_streams_through_proxy PASSED", out)
    assert re.search(r"release_smokes \| .*SKIPPED .*LIVE SMOKE OFF: release-openai \(openai\) needs "
                     r"LIVE_PROVIDERS=1", out)
    report = json.loads((tmp_path / "local/artifacts/mvp/mvp_report.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert {c["name"]: c["status"] for c in report["checks"]} == {
        "all_smokes_core": "passed", "all_smokes_nd": "passed", "agent_clients": "passed", "release_smokes": "skipped",
        "census": "passed"}
    nd = next(c for c in report["checks"] if c["name"] == "all_smokes_nd")
    assert set(nd["outcomes"].values()) == {"passed"}
    assert "nd/test_proxy_routing.py::test_group_streams_through_proxy" in nd["outcomes"]
    for check in ("all_smokes_core", "all_smokes_nd", "release_smokes"):
        assert (tmp_path / f"local/artifacts/mvp/junit/{check}.xml").is_file()
    assert (tmp_path / "PROJECT_READY.md").read_text().startswith("# PROJECT READY: READY")
    assert "codex-agent-1" in (tmp_path / ".artifacts/router_stub.yaml").read_text()
    assert leftovers(client, report["run_id"]) == []
    texts = [out] + [p.read_text() for p in tmp_path.rglob("*") if p.is_file()]
    for secret in planted.values():
        assert not any(secret in t for t in texts), secret
    assert re.findall(r"sk-bed-[A-Za-z0-9_-]{20,}", "\n".join(texts)) == []  # the run's master key


def test_required_but_skipped_is_not_ready_with_a_cause(tmp_path: Path, images: dict[str, ImageRef],
                                                        no_leftovers: None) -> None:
    done = bed_cli(["run", "--tier", "release"], tmp_path, {"READINESS_EXPECT": "release"})
    assert done.returncode == 1, done.stdout[-3000:]
    assert "CAUSE release_smokes:" in done.stdout
    assert "VERDICT: NOT READY" in done.stdout
    junit = (tmp_path / "local/artifacts/mvp/junit/release_smokes.xml").read_text()
    assert "LIVE_PROVIDERS" in junit


def test_up_prints_exports_and_down_removes_it(client: docker.DockerClient, images: dict[str, ImageRef],
                                               tmp_path: Path) -> None:
    up = bed_cli(["up"], tmp_path)
    try:
        assert up.returncode == 0, up.stdout[-3000:]
        exports = dict(re.findall(r"^export (\w+)=(.*)$", up.stdout, re.MULTILINE))
        assert set(exports) >= {"BED_PROXY_URL", "MINI_AGENT_API_BASE", "CODEX_AGENT_API_BASE", "LITELLM_MASTER_KEY"}
        assert exports["MINI_AGENT_API_BASE"] == exports["CODEX_AGENT_API_BASE"]
        assert "sk-bed-" not in up.stdout  # the key is read from a 0600 file, never printed
        key = (tmp_path / ".artifacts/master_key").read_text().strip()
        assert oct((tmp_path / ".artifacts/master_key").stat().st_mode & 0o777) == "0o600"
        reply = httpx.post(exports["BED_PROXY_URL"] + "/v1/chat/completions", timeout=30,
                           headers={"Authorization": f"Bearer {key}"},
                           json={"model": "codex-agent-1", "messages": [{"role": "user", "content": "kept"}]})
        assert reply.status_code == 200
        assert httpx.get(exports["MINI_AGENT_API_BASE"].removesuffix("/v1") + "/health").status_code == 200
        shell = re.search(r"docker exec -it (bed-[0-9a-f]{8}-runner-shell) bash", up.stdout)
        assert shell, up.stdout[-1000:]
        probe = "import os, urllib.request as u; u.urlopen(os.environ['BED_PROXY_URL'] + '/health/liveliness')"
        assert client.containers.get(shell.group(1)).exec_run(["/opt/venv/bin/python", "-c", probe]).exit_code == 0
    finally:
        down = bed_cli(["down"], tmp_path)
    assert down.returncode == 0
    assert "removed 7 container(s) and 1 network(s)" in down.stdout  # probe, shim, proxy, shell, 3 warm
    assert not (tmp_path / ".artifacts/master_key").exists()  # the key goes with its stack
    assert [n for n in leftovers(client) if "keep" in n or n.startswith("bed-")] == []


def test_engine_down_is_one_line(tmp_path: Path) -> None:
    done = bed_cli(["run"], tmp_path, {"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert done.returncode == 3
    assert done.stdout.strip().splitlines()[-1].startswith("ENGINE_ERROR: no Docker engine answers")
    assert "Traceback" not in done.stdout + done.stderr


def test_missing_base_image_that_cannot_be_pulled(tmp_path: Path) -> None:
    done = bed_cli(["images"], tmp_path, {"BED_BASE_IMAGE": "bed-no-such-image:1"})
    assert done.returncode == 4
    assert "IMAGE_ERROR: base image bed-no-such-image:1 is not on this engine and cannot be pulled" in done.stdout
    assert "Hint:" in done.stdout


def test_repeat_image_check_is_a_fast_no_op(tmp_path: Path, images: dict[str, ImageRef]) -> None:
    done = bed_cli(["images"], tmp_path)
    assert done.returncode == 0
    assert done.stdout.count("up to date") == 6  # python, clients, shim, litellm, runner, agents
    assert "building" not in done.stdout


def test_a_failure_names_its_repro_command_and_repro_reruns_only_it(images: dict[str, ImageRef], tmp_path: Path,
                                                                     no_leftovers: None) -> None:
    # A router mapping with a group that no readiness check covers: change control fails one
    # deterministic test, and only that one.
    (tmp_path / "mine.yaml").write_text(
        "model_list:\n"
        "  - {model_name: codex-agent-1, litellm_params: {model: openai/codex-agent-1}}\n"
        "  - {model_name: brand-new-group, litellm_params: {model: openai/x, api_base: 'http://mini-agent:8788/v1'}}\n")
    first = bed_cli(["run", "--gate", "dev", "--router-config", "mine.yaml"], tmp_path)
    assert first.returncode == 1, first.stdout[-3000:]
    failing = "deterministic/test_change_control.py::test_every_group_has_a_readiness_check"
    assert f"CAUSE all_smokes_core: {failing}" in first.stdout
    assert "brand-new-group" in first.stdout
    assert "-> repro: bed repro local/artifacts/mvp/mvp_report.json" in first.stdout
    report = json.loads((tmp_path / "local/artifacts/mvp/mvp_report.json").read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["repro"]["failing"] == {"all_smokes_core": [failing]}

    again = bed_cli(["repro", "local/artifacts/mvp/mvp_report.json"], tmp_path)
    assert again.returncode == 1, again.stdout[-3000:]
    assert f"reproducing run {report['run_id']} (NOT READY): deterministic: 1 test(s)" in again.stdout
    assert f"CAUSE all_smokes_core: {failing}" in again.stdout
    rerun = json.loads((tmp_path / "local/artifacts/mvp/mvp_report.json").read_text())
    tiers = [c for c in rerun["checks"] if c["tier"] != "census"]
    assert [(c["name"], c["tests"]) for c in tiers] == [("all_smokes_core", 1)]
    # The census still accounts for the tier's other tests: left out by the repro, each with its reason.
    assert rerun["census"]["fates"]["deselected"] == rerun["census"]["collected"] - 1
    assert rerun["repro"]["images"] == report["repro"]["images"]  # the very same images


def test_own_suite_flake_then_quarantine(images: dict[str, ImageRef], tmp_path: Path, no_leftovers: None) -> None:
    suite = str(Path(__file__).parent / "flaky_suite")
    flaky = "test_own.py::test_flaky_once"
    first = bed_cli(["run", "--suite", suite, "--tier", "deterministic,nd"], tmp_path)
    assert first.returncode == 0, first.stdout[-3000:]
    assert "all_smokes_core | test_own.py::test_hermetic_arithmetic PASSED" in first.stdout
    assert "all_smokes_nd: re-running 1 failed test(s) once" in first.stdout
    report = json.loads((tmp_path / "local/artifacts/mvp/mvp_report.json").read_text())
    jsonschema.validate(report, SCHEMA)
    nd = next(c for c in report["checks"] if c["name"] == "all_smokes_nd")
    assert (nd["status"], nd["flaky"]) == ("passed", [flaky])
    assert report["quarantine"] == []

    second = bed_cli(["run", "--suite", suite, "--tier", "deterministic,nd"], tmp_path)
    assert second.returncode == 0, second.stdout[-3000:]
    assert f"QUARANTINED: {flaky}" in second.stdout
    report = json.loads((tmp_path / "local/artifacts/mvp/mvp_report.json").read_text())
    assert [q["nodeid"] for q in report["quarantine"]] == [flaky]
    assert (tmp_path / "local/artifacts/mvp/quarantine/test_own.py_test_flaky_once.md").read_text().startswith(
        f"# Quarantined flaky test: `{flaky}`")
    ready = (tmp_path / "PROJECT_READY.md").read_text()
    assert "## Quarantine (runs and is reported, does not gate)" in ready
    assert f"| `{flaky}` | all_smokes_nd | 2 | 0 / 5 |" in ready
    assert report["repro"]["suite"] == str(Path(suite).resolve())  # a repro runs the same suite


def test_repro_keep_leaves_a_shell_to_exec_into(client: docker.DockerClient, images: dict[str, ImageRef],
                                                tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "model_list:\n  - {model_name: codex-agent-1, litellm_params: {model: openai/codex-agent-1}}\n"
        "  - {model_name: uncovered, litellm_params: {model: openai/x, api_base: 'http://mini-agent:8788/v1'}}\n")
    assert bed_cli(["run", "--gate", "dev", "--router-config", "mine.yaml"], tmp_path).returncode == 1
    kept = bed_cli(["repro", "--keep", "local/artifacts/mvp/mvp_report.json"], tmp_path)
    match = re.search(r"docker exec -it (bed-([0-9a-f]{8})-runner-shell) bash", kept.stdout)
    assert match, kept.stdout[-2000:]
    try:
        shell = client.containers.get(match.group(1))
        assert shell.status == "running"
        assert shell.exec_run(["/opt/venv/bin/python", "-c", "import litellm"]).exit_code == 0
    finally:
        down = bed_cli(["down", "--run", match.group(2)], tmp_path)
    assert down.returncode == 0
    assert leftovers(client, match.group(2)) == []


def test_the_dev_loop_reuses_a_kept_stack_and_restarts_only_what_changed(client: docker.DockerClient,
                                                                         images: dict[str, ImageRef],
                                                                         tmp_path: Path) -> None:
    up = bed_cli(["up"], tmp_path)
    try:
        assert up.returncode == 0, up.stdout[-3000:]
        kept = json.loads((tmp_path / ".artifacts/kept.json").read_text())
        first = bed_cli(["run", "--reuse", "--tier", "nd"], tmp_path)
        assert first.returncode == 0, first.stdout[-3000:]
        assert f"reusing the stack kept by `bed up` (run {kept['run_id']}); nothing changed" in first.stdout
        assert "warm runners: agents, hermetic, served" in first.stdout  # sessions forked there, no fresh runner
        assert "bed_warm" not in first.stdout.split("VERDICT")[-1]
        report = json.loads((tmp_path / "local/artifacts/mvp/mvp_report.json").read_text())
        assert report["reused_from"] == kept["run_id"]
        assert f"(run `{kept['run_id']}`), reset first" in (tmp_path / "PROJECT_READY.md").read_text()
        # The shim was reset between runs: the journal holds only this run's requests.
        assert leftovers(client, report["run_id"]) == []  # the run's own runners went with it
        _warm_sessions_fail_loudly_and_share_nothing(tmp_path)
        _a_failed_agent_turn_says_which_side_broke(client, kept["run_id"], tmp_path)
        (tmp_path / "mine.yaml").write_text(
            "model_list:\n  - {model_name: codex-agent-1, litellm_params: {model: openai/codex-agent-1}}\n")
        second = bed_cli(["run", "--reuse", "--tier", "nd", "--router-config", "mine.yaml"], tmp_path)
        assert "the router config changed: restarting the proxy" in second.stdout, second.stdout[-3000:]
        assert "restarting the shim" not in second.stdout
        assert json.loads((tmp_path / ".artifacts/kept.json").read_text())["ids"]["proxy"] != kept["ids"]["proxy"]
        assert bed_cli(["gc"], tmp_path).returncode == 0
        assert leftovers(client, kept["run_id"]) != []  # gc never sweeps a kept stack
    finally:
        down = bed_cli(["down"], tmp_path)
    assert down.returncode == 0
    assert not (tmp_path / ".artifacts/kept.json").exists()
    assert leftovers(client, kept["run_id"]) == []
    nothing = bed_cli(["run", "--reuse"], tmp_path)
    assert nothing.returncode == 2
    assert "no stack kept by `bed up` here" in nothing.stdout


def _a_failed_agent_turn_says_which_side_broke(client: docker.DockerClient, run_id: str, tmp_path: Path) -> None:
    """A green agent turn runs through the gateway only; a failed one runs again straight at the
    shim, and the failure names the side that broke (here the gateway: it has no such group)."""
    agents = client.containers.get(f"bed-{run_id}-warm-agents")
    route = {"surface": "responses", "route": "native", "group": "no-such-group", "upstream": "/responses"}
    env = {"BED_PROXY_URL": "http://litellm:4000", "MINI_AGENT_API_BASE": "http://mini-agent:8788/v1",
           "LITELLM_MASTER_KEY": (tmp_path / ".artifacts/master_key").read_text().strip(),
           "BED_AGENTS": "codex@0.169.0", "BED_AGENT_ROUTES": json.dumps([route])}
    done = agents.exec_run(["/opt/venv/bin/python", "-m", "pytest", "agents", "-p", "no:cacheprovider",
                            "--basetemp=/tmp/bed-side-check"], environment=env, workdir="/bed/tiers")
    out = done.output.decode()
    assert done.exit_code == 1, out[-3000:]
    assert "the gateway broke it: codex 0.169.0 responses/native tool turn through no-such-group: codex exited" \
        in out, out[-3000:]
    assert re.search(r"straight at the shim the same turn passed \([0-9.]+ s\)", out), out[-3000:]
    assert "the gateway sent the shim nothing for this turn" in out, out[-3000:]


def test_what_a_warm_session_started_dies_with_it(client: docker.DockerClient, images: dict[str, ImageRef],
                                                  tmp_path: Path) -> None:
    """A test that starts a setsid'd child and a double-forked daemon (out of the session's process
    group and session): both die with the session in the kept stack's warm runner, not at `bed down`."""
    up = bed_cli(["up"], tmp_path)
    try:
        assert up.returncode == 0, up.stdout[-3000:]
        _what_a_session_started_dies_with_it(client, json.loads((tmp_path / ".artifacts/kept.json").read_text())
                                             ["run_id"], tmp_path)
    finally:
        assert bed_cli(["down"], tmp_path).returncode == 0


def _what_a_session_started_dies_with_it(client: docker.DockerClient, run_id: str, tmp_path: Path) -> None:
    suite = tmp_path / "escsuite"
    suite.mkdir()
    (suite / "test_escape.py").write_text(
        "import os, subprocess, time\nimport pytest\n\n"
        "@pytest.mark.nd\ndef test_leaves_children_behind():\n"
        "    subprocess.Popen(['sleep', '4321'], start_new_session=True)\n"
        "    if os.fork() == 0:\n        os.setsid()\n"
        "        if os.fork() == 0:\n            os.execvp('sleep', ['sleep', '4322'])\n"
        "        os._exit(0)\n"
        "    time.sleep(0.5)\n")
    done = bed_cli(["run", "--reuse", "--tier", "nd", "--suite", "escsuite"], tmp_path, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]
    served = client.containers.get(f"bed-{run_id}-warm-served")
    scan = ("import os\nfor p in filter(str.isdigit, os.listdir('/proc')):\n"
            "    try: print(open(f'/proc/{p}/cmdline','rb').read().replace(b'\\0', b' ').decode())\n"
            "    except OSError: pass\n")
    left = served.exec_run(["/opt/venv/bin/python", "-c", scan]).output.decode()
    assert "sleep 432" not in left, left


def _warm_sessions_fail_loudly_and_share_nothing(tmp_path: Path) -> None:
    """A suite's failing test in a warm runner: NOT READY with its node id, twice; the module
    state and environment one session sets are not there in the next (each is a fresh fork)."""
    suite = tmp_path / "warmsuite"
    suite.mkdir()
    (suite / "test_warm.py").write_text(
        "import json, os\nimport pytest\n\n"
        "@pytest.mark.nd\ndef test_nothing_leaks():\n"
        "    assert not hasattr(json, 'bed_leak') and 'BED_LEAK' not in os.environ\n"
        "    json.bed_leak = 1\n    os.environ['BED_LEAK'] = '1'\n\n"
        "@pytest.mark.nd\ndef test_fails_on_purpose():\n    assert 1 == 2, 'on purpose'\n")
    for _ in range(2):
        done = bed_cli(["run", "--reuse", "--tier", "nd", "--suite", "warmsuite"], tmp_path)
        assert done.returncode == 1, done.stdout[-3000:]
        assert "VERDICT: NOT READY" in done.stdout
        report = json.loads((tmp_path / "local/artifacts/mvp/mvp_report.json").read_text())
        failing = [n for ids in report["repro"]["failing"].values() for n in ids]
        assert len(failing) == 1, failing
        assert failing[0].endswith("test_warm.py::test_fails_on_purpose")
