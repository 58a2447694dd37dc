from __future__ import annotations

import io

from bed._console import Console
from bed._redact import Redactor


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
