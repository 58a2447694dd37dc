"""Your agent instead of the shim, and your suite's packages: parsed, or one CONFIG_ERROR line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bed.config.agent import Agent
from bed.config.settings import Config
from bed.errors import ConfigError


def test_an_agent_image_from_the_environment(tmp_path: Path) -> None:
    config = Config.from_env({"BED_AGENT": "registry/agent:1"}, root=tmp_path)
    assert config.agent == Agent("registry/agent:1", 8788, "/health")
    assert config.bases.network == "http://mini-agent:8788/v1"


def test_an_agent_on_its_own_port_moves_the_one_base(tmp_path: Path) -> None:
    (tmp_path / "bed.toml").write_text('agent = { image = "mine:2", port = 9000, health = "/ready" }\n')
    config = Config.from_env({}, root=tmp_path)
    assert config.agent == Agent("mine:2", 9000, "/ready")
    assert config.bases.network == "http://mini-agent:9000/v1"


@pytest.mark.parametrize(("raw", "says"), [
    ({"port": 1}, "must be an image reference"),
    ({"image": "x", "colour": "red"}, "must be an image reference"),
    ({"image": "x", "port": 0}, "is not a port"),
    ({"image": "x", "port": True}, "is not a port"),
    ({"image": "x", "health": "health"}, "is not a path"),
    ("two words", "is not an image reference"),
    (42, "must be an image reference"),
])
def test_a_bad_agent_is_one_line(raw: object, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Agent.parse(raw, "[tool.bed] agent")
    assert says in caught.value.line()
    assert "Hint:" in caught.value.line()


def test_requirements_beside_the_suite_are_found(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/requirements.txt").write_text("# for the suite\nhttpx==0.28.1\n\ntenacity>=9\n")
    config = Config.from_env({}, root=tmp_path, suite="tests")
    assert config.requirements == ("httpx==0.28.1", "tenacity>=9")


def test_requirements_as_a_list_in_the_project_file(tmp_path: Path) -> None:
    (tmp_path / "bed.toml").write_text('requirements = ["respx==0.22.0"]\n')
    assert Config.from_env({}, root=tmp_path).requirements == ("respx==0.22.0",)


@pytest.mark.parametrize(("line", "says"), [("-e ../mylib", "refers to local files"),
                                            ("./wheels/x.whl", "refers to local files")])
def test_requirements_that_point_at_local_files_are_refused(tmp_path: Path, line: str, says: str) -> None:
    (tmp_path / "reqs.txt").write_text(line + "\n")
    with pytest.raises(ConfigError) as caught:
        Config.from_env({"BED_REQUIREMENTS": "reqs.txt"}, root=tmp_path)
    assert says in caught.value.line()


def test_a_list_of_non_strings_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bed.toml").write_text("requirements = [1, 2]\n")
    with pytest.raises(ConfigError, match="must list requirement strings"):
        Config.from_env({}, root=tmp_path)
