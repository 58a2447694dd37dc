"""Headless Chromium for the report tests: the page as a browser draws it.

`make test` / `make test-unit` install what these need (scripts/ensure-browser.sh: Debian's
chromium on a root Debian machine, Mermaid's pinned bundle into .venv/browser/); a test that
needs one skips, saying why, only where it could not be installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MERMAID = REPO / ".venv" / "browser"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")


def chromium() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium on this machine: `make test` installs Debian's chromium on root Debian machines "
                "(scripts/ensure-browser.sh); elsewhere install chromium to run the report browser tests")


def mermaid_js() -> Path:
    found = sorted(MERMAID.glob("mermaid-*.min.js"))
    if not found:
        pytest.skip(f"no Mermaid bundle in {MERMAID}: `make test-unit` fetches it (scripts/ensure-browser.sh; "
                    "needs npm)")
    return found[-1]


def headless(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Chromium on ``page`` with a fresh profile, nothing fetched in the background."""
    argv = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
