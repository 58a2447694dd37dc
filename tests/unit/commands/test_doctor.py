from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bed.commands.doctor import Level, check_config, check_disk, check_engine, check_ports, check_python, diagnose
from bed.errors import EngineError


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

    found = check_engine(down, None, {})  # type: ignore[arg-type]
    assert found[0].level is Level.FAIL
    assert "start one" in found[0].line()
    everything = diagnose({}, tmp_path, down)  # type: ignore[arg-type]
    assert any(f.level is Level.FAIL and f.topic == "engine" for f in everything)


def _fake_with_built_images(tmp_path: Path):  # type: ignore[no-untyped-def]
    from bed.config.settings import Config
    from bed.console import Console
    from bed.engine.fake import FakeEngine
    from bed.images.build import Recipe, ensure_images

    engine = FakeEngine(images=("bed-base:bookworm-lean",))
    config = Config.from_env({}, root=tmp_path)
    ensure_images(engine, Recipe(config.base_image), Console(out=__import__("io").StringIO()))
    return engine, config


def test_a_remote_engine_is_recognised_and_what_bed_does_is_said(tmp_path: Path) -> None:
    engine, config = _fake_with_built_images(tmp_path)
    found = check_engine(lambda: engine, config, {"DOCKER_HOST": "tcp://docker:2375"})
    remote = [f for f in found if "published ports are not on this machine" in f.what]
    assert remote
    assert remote[0].level is Level.WARN
    assert "bed waits and tests from inside the bed network" in remote[0].fix
    assert all(f.level is Level.OK for f in found if f.topic == "images")
    assert engine.table == {}  # its probe container is gone


def test_a_local_engine_is_recognised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bed.commands.doctor as doctor

    engine, config = _fake_with_built_images(tmp_path)
    monkeypatch.setattr(doctor, "_answers", lambda host, port: True)  # the fake engine publishes nothing real
    found = check_engine(lambda: engine, config, {})
    assert any(f.level is Level.OK and "local: published ports answer" in f.what for f in found)
