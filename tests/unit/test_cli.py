"""The command line's error handling: one line, a distinct exit code, never a traceback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bed.cli import main, parser


def _run(argv: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv, env)
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.mark.parametrize(("argv", "env", "code", "says"), [
    (["run"], {"STRICT": "perhaps"}, 2, "CONFIG_ERROR: STRICT='perhaps'"),
    (["run", "--tier", "smoke"], {}, 2, "CONFIG_ERROR: unknown tier 'smoke'"),
    (["run"], {"READINESS_EXPECT": "gemni"}, 2, "CONFIG_ERROR: READINESS_EXPECT names 'gemni'"),
    (["run"], {"MINI_AGENT_API_BASE": "http://codex-agent-1:8788"}, 2, "model group"),
    (["run"], {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}, 3, "ENGINE_ERROR: no Docker engine answers"),
    (["images"], {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}, 3, "ENGINE_ERROR"),
    (["down"], {"DOCKER_HOST": "tcp://127.0.0.1:1"}, 3, "ENGINE_ERROR"),
])
def test_errors_are_one_line_with_exit_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str], argv: list[str],
                                            env: dict[str, str], code: int, says: str) -> None:
    monkeypatch.chdir(tmp_path)
    got, out = _run(argv, env, capsys)
    assert got == code
    assert says in out
    assert "Traceback" not in out
    assert "Hint:" in out


def test_router_config_error_under_strict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").write_text("model_list:\n  - model_name: other\n    litellm_params: {model: openai/x}\n")
    code, out = _run(["run", "--strict", "--router-config", "mine.yaml"], {}, capsys)
    assert code == 2
    assert "no entry with model_name 'codex-agent-1'" in out
    assert not (tmp_path / "local").exists()  # nothing started, nothing written


def test_a_bug_points_at_a_log_instead_of_a_traceback(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from bed.commands import env

    def boom(*args: object) -> int:
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(env, "run", boom)
    code, out = _run(["env"], {}, capsys)
    assert code == 70
    assert "BUG: bed failed unexpectedly; the traceback is in" in out
    assert "Traceback" not in out


def test_env_lists_every_variable_and_redacts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(["env"], {"STRICT": "1", "BED_CA_BUNDLE_TOKEN": "sk-supersecret"}, capsys)
    assert code == 0
    assert "STRICT" in out
    assert "ALL_SMOKES_ND_TIMEOUT" in out


def test_help_lists_every_command() -> None:
    text = parser().format_help()
    for command in ("run", "up", "down", "gc", "images", "compose", "env"):
        assert f"    {command}" in text


def test_python_dash_m_bed_works() -> None:
    done = subprocess.run([sys.executable, "-m", "bed", "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("bed ")


def test_unwritable_artifacts_folder_stops_the_run_before_anything_starts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    code, out = _run(["run"], {"BED_ARTIFACTS_DIR": "a-file/mvp", "DOCKER_HOST": "unix:///nonexistent.sock"}, capsys)
    assert code == 6  # ARTIFACT_ERROR, found before the engine is even asked
    assert "ARTIFACT_ERROR: cannot write to" in out
    assert "BED_ARTIFACTS_DIR" in out


def test_a_closed_output_pipe_is_not_a_bug() -> None:
    done = subprocess.run(f"{sys.executable} -m bed env | head -1", shell=True, capture_output=True,  # noqa: S602
                          text=True, check=False, executable="/bin/bash")
    assert "BUG" not in done.stdout + done.stderr
    assert done.stdout.startswith("setting")


# --- streams, colour, exit codes ------------------------------------------------------------------

def _bed(shell: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``bed`` as a shell runs it (``BED`` names it), in a clean environment."""
    environ = {"PATH": "/usr/bin:/bin", "BED": f"{sys.executable} -m bed", **(env or {})}
    return subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=60, check=False, env=environ)


def test_errors_go_to_stderr_and_results_to_stdout() -> None:
    done = _bed("$BED run --bogus 2>/dev/null")
    assert done.returncode == 2
    assert done.stdout == ""  # `bed run --bogus 2>/dev/null` prints nothing
    done = _bed("$BED run --bogus")
    assert done.stdout == ""
    assert done.stderr.startswith("CONFIG_ERROR: bed: unrecognized arguments: --bogus.")
    done = _bed("$BED env 2>/dev/null | head -1")
    assert done.stdout.startswith("setting")  # a result: stdout


def test_help_lists_every_exit_code_and_what_each_stream_holds() -> None:
    from bed.errors import BedError, exit_codes

    text = parser().format_help()
    for code, meaning in exit_codes():
        assert re.search(rf"^ +{code}  {re.escape(meaning)}$", text, re.MULTILINE), (code, text)
    kinds = {c.exit_code for c in BedError.__subclasses__()}
    assert kinds | {0, 1, 70, 130, 141} <= {code for code, _ in exit_codes()}
    assert "stdout holds what a command found" in text
    assert "stderr holds what bed is doing" in text


@pytest.mark.parametrize(("flag", "env", "painted"), [
    (None, {}, False),  # not a terminal
    (None, {"FORCE_COLOR": "1"}, True),
    (None, {"FORCE_COLOR": "0"}, False),
    (None, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),  # NO_COLOR beats FORCE_COLOR
    ("always", {"NO_COLOR": "1"}, True),  # the flag beats both
    ("never", {"FORCE_COLOR": "1"}, False),
])
def test_color_flag_no_color_and_force_color(flag: str | None, env: dict[str, str], painted: bool) -> None:
    words = ["--color", flag] if flag else []
    for argv in ([*words, "run", "--bogus"], ["run", *words, "--bogus"]):
        done = _bed(f"$BED {' '.join(argv)}", env)
        assert done.returncode == 2
        assert ("\033[1;31mCONFIG_ERROR:\033[0m" in done.stderr) is painted, (argv, env, done.stderr)
        assert "CONFIG_ERROR:" in done.stderr


def test_only_the_verdict_cause_and_banners_are_painted() -> None:
    import io

    from bed.console import Console

    out, err = io.StringIO(), io.StringIO()
    console = Console(out, err=err)
    console.use_color("always", {})
    console.plain("  PASSED   all_smokes_core (3 tests)")
    console.plain("VERDICT: NOT READY (1 check failed)", head="VERDICT: NOT READY", style="bad")
    console.step("starting the proxy")
    console.banner("SKIP x", ["why"])
    assert out.getvalue() == ("  PASSED   all_smokes_core (3 tests)\n"
                              "\033[1;31mVERDICT: NOT READY\033[0m (1 check failed)\n")
    assert "\033[" not in err.getvalue().split("\n")[0]  # a step line stays plain
    assert "\033[1;33m" in err.getvalue()  # the banner is not


# --- bed env ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("env", [{"STRICT": "maybe"}, {"BED_WAIT_TIMEOUT": "abc"}, {"READINESS_EXPECT": "gemni"}])
def test_env_validates_like_a_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str], env: dict[str, str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run"], {**env, "DOCKER_HOST": "unix:///nonexistent.sock"}) == 2
    run_error = capsys.readouterr().err.strip().splitlines()[-1]
    assert run_error.startswith("CONFIG_ERROR: ")
    assert main(["env"], env) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == run_error  # the same line, on stderr
    assert captured.out.startswith("setting")  # the table still shows where the bad value came from
    assert main(["env", "--format", "json"], env) == 2
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["valid"] is False
    assert doc["error"] == {"kind": "CONFIG_ERROR", "exit_code": 2, "line": run_error}


def test_env_json_lists_every_setting_with_its_source_and_redacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from bed.config.settings import OTHER_VARS, SETTINGS

    monkeypatch.chdir(tmp_path)
    (tmp_path / "bed.toml").write_text('expect = ["nd"]\n')
    env = {"STRICT": "1", "BED_ROUTER_GROUP": "team-gw", "DOCKER_HOST": "tcp://user:hunter22@10.0.0.9:2375"}
    assert main(["env", "--format", "json"], env) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["valid"] is True
    assert doc["error"] is None
    assert doc["project_file"] == "bed.toml"
    rows = {row["key"]: row for row in doc["settings"]}
    assert list(rows) == [s.key for s in SETTINGS]
    assert (rows["strict"]["source"], rows["strict"]["value"]) == ("env", "1")
    assert (rows["expect"]["source"], rows["expect"]["value"]) == ("bed.toml", ["nd"])
    assert rows["wait_timeout"] == {"key": "wait_timeout", "variable": "BED_WAIT_TIMEOUT", "flag": None,
                                    "source": "default", "value": 120.0}
    assert rows["litellm"]["flag"] == "--litellm"
    other = {row["variable"]: row for row in doc["other"]}
    assert list(other) == list(OTHER_VARS)
    assert other["DOCKER_HOST"] == {"variable": "DOCKER_HOST", "set": True, "value": "tcp://***@10.0.0.9:2375"}
    assert other["NO_COLOR"] == {"variable": "NO_COLOR", "set": False, "value": None}


# --- bed run -- PYTEST_ARGS, --litellm ---------------------------------------------------------------

def test_words_after_double_dash_are_pytest_args_of_run_only(capsys: pytest.CaptureFixture[str]) -> None:
    from bed.cli import _parse

    args = _parse(["run", "--gate", "dev", "--", "-k", "chat and not slow", "-x"])
    assert (args.gate, args.pytest_args) == ("dev", ("-k", "chat and not slow", "-x"))
    assert _parse(["run"]).pytest_args == ()
    assert main(["env", "--", "-k", "x"], {}) == 2
    assert "bed env takes no arguments after `--` (-k x)" in capsys.readouterr().err


def test_pytest_args_go_last_on_every_tier_s_command(tmp_path: Path) -> None:
    import dataclasses

    from bed.config.settings import Config
    from bed.tiers import catalog, command

    config = dataclasses.replace(Config.from_env({}, root=tmp_path), pytest_args=("-k", "chat", "--tb=long"))
    ctx = command.Context(config=config, master_key="k", router_yaml="", environ={})
    for tier in catalog.TIERS.values():
        assert command.argv(tier, ctx)[-3:] == ["-k", "chat", "--tb=long"], tier.name
        assert catalog.rules(tier, config).narrowed == "-k chat --tb=long"
    assert "chat" not in command.argv(catalog.CENSUS, ctx)  # the census collects the suite as it is


@pytest.mark.parametrize("words", [["tests/test_x.py"], ["nd/test_chat.py::test_one"], ["-x", "nd/test_chat.py"]])
def test_a_path_after_double_dash_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str], words: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--", *words], {"DOCKER_HOST": "unix:///nonexistent.sock"}) == 2
    err = capsys.readouterr().err
    assert "names a file or test; every tier would collect it" in err
    assert "Hint: select with -k or -m" in err


def test_run_takes_the_gateway_as_litellm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from bed.cli import _parse
    from bed.commands import common

    monkeypatch.chdir(tmp_path)
    config = common.config(_parse(["run", "--litellm", "1.106.12"]), {"BED_LITELLM": "1.108.7"})
    assert config.gateway.describe().startswith("litellm[proxy]==1.106.12")  # the flag beats the environment
    assert config.sources["litellm"].source == "flag"
    assert main(["run", "--litellm", "path:missing-fork"], {}) == 2
    assert "--litellm" in capsys.readouterr().err
