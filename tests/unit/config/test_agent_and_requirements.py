"""Your agent instead of the shim, and your suite's packages: parsed, or one CONFIG_ERROR line."""

from __future__ import annotations

import json
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


REFUSED = [("-e ../mylib", "refers to local files"), ("-e /etc", "refers to local files"),
           ("--editable=/etc", "refers to local files"), ("-r other.txt", "refers to local files"),
           ("-c constraints.txt", "refers to local files"), ("./wheels/x.whl", "refers to local files"),
           ("/abs/pkg", "refers to local files"), ("~/pkg", "refers to local files"),
           ("vendor/pkg", "refers to local files"), ("file:///etc/pkg", "refers to local files"),
           ("pkg @ file:///etc/pkg", "refers to local files"),
           ("--index-url=https://example.com/simple", "is a pip option"),
           ("-i https://example.com/simple", "is a pip option"),
           ("--extra-index-url https://example.com/simple", "is a pip option"),
           ("--trusted-host example.com", "is a pip option"), ("--find-links /wheels", "is a pip option"),
           ("--no-index", "is a pip option"), ("httpx --trusted-host example.com", "carries the pip option"),
           ("httpx==0.28.1 --config-settings=x=y", "carries the pip option")]
ACCEPTED = ["httpx==0.28.1", "respx>=0.22,<1", "pydantic[email]==2.9.0", 'pytz; python_version < "3.12"',
            "httpx==0.28.1 --hash=sha256:d909fcccc110f8c7faf814ca82a9a4d816bc5a6dbfea25d6591d6985b8ba59ad",
            "pkg @ https://example.com/pkg-1.0-py3-none-any.whl", "git+https://example.com/org/pkg.git"]


@pytest.mark.parametrize(("line", "says"), REFUSED)
@pytest.mark.parametrize("form", ["file", "list"])
def test_one_rule_for_the_requirements_file_and_the_list(tmp_path: Path, form: str, line: str, says: str) -> None:
    """``-e /etc`` or ``--index-url`` in ``requirements = [...]`` was taken where the file refused it."""
    if form == "file":
        (tmp_path / "reqs.txt").write_text(f"httpx\n{line}\n")
        environ = {"BED_REQUIREMENTS": "reqs.txt"}
    else:
        (tmp_path / "bed.toml").write_text(f"requirements = {json.dumps(['httpx', line])}\n")
        environ = {}
    with pytest.raises(ConfigError) as caught:
        Config.from_env(environ, root=tmp_path)
    assert says in caught.value.line()
    assert repr(line) in caught.value.line()


@pytest.mark.parametrize("form", ["file", "list"])
def test_what_pip_installs_from_an_index_is_accepted_in_both_forms(tmp_path: Path, form: str) -> None:
    if form == "file":
        (tmp_path / "reqs.txt").write_text("# pinned\n" + "\n".join(f"{x}  # why" for x in ACCEPTED) + "\n")
        environ = {"BED_REQUIREMENTS": "reqs.txt"}
    else:
        (tmp_path / "bed.toml").write_text(f"requirements = {json.dumps(ACCEPTED)}\n")
        environ = {}
    assert Config.from_env(environ, root=tmp_path).requirements == tuple(ACCEPTED)


def test_a_continued_line_in_the_file_is_one_requirement(tmp_path: Path) -> None:
    (tmp_path / "reqs.txt").write_text("httpx==0.28.1 \\\n    --hash=sha256:abcdef0123\n")
    config = Config.from_env({"BED_REQUIREMENTS": "reqs.txt"}, root=tmp_path)
    assert config.requirements == ("httpx==0.28.1      --hash=sha256:abcdef0123",)


def test_a_list_of_non_strings_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bed.toml").write_text("requirements = [1, 2]\n")
    with pytest.raises(ConfigError, match="must list requirement strings"):
        Config.from_env({}, root=tmp_path)
