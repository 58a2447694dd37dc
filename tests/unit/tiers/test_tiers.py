from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bed.config.settings import Config
from bed.tiers.catalog import TIERS, check_name, required, rules
from bed.tiers.command import COLD, Context, argv, container_spec, env


def _config(tmp_path: Path, **env_: str) -> Config:
    return Config.from_env(env_, root=tmp_path)


def _ctx(config: Config, environ: dict[str, str] | None = None, **kw: object) -> Context:
    return Context(config=config, master_key="sk-master", router_yaml="model_list: []\n",
                   environ=environ or {}, cpus=kw.pop("cpus", 8), **kw)  # type: ignore[arg-type]


def test_check_names_follow_the_old_harness() -> None:
    assert [t.check for t in TIERS.values()] == ["all_smokes_core", "all_smokes_nd", "agent_clients", "release_smokes"]


def test_runner_command_is_venv_python_never_bare_pytest(tmp_path: Path) -> None:
    cmd = argv(TIERS["nd"], _ctx(_config(tmp_path, PYTEST_XDIST_AUTO_NUM_WORKERS="4")))
    assert cmd[:4] == ["/opt/venv/bin/python", "-m", "pytest", "nd"]
    assert cmd[4:8] == ["-p", "bed_records", "-p", "no:cacheprovider"]
    assert cmd[-2:] == ["-n", "4"]
    # bed writes the JUnit from its records: pytest's own writer crashes on a folder whose name is not UTF-8
    assert not any(a.startswith(("--junitxml", "--junit-xml")) for a in cmd)


def test_workers_are_capped_at_the_engine_s_cores(tmp_path: Path) -> None:
    cmd = argv(TIERS["nd"], _ctx(_config(tmp_path, PYTEST_XDIST_AUTO_NUM_WORKERS="6"), cpus=2))
    assert cmd[-2:] == ["-n", "2"]


def test_a_rerun_keeps_the_same_command_and_selects_by_file(tmp_path: Path) -> None:
    ctx = _ctx(_config(tmp_path))
    first = container_spec(TIERS["nd"], ctx, "bed-net")
    again = container_spec(TIERS["nd"], ctx, "bed-net", select=["nd/a.py::t[x y]"])
    assert first.command == again.command  # -p no:cacheprovider and all: the same pytest invocation
    assert again.env["BED_SELECT"] == COLD.select
    assert dict(again.files)[COLD.select] == b'["nd/a.py::t[x y]"]'
    assert "BED_SELECT" not in first.env
    assert first.env["BED_RECORDS"] == COLD.records


def test_a_suite_runs_by_marker_from_its_copied_project(tmp_path: Path) -> None:
    suite = tmp_path / "tests"
    suite.mkdir()
    ctx = _ctx(Config.from_env({}, root=tmp_path, suite="tests"), suite_files=(("tests/test_a.py", b"x"),),
               suite_target="tests")
    spec = container_spec(TIERS["nd"], ctx, "bed-net")
    assert spec.command is not None
    assert spec.command[3] == "tests"
    assert spec.working_dir == "/bed/project"
    assert spec.env["BED_TIER_MARKER"] == "nd"
    assert ("/bed/project/tests/test_a.py", b"x") in spec.files


def test_every_runner_yields_the_cores_to_the_services(tmp_path: Path) -> None:
    ctx = _ctx(_config(tmp_path))
    for tier in TIERS.values():
        shares = container_spec(tier, ctx, "bed-net").cpu_shares
        assert shares is not None
        assert shares < 1024, tier.name  # docker's default weight, which the shim and the proxy keep


def test_the_hermetic_tiers_have_no_network(tmp_path: Path) -> None:
    ctx = _ctx(_config(tmp_path))
    assert container_spec(TIERS["deterministic"], ctx, "bed-net").network is None
    assert container_spec(TIERS["release"], ctx, "bed-net").network is None
    assert container_spec(TIERS["nd"], ctx, "bed-net").network == "bed-net"
    live = _ctx(_config(tmp_path, LIVE_PROVIDERS="1"))
    assert container_spec(TIERS["release"], live, "bed-net").network == "bed-net"


@pytest.mark.parametrize("live", ["0", "1"])
def test_no_provider_key_ever_reaches_a_runner(tmp_path: Path, live: str) -> None:
    config = _config(tmp_path, LIVE_PROVIDERS=live)
    ctx = _ctx(config, {"OPENAI_API_KEY": "sk-openai-123"})
    for tier in TIERS.values():
        out = env(tier, ctx)
        assert "sk-openai-123" not in json.dumps(out)
        assert out["MINI_AGENT_API_BASE"] == out["CODEX_AGENT_API_BASE"]
    release = env(TIERS["release"], ctx)
    assert ("BED_PROXY_URL" in release) is (live == "1")  # live smokes call through the proxy


def test_deterministic_runner_gets_no_master_key(tmp_path: Path) -> None:
    out = env(TIERS["deterministic"], _ctx(_config(tmp_path)))
    assert "LITELLM_MASTER_KEY" not in out
    assert "BED_PROXY_URL" not in out
    assert out["BED_ROUTER_YAML"] == "model_list: []\n"


@pytest.mark.parametrize(("addopts", "shard", "name"), [
    ("", None, "all_smokes_nd"),
    ("-k 'not shard_b'", None, "all_smokes_nd_shard_a"),
    ("-k shard_b", None, "all_smokes_nd_shard_b"),
    ("-x -k   'not   shard_b'", None, "all_smokes_nd_shard_a"),
    ("-k 'proxy'", None, "all_smokes_nd"),
    ("", "2/3", "all_smokes_nd_shard_2of3"),
])
def test_nd_check_names_follow_the_shard(tmp_path: Path, addopts: str, shard: str | None, name: str) -> None:
    config = Config.from_env({"PYTEST_ADDOPTS": addopts}, root=tmp_path, shard=shard)
    assert check_name(TIERS["nd"], config) == name
    assert check_name(TIERS["deterministic"], config) == "all_smokes_core"


def test_shard_and_selection_reach_only_the_nd_runner(tmp_path: Path) -> None:
    config = Config.from_env({"PYTEST_ADDOPTS": "-k shard_b"}, root=tmp_path, shard="1/2")
    nd = env(TIERS["nd"], _ctx(config, durations={"nd/t.py::a": 2.0}))
    assert nd["PYTEST_ADDOPTS"] == "-k shard_b"
    assert nd["BED_SHARD"] == "1/2"
    assert '"nd/t.py::a": 2.0' in nd["BED_DURATIONS"]
    det = env(TIERS["deterministic"], _ctx(config))
    assert "PYTEST_ADDOPTS" not in det
    assert "BED_SHARD" not in det


@pytest.mark.parametrize(("env_", "tier", "expected"), [
    ({}, "nd", False),
    ({"STRICT": "1"}, "deterministic", True),
    ({"READINESS_EXPECT": "nd"}, "nd", True),
    ({"READINESS_EXPECT": "proxy"}, "nd", True),  # the ND tier needs the proxy
    ({"READINESS_EXPECT": "proxy"}, "release", False),
])
def test_one_definition_of_required(tmp_path: Path, env_: dict[str, str], tier: str, expected: bool) -> None:
    config = _config(tmp_path, **env_)
    assert required(TIERS[tier], config) is expected
    assert rules(TIERS[tier], config).required is expected




def test_a_suite_copy_leaves_bed_s_own_outputs_behind(tmp_path: Path) -> None:
    from bed.tiers.suite import files

    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_a.py").write_text("def test_a(): pass\n")
    (tmp_path / "local/artifacts/mvp").mkdir(parents=True)
    (tmp_path / "local/artifacts/mvp/mvp_report.json").write_text("{}")
    (tmp_path / "PROJECT_READY.md").write_text("# old")
    outputs = (tmp_path / "local/artifacts/mvp", tmp_path / "PROJECT_READY.md")
    copied, target = files(tmp_path, tmp_path / "tests", outputs)
    assert [name for name, _ in copied] == ["tests/test_a.py"]
    assert target == "tests"


def followed(output: str, *, verbose: bool) -> str:
    """What ``_follow`` prints of a fresh runner that wrote ``output``."""
    import io

    from bed.console import Console
    from bed.engine.fake import FakeEngine, Program
    from bed.engine.protocol import ContainerSpec
    from bed.stack.owner import Service
    from bed.tiers.run import _follow
    from bed.tiers.sessions import Fresh

    engine = FakeEngine(images=("img",))
    ref = engine.run(ContainerSpec(name="r", image="img", labels={}))
    engine.table[ref].program = Program(exit_code=0, output=output)
    engine.table[ref].done.set()
    out = io.StringIO()
    _follow(Fresh(Service("r", "runner", ref, engine)), "all_smokes_nd", Console(out=out), verbose)
    return out.getvalue()


def test_third_party_warnings_are_counted_not_shown(tmp_path: Path) -> None:
    output = ("nd/test_a.py::test_x PASSED\n"
              "/opt/venv/lib/python3.11/site-packages/pydantic/_internal/x.py:1574: UserWarning: Items are ReadOnly\n"
              "  warnings.warn(\n"
              "nd/test_a.py::test_y PASSED\n")
    for verbose, shown in ((False, 2), (True, 4)):
        printed = followed(output, verbose=verbose)
        lines = [ln for ln in printed.splitlines() if "PASSED" in ln or "arn" in ln]
        assert len([ln for ln in lines if "hidden" not in ln]) == shown
        assert ("2 lines of third-party warnings hidden" in printed) is (not verbose)


def test_pytest_s_preamble_is_left_out_and_what_matters_stays() -> None:
    output = ("============================= test session starts ==============================\n"
              "platform linux -- Python 3.11.2, pytest-9.2.0, pluggy-1.7.0 -- /opt/venv/bin/python\n"
              "rootdir: /bed/tiers\nconfigfile: pytest.ini\nplugins: xdist-3.8.0, anyio-4.16.0\n"
              "collecting ... collected 30 items / 21 deselected / 9 selected\n\n"
              "nd/test_a.py::test_x FAILED\n"
              "E   AssertionError: on purpose\n"
              "---------- generated xml file: /tmp/bed/runs/x-nd-p1/junit.xml ----------\n"
              "=========================== short test summary info ============================\n"
              "FAILED nd/test_a.py::test_x - AssertionError: on purpose\n"
              "================= 1 failed, 21 deselected in 2.61s =================\n")
    shown = [ln.split("| ", 1)[1] for ln in followed(output, verbose=False).splitlines()]
    assert shown == ["nd/test_a.py::test_x FAILED", "E   AssertionError: on purpose",
                     "=========================== short test summary info ============================",
                     "FAILED nd/test_a.py::test_x - AssertionError: on purpose",
                     "================= 1 failed, 21 deselected in 2.61s ================="]
    assert len(followed(output, verbose=True).splitlines()) == len(output.splitlines())  # -v: every line


class _OneHugeLine:
    """A session whose output is a 50 MB line, then the test's result: chunks made on the fly,
    so only what bed keeps shows in the memory trace."""

    CHUNK = b"x" * 65536

    def output(self) -> Iterator[bytes]:
        yield b"nd/test_a.py::test_big \n"
        for _ in range(800):  # 800 x 64 KiB = 50 MiB, no newline
            yield self.CHUNK
        yield b"\nnd/test_a.py::test_big PASSED\nnd/test_a.py::test_next PASSED\n"


def test_a_50mb_line_is_cut_and_said_and_the_lines_after_it_still_show() -> None:
    """A 50 MB output line held the follower for minutes (every chunk re-split the growing line): the
    tier's later lines never showed on a fresh run, and a reused run printed all 50 MB."""
    import io
    import tracemalloc

    from bed.console import Console
    from bed.tiers.run import _follow

    out = io.StringIO()
    tracemalloc.start()
    try:
        _follow(_OneHugeLine(), "all_smokes_nd", Console(out=out))  # type: ignore[arg-type]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    printed = out.getvalue()
    assert "nd/test_a.py::test_next PASSED" in printed
    assert f"[... {50 * 2**20 - 8192} more bytes of this line cut by bed]" in printed
    assert len(printed) < 64 * 1024  # the terminal got 8 KiB of the line, not 50 MB
    assert peak < 4 * 2**20, f"peak {peak} bytes"


def test_a_warm_sessions_tail_holds_the_cut_line() -> None:
    from bed.stack.owner import Service
    from bed.tiers.sessions import Warm

    class Engine:
        def exec_follow(self, exec_id: str) -> Iterator[bytes]:
            return _OneHugeLine().output()

    session = Warm(Service("r", "runner", "ref", Engine()), "exec", "token")  # type: ignore[arg-type]
    for _ in session.output():
        pass
    tail = session.tail(3)
    assert len(tail) < 16 * 1024
    assert tail.endswith("nd/test_a.py::test_next PASSED")
    assert "more bytes of this line cut by bed" in tail
def test_the_nd_and_deterministic_tiers_get_the_twin_smokes(tmp_path: Path) -> None:
    from bed.config.twins import TwinSmoke

    smoke = TwinSmoke("fast", 0, "gemini", "gemini/gemini-2.5-flash", "gemini", "bed-twin/fast/0", ("chat",))
    ctx = _ctx(_config(tmp_path), twins=(smoke,))
    for tier in ("nd", "deterministic"):
        assert json.loads(env(TIERS[tier], ctx)["BED_TWIN_SMOKES"]) == [{**smoke.to_dict(), "surfaces": ["chat"]}]
    assert "BED_TWIN_SMOKES" not in env(TIERS["release"], ctx)
