"""The command line's error handling: one line, a distinct exit code, never a traceback."""

from __future__ import annotations

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
