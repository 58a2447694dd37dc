"""Bad input, as a table: each row is one line (``KIND: what. Hint: fix.``), a documented exit
code, no traceback, and nothing started: every row is refused before bed asks the engine
anything (the engine here does not exist, so reaching it would be ENGINE_ERROR, exit 3)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bed.cli import main

NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/bed-test.sock"}
DEEP = b"a: " + b"[" * 20_000 + b"]" * 20_000 + b"\n"
FLAKE_STORE = "flakes.json"


ROWS = [
    # (id, argv, environment, files to create, exit code, text the one line must contain)
    ("strict-not-a-switch", ["run"], {"STRICT": "perhaps"}, {}, 2, "STRICT='perhaps' is not a switch"),
    ("nd-timeout-nan", ["run"], {"ALL_SMOKES_ND_TIMEOUT": "nan"}, {}, 2, "ALL_SMOKES_ND_TIMEOUT='nan'"),
    ("nd-timeout-inf", ["run"], {"ALL_SMOKES_ND_TIMEOUT": "inf"}, {}, 2, "finite"),
    ("nd-timeout-negative", ["run"], {"ALL_SMOKES_ND_TIMEOUT": "-5"}, {}, 2, "ALL_SMOKES_ND_TIMEOUT"),
    ("wait-timeout-zero", ["run"], {"BED_WAIT_TIMEOUT": "0"}, {}, 2, "like 120 (the default)"),
    ("workers-superscript", ["run"], {"PYTEST_XDIST_AUTO_NUM_WORKERS": "\u00b2"}, {}, 2,
     "PYTEST_XDIST_AUTO_NUM_WORKERS"),
    ("workers-zero", ["run"], {"PYTEST_XDIST_AUTO_NUM_WORKERS": "0"}, {}, 2, "at least 1"),
    ("memory-superscript", ["run"], {"BED_RUNNER_MEMORY": "\u00b2g"}, {}, 2, "is not a memory size"),
    ("memory-below-engine-minimum", ["run"], {"BED_RUNNER_MEMORY": "1m"}, {}, 2, "below the engine's minimum of 6m"),
    ("memory-unit", ["run"], {"BED_RUNNER_MEMORY": "2x"}, {}, 2, "512m or 2g"),
    ("repromote-superscript", ["run"], {"BED_REPROMOTE_AFTER": "\u00b3"}, {}, 2, "BED_REPROMOTE_AFTER"),
    ("expect-unknown", ["run"], {"READINESS_EXPECT": "nd,gemni"}, {}, 2, "READINESS_EXPECT names 'gemni'"),
    ("group-newline", ["run"], {"BED_ROUTER_GROUP": "codex\nagent"}, {}, 2, "BED_ROUTER_GROUP"),
    ("group-non-ascii", ["run"], {"BED_ROUTER_GROUP": "codex-agent-\u00e9"}, {}, 2, "ASCII"),
    ("group-empty", ["run"], {"BED_ROUTER_GROUP": ""}, {}, 2, "BED_ROUTER_GROUP"),
    ("base-port-zero", ["run"], {"MINI_AGENT_API_BASE": "http://127.0.0.1:0"}, {}, 2, "port 0"),
    ("base-credentials", ["run"], {"MINI_AGENT_API_BASE": "http://user:s3cr3t-pw@127.0.0.1:8788"}, {}, 2,
     "carries credentials"),
    ("base-group-as-host", ["run"], {"MINI_AGENT_API_BASE": "http://codex-agent-1:8788"}, {}, 2, "model group"),
    ("base-remote", ["run"], {"MINI_AGENT_API_BASE": "http://example.com:8788"}, {}, 2, "points away"),
    ("gate-bogus", ["run", "--gate", "bogus"], {}, {}, 2, "invalid choice: 'bogus'"),
    ("tier-empty", ["run", "--tier", ","], {}, {}, 2, "--tier names no tier"),
    ("tier-unknown", ["run", "--tier", "smoke"], {}, {}, 2, "unknown tier 'smoke'"),
    ("shard-bad", ["run", "--shard", "3/2"], {}, {}, 2, "--shard"),
    ("no-command", [], {}, {}, 2, "required"),
    ("router-config-empty", ["run", "--router-config", ""], {}, {}, 2, "--router-config is empty"),
    ("router-config-missing", ["run", "--router-config", "nope.yaml"], {}, {}, 2, "cannot read router config"),
    ("router-config-folder", ["run", "--router-config", "."], {}, {}, 2, "is a folder"),
    ("router-config-binary", ["run", "--router-config", "r.yaml"], {}, {"r.yaml": b"\x00\x01\x02ELF"}, 2,
     "binary file"),
    ("router-config-latin-1", ["run", "--router-config", "r.yaml"], {},
     {"r.yaml": "model_list: []\n# caf\u00e9\n".encode("latin-1")}, 2, "not UTF-8"),
    ("router-config-nested-20000", ["run", "--router-config", "r.yaml"], {}, {"r.yaml": DEEP}, 2,
     "nested too deeply"),
    ("router-config-50mb", ["run", "--router-config", "r.yaml"], {}, {"r.yaml": b"#" * (50 * 1024 * 1024)}, 2,
     "over 1024 KB"),
    ("router-config-not-yaml", ["run", "--router-config", "r.yaml"], {}, {"r.yaml": b"model_list: [\n"}, 2,
     "not valid YAML"),
    ("router-entry-no-params", ["run", "--router-config", "r.yaml"], {},
     {"r.yaml": b"model_list:\n  - model_name: other\n"}, 2, "has no litellm_params.model"),
    ("router-group-no-model-strict", ["run", "--strict", "--router-config", "r.yaml"], {},
     {"r.yaml": b"model_list:\n  - model_name: codex-agent-1\n"}, 2, "has no litellm_params.model"),
    ("flake-store-empty-name", ["run"], {"BED_FLAKE_STORE": ""}, {}, 2, "BED_FLAKE_STORE is empty"),
    ("flake-store-not-json", ["run"], {"BED_FLAKE_STORE": FLAKE_STORE}, {FLAKE_STORE: b"{not json"}, 2,
     "is not JSON"),
    ("flake-store-wrong-shape", ["run"], {"BED_FLAKE_STORE": FLAKE_STORE}, {FLAKE_STORE: b'{"tests": []}'}, 2,
     "has no 'tests' table"),
    ("flake-store-bad-entry", ["run"], {"BED_FLAKE_STORE": FLAKE_STORE},
     {FLAKE_STORE: b'{"tests": {"t.py::a": {"check": "x", "flakes": "yesterday"}}}'}, 2, "wrong shape"),
    ("artifacts-dir-empty", ["run"], {"BED_ARTIFACTS_DIR": ""}, {}, 2, "BED_ARTIFACTS_DIR is empty"),
    ("ca-bundle-missing", ["run"], {"BED_CA_BUNDLE": "/nonexistent/ca.pem"}, {}, 2, "BED_CA_BUNDLE"),
    ("suite-missing", ["run", "--suite", "nope"], {}, {}, 2, "is not a folder"),
    ("repro-not-json", ["repro", "r.json"], {}, {"r.json": b"\xff\xfe"}, 2, "is not JSON"),
    ("repro-not-a-report", ["repro", "r.json"], {}, {"r.json": b"{}"}, 2, "not a bed report"),
    ("bench-runs-word", ["bench", "--runs", "many"], {}, {}, 2, "invalid int value"),
    ("bench-runs-zero", ["bench", "reuse", "--runs", "0"], {}, {}, 2, "--runs 0 is out of range"),
    ("bench-reuse-nothing-kept", ["bench", "reuse"], {}, {}, 2, "no stack kept by `bed up` here"),
    ("pyproject-unknown-key", ["run"], {}, {"pyproject.toml": b"[tool.bed]\nstrikt = true\n"}, 2,
     "did you mean 'strict'"),
    ("pyproject-not-toml", ["run"], {}, {"pyproject.toml": b"[tool.bed\n"}, 2, "not valid TOML"),
]


@pytest.mark.parametrize(("argv", "env", "files", "code", "says"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_bad_input_is_one_line_and_a_documented_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str], argv: list[str],
                                                    env: dict[str, str], files: dict[str, bytes], code: int,
                                                    says: str) -> None:
    monkeypatch.chdir(tmp_path)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    started = time.monotonic()
    got = main(argv, {**NO_ENGINE, **env})
    took = time.monotonic() - started
    out = capsys.readouterr()
    text = out.out + out.err
    assert got == code, text
    lines = [ln for ln in text.splitlines() if ln.startswith(("CONFIG_ERROR:", "ENGINE_ERROR:", "BUG:"))]
    assert len(lines) == 1, text
    assert lines[0].startswith("CONFIG_ERROR: ")
    assert says in lines[0]
    assert " Hint: " in lines[0]
    assert "Traceback" not in text
    assert "s3cr3t-pw" not in text  # a password in a base is never echoed
    assert took < 3.0, f"took {took:.2f} s to refuse"  # the point: at once, not after 77 s (a loaded CI is slow)
    assert not (tmp_path / "local").exists()  # nothing was started, no report written


def test_a_corrupt_flake_store_is_kept_as_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    store = tmp_path / FLAKE_STORE
    store.write_bytes(b"{half a history")
    assert main(["run"], {**NO_ENGINE, "BED_FLAKE_STORE": FLAKE_STORE}) == 2
    assert store.read_bytes() == b"{half a history"  # never reset silently
    assert f"mv {store} {store}.bak" in capsys.readouterr().err  # an error: on stderr
