from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bed._doctor import Level, check_config, check_disk, check_engine, check_ports, check_python, diagnose
from bed._errors import EngineError


def test_config_findings_ok_by_default(tmp_path: Path) -> None:
    config, found = check_config({}, tmp_path)
    assert config is not None
    assert [f.level for f in found] == [Level.OK, Level.OK]


def test_config_error_is_a_blocking_finding_with_the_fix(tmp_path: Path) -> None:
    config, found = check_config({"MINI_AGENT_API_BASE": "http://codex-agent-1:8788"}, tmp_path)
    assert config is None
    assert found[0].level is Level.FAIL
    assert "model group" in found[0].what
    assert found[0].fix


def test_forced_base_is_a_warning(tmp_path: Path) -> None:
    _, found = check_config({"MINI_AGENT_API_BASE": "http://127.0.0.1:8788", "CODEX_AGENT_API_BASE": "http://x:1"},
                            tmp_path)
    assert any(f.level is Level.WARN and f.topic == "bases" for f in found)


def test_taken_port_blocks(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config, _ = check_config({"MINI_AGENT_API_BASE": f"http://127.0.0.1:{port}"}, tmp_path)
        assert config is not None
        [finding] = check_ports(config)
    assert finding.level is Level.FAIL
    assert str(port) in finding.what


def test_low_disk_blocks(tmp_path: Path) -> None:
    [finding] = check_disk(tmp_path, usage=lambda _: (100, 99, 10**9))
    assert finding.level is Level.FAIL
    assert "prune" in finding.fix


def test_python_outside_a_venv_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setattr(sys, "prefix", sys.base_prefix)
    assert check_python({"PATH": ""})[0].level is Level.WARN


def test_engine_down_blocks_and_the_doctor_says_how(tmp_path: Path) -> None:
    def down() -> object:
        raise EngineError("no Docker engine answers at unix:///x.", hint="start one")

    found = check_engine(down, None)  # type: ignore[arg-type]
    assert found[0].level is Level.FAIL
    assert "start one" in found[0].line()
    everything = diagnose({}, tmp_path, down)  # type: ignore[arg-type]
    assert any(f.level is Level.FAIL and f.topic == "engine" for f in everything)
