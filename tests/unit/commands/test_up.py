"""`bed up`'s stdout is shell: `eval "$(bed up --env)"` sets the kept stack's environment in bash.

The stack is the fake engine's; the lines are evaluated by a real bash.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

import bed.cli as cli
from bed.commands import common, up
from bed.console import Console
from bed.engine.fake import FakeEngine

from ..fakes import engine_with_images


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeEngine:
    fake = engine_with_images()
    monkeypatch.setattr(common, "engine", lambda environ: fake)
    monkeypatch.setattr(up, "reachable", lambda host, port, timeout_s=1.0: True)  # the fake publishes nothing
    monkeypatch.chdir(tmp_path)
    return fake


def bed(*argv: str) -> tuple[int, str, str]:
    """``bed ARGV`` in this process: its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    original = cli.Console
    cli.Console = lambda redact=None: Console(out, redact=redact, err=err)  # type: ignore[assignment,misc]
    try:
        code = cli.main(list(argv), {})
    finally:
        cli.Console = original  # type: ignore[misc]
    return code, out.getvalue(), err.getvalue()


def bash(script: str, stdin: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", script], input=stdin, capture_output=True, text=True, timeout=30, check=False,
                          env={"PATH": "/usr/bin:/bin"}, cwd=cwd)


def test_up_env_prints_only_lines_bash_can_eval(engine: FakeEngine, tmp_path: Path) -> None:
    code, out, err = bed("up", "--env")
    assert code == 0
    assert all(line.startswith("export ") for line in out.splitlines()), out
    assert "[bed " in err  # what bed did went to stderr
    done = bash('eval "$(cat)"; echo "$BED_PROXY_URL|$OPENAI_BASE_URL|$MINI_AGENT_API_BASE|$LITELLM_MASTER_KEY"', out)
    assert done.returncode == 0, done.stderr
    proxy, openai, shim, key = done.stdout.strip().split("|")
    assert proxy.startswith("http://127.0.0.1:")
    assert openai == f"{proxy}/v1"
    assert shim.startswith("http://127.0.0.1:")
    assert key == (tmp_path / ".artifacts" / "master_key").read_text().strip()
    assert key not in out  # read from its 0600 file when the line runs, never printed
    # a second shell: the same lines, and nothing new started
    started = len(engine.table)
    code, again, _ = bed("up", "--env")
    assert (code, again) == (0, out)
    assert len(engine.table) == started
    code, _, err = bed("up")  # without --env a second stack is still refused
    assert code == 2
    assert "`bed up --env` prints its export lines" in err


def test_plain_up_adds_only_shell_comments_to_stdout(engine: FakeEngine) -> None:
    code, out, _ = bed("up")
    assert code == 0
    lines = out.splitlines()
    others = [line for line in lines if not line.startswith("export ")]
    assert others[0].startswith("# a shell in the runner: docker exec -it ")
    assert all(line.startswith("#") for line in others)  # the agents' set-up too: comments, eval-safe
    assert bash('eval "$(cat)"', out).returncode == 0


def test_export_lines_quote_what_the_shell_would_expand(tmp_path: Path) -> None:
    key_file = tmp_path / "it's a $HOME" / "master key"
    key_file.parent.mkdir()
    key_file.write_text("sk-bed-quoted\n")
    lines = up.export_lines(4000, "http://127.0.0.1:8788/v1?a=1&b=$(touch pwned)", key_file)
    done = bash('eval "$(cat)"; echo "$MINI_AGENT_API_BASE|$LITELLM_MASTER_KEY"', "\n".join(lines) + "\n", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "http://127.0.0.1:8788/v1?a=1&b=$(touch pwned)|sk-bed-quoted"
    assert not (tmp_path / "pwned").exists()
