from __future__ import annotations

import io

import pytest

from bed.console import Console
from bed.redact import Redactor


def test_masks_credential_looking_variables_only() -> None:
    env = {"OPENAI_API_KEY": "sk-live-123456", "GITHUB_TOKEN": "ghp_abcdef", "HOME": "/root", "SHORT_KEY": "1"}
    redact = Redactor.from_env(env)
    assert redact("key sk-live-123456 and ghp_abcdef at /root") == "key *** and *** at /root"
    assert redact("1 stays 1") == "1 stays 1"


def test_longest_secret_wins() -> None:
    redact = Redactor(["secret-abc", "secret-abcdef"])
    assert redact("secret-abcdef") == "***"


def test_added_secrets_are_masked_in_console_output() -> None:
    out = io.StringIO()
    console = Console(out=out)
    console.redact.add("sk-bed-master-xyz")
    console.step("key is sk-bed-master-xyz")
    console.stream("runner", "Authorization: Bearer sk-bed-master-xyz")
    console.banner("B", ["sk-bed-master-xyz"])
    assert "sk-bed-master-xyz" not in out.getvalue()
    assert out.getvalue().count("***") == 3


def test_progress_heartbeat_in_plain_output(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import bed.console as console_module

    monkeypatch.setattr(console_module, "HEARTBEAT_S", 0.3)
    out = io.StringIO()
    console = Console(out=out, tty=False)
    with console.progress("waiting for bed-x-litellm"):
        time.sleep(0.8)
    time.sleep(0.3)
    text = out.getvalue()
    assert "still waiting for bed-x-litellm" in text
    assert "\r" not in text  # no terminal control in CI logs


def test_progress_status_line_on_a_terminal_is_cleared_before_output() -> None:
    import time

    out = io.StringIO()
    console = Console(out=out, tty=True)
    with console.progress("waiting for shim"):
        time.sleep(0.5)
        console.step("shim healthy")
    time.sleep(0.4)
    text = out.getvalue()
    assert "... waiting for shim" in text
    assert "\r\033[K[bed" in text  # the status line is cleared before the real line
    assert text.endswith("\r\033[K") or text.endswith("\n")
