"""The command line's habits against the real stack: `eval "$(bed up --env)"` in bash, and
`bed run -- -k ...` selecting inside the tiers' real pytest sessions."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import docker
import pytest

from bed.images.build import ImageRef

from .conftest import bed_cli, clean_env, leftovers

SUITE = {
    "test_det.py": "import pytest\n\n@pytest.mark.deterministic\ndef test_router_is_sane():\n    pass\n",
    "test_nd.py": (
        "import os\n\nimport httpx\nimport pytest\n\n\n"
        "@pytest.mark.nd\ndef test_chat_answers():\n"
        "    url = os.environ['BED_PROXY_URL'] + '/v1/chat/completions'\n"
        "    body = {'model': os.environ['BED_GROUP'], 'messages': [{'role': 'user', 'content': 'hi'}]}\n"
        "    key = os.environ['LITELLM_MASTER_KEY']\n"
        "    assert httpx.post(url, json=body, headers={'Authorization': f'Bearer {key}'}, timeout=30).is_success\n\n\n"
        "@pytest.mark.nd\ndef test_stream_is_not_chosen():\n    raise AssertionError('-k chat must not select me')\n"),
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name, text in SUITE.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def test_double_dash_k_selects_inside_each_tier(images: dict[str, ImageRef], project: Path,
                                                client: docker.DockerClient) -> None:
    done = bed_cli(["run", "--suite", ".", "--tier", "deterministic,nd", "--", "-k", "chat"], project, timeout=600,
                   streams=True)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert "pytest args -k chat" in done.stderr  # the run says what it passes on
    assert "test_nd.py::test_chat_answers PASSED" in done.stderr  # the tier's own live output
    assert "test_stream_is_not_chosen" not in done.stderr
    assert re.search(r"^  PASSED   all_smokes_nd \(1 tests, 0 failed", done.stdout, re.MULTILINE), done.stdout
    assert re.search(r"^  SKIPPED  all_smokes_core \(0 tests.*`-- -k chat` selects none of its 1 tests$",
                     done.stdout, re.MULTILINE), done.stdout
    assert done.stdout.strip().splitlines()[-1].startswith("VERDICT: READY (1 check skipped: all_smokes_core")
    run_id = re.search(r"run ([0-9a-f]{8}), gate", done.stderr)
    assert run_id is not None
    assert leftovers(client, run_id.group(1)) == []


def test_double_dash_k_that_selects_nothing_anywhere_is_not_ready(images: dict[str, ImageRef],
                                                                  project: Path) -> None:
    done = bed_cli(["run", "--suite", ".", "--tier", "deterministic", "--", "-k", "tset_router"], project,
                   timeout=600, streams=True)
    assert done.returncode == 1, (done.stdout + done.stderr)[-4000:]
    assert "`-- -k tset_router` selects none of its 1 tests" in done.stdout
    assert done.stdout.strip().splitlines()[-1].startswith("VERDICT: NOT READY")


def test_eval_bed_up_env_in_bash(images: dict[str, ImageRef], tmp_path: Path, client: docker.DockerClient) -> None:
    bed = f"{shlex.quote(sys.executable)} -m bed"
    script = f"""set -euo pipefail
eval "$({bed} up --env)"
python3 - <<'PY'
import json, os, urllib.request
request = urllib.request.Request(os.environ["BED_PROXY_URL"] + "/v1/chat/completions", method="POST",
    data=json.dumps({{"model": "codex-agent-1", "messages": [{{"role": "user", "content": "eval"}}]}}).encode(),
    headers={{"Authorization": "Bearer " + os.environ["LITELLM_MASTER_KEY"], "Content-Type": "application/json"}})
print("status", urllib.request.urlopen(request, timeout=30).status)
PY
first="$BED_PROXY_URL"
eval "$({bed} up --env)"   # a second shell: the same stack's lines, nothing started
test "$first" = "$BED_PROXY_URL" && echo "same $OPENAI_BASE_URL"
"""
    try:
        done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=clean_env(), capture_output=True, text=True,
                              timeout=600, check=False)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "status 200" in done.stdout
        assert re.search(r"^same http://127\.0\.0\.1:\d+/v1$", done.stdout, re.MULTILINE), done.stdout
        assert "is already up here: its export lines" in done.stderr
    finally:
        down = bed_cli(["down"], tmp_path)
    assert down.returncode == 0, down.stdout
    assert "removed 7 container(s) and 1 network(s)" in down.stdout  # one stack: probe, shim, proxy, shell, 3 warm
