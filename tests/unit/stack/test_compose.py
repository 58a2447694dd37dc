"""compose/bed.yaml gives the proxy what bed's own bring-up gives it: the provider modules its
router config names, next to that config, and the base they read."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import yaml

from bed.cli import main
from bed.commands import common
from bed.config.bases import NETWORK_BASE
from bed.console import Console
from bed.engine.fake import FakeEngine
from bed.model.containers import ROUTER_PATH
from bed.stack.bringup import providers
from bed.stack.compose import render, write_providers

from ..fakes import engine_with_images


def test_every_provider_module_is_mounted_next_to_the_router_config() -> None:
    proxy = yaml.safe_load(render())["services"]["litellm"]
    folder = ROUTER_PATH.rsplit("/", 1)[0]
    assert providers(), "bed ships at least the codex-agent provider"
    for name in providers():
        assert {"type": "bind", "source": f"../.artifacts/{name}", "target": f"{folder}/{name}", "read_only": True,
                "bind": {"create_host_path": False}} in proxy["volumes"]
    assert proxy["environment"]["CODEX_AGENT_API_BASE"] == NETWORK_BASE


def test_prepare_writes_the_mounted_modules(tmp_path: Path) -> None:
    written = write_providers(tmp_path, lambda text: text)
    assert sorted(p.name for p in written) == sorted(providers())
    for path in written:
        assert path.read_bytes() == providers()[path.name]


# --- the images a compose stack runs, and its mounts -----------------------------------------------------------------

def test_the_compose_file_names_no_shared_tag_only_what_prepare_chose() -> None:
    """`:current` moved under a compose user when a fork was built; the file names variables now."""
    text = render()
    assert ":current" not in text
    services = yaml.safe_load(text)["services"]
    for service, var in (("mini-agent", "BED_SHIM_IMAGE"), ("litellm", "BED_LITELLM_IMAGE"),
                         ("runner", "BED_RUNNER_IMAGE")):
        assert services[service]["image"].startswith(f"${{{var}:?run `bed compose --prepare`")


def test_every_mount_is_a_bind_whose_source_must_exist() -> None:
    for volume in yaml.safe_load(render())["services"]["litellm"]["volumes"]:
        assert volume["type"] == "bind"
        assert volume["read_only"] is True
        assert volume["bind"] == {"create_host_path": False}  # docker never makes a folder where the file belongs
        assert volume["source"].startswith("../.artifacts/")


def _prepare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: FakeEngine,
             env: dict[str, str] | None = None) -> tuple[int, str]:
    out = io.StringIO()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(common, "engine", lambda environ: engine)
    monkeypatch.setattr("bed.cli.Console", lambda redact: Console(out=out, redact=redact))
    code = main(["compose", "--prepare"], env or {})
    return code, out.getvalue()


def test_prepare_pins_the_images_of_its_own_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = engine_with_images()
    code, out = _prepare(tmp_path, monkeypatch, engine)
    assert code == 0, out
    pinned = dict(line.split("=", 1) for line in (tmp_path / "compose/.env").read_text().splitlines()
                  if not line.startswith("#"))
    smokes = pinned.pop("BED_TWIN_SMOKES")
    assert set(pinned) == {"BED_SHIM_IMAGE", "BED_LITELLM_IMAGE", "BED_RUNNER_IMAGE"}
    assert all(re.fullmatch(r"bed-(shim|litellm|runner):[0-9a-f]{12}", tag) for tag in pinned.values()), pinned
    # The ND tier's twin smokes, as `bed run` hands them to the runner: single-quoted, so compose
    # takes the JSON as it is; the runner reads them through ${BED_TWIN_SMOKES}.
    assert smokes[0] == smokes[-1] == "'"
    assert {s["provider"] for s in json.loads(smokes[1:-1])} >= {"openai", "anthropic", "gemini"}
    runner_env = yaml.safe_load((tmp_path / "compose/bed.yaml").read_text())["services"]["runner"]["environment"]
    assert runner_env["BED_TWIN_SMOKES"] == "${BED_TWIN_SMOKES:-}"
    assert all(engine.image(tag) for tag in pinned.values())
    assert not any(tag.startswith("bed-agents") for tag in engine.builds)  # compose runs no agents image
    # Another gateway's prepare pins its own proxy and runner; the shim, the same content, stays.
    code, out = _prepare(tmp_path, monkeypatch, engine, {"BED_LITELLM": "1.100.5"})
    assert code == 0, out
    again = dict(line.split("=", 1) for line in (tmp_path / "compose/.env").read_text().splitlines()
                 if not line.startswith("#"))
    assert again["BED_SHIM_IMAGE"] == pinned["BED_SHIM_IMAGE"]
    assert again["BED_LITELLM_IMAGE"] != pinned["BED_LITELLM_IMAGE"]
    assert again["BED_RUNNER_IMAGE"] != pinned["BED_RUNNER_IMAGE"]


def test_prepare_removes_an_empty_folder_docker_made_where_its_file_belongs(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".artifacts/router_stub.yaml").mkdir(parents=True)
    (tmp_path / ".artifacts/bed_codex_agent.py").mkdir()
    code, out = _prepare(tmp_path, monkeypatch, engine_with_images())
    assert code == 0, out
    assert "removed the empty folder .artifacts/router_stub.yaml" in out
    assert (tmp_path / ".artifacts/router_stub.yaml").is_file()
    assert (tmp_path / ".artifacts/bed_codex_agent.py").is_file()


def test_prepare_never_removes_a_folder_with_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".artifacts/router_stub.yaml").mkdir(parents=True)
    (tmp_path / ".artifacts/router_stub.yaml/notes.txt").write_text("mine")
    engine = engine_with_images()
    code, out = _prepare(tmp_path, monkeypatch, engine)
    assert code == 6
    line = out.strip().splitlines()[-1]
    assert line.startswith("ARTIFACT_ERROR: .artifacts/router_stub.yaml is a folder with files in it")
    assert "Hint: look inside, then move it aside (mv .artifacts/router_stub.yaml .artifacts/router_stub.yaml.bak)" \
        in line
    assert (tmp_path / ".artifacts/router_stub.yaml/notes.txt").read_text() == "mine"
    assert engine.builds == []
