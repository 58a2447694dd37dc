"""`bed compare` on the real engine: three real LiteLLM releases 28 minor versions apart, and a fork
of the pinned release with a regression planted in its proxy.

Cold, each release's images take about a minute to build (the proxy with uv, then the runner and
the agents images FROM it); afterwards every leg is a warm gate (~20 s) plus a short bench.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing

import bed
from bed.config.gateway import PINNED

from .conftest import bed_cli

RELEASES = ("1.80.17", "1.100.5", PINNED)  # each verified to resolve and boot (docs/gateway-research.md)
SCHEMAS = Path(bed.__file__).parent / "report"
COMPARE_SCHEMA = json.loads((SCHEMAS / "compare.schema.json").read_text())
LEG_SCHEMA = json.loads((SCHEMAS / "compare_leg.schema.json").read_text())
REPORT_SCHEMA = json.loads((SCHEMAS / "report.schema.json").read_text())
REGISTRY = referencing.Registry().with_resources(
    [(s["$id"], referencing.Resource.from_contents(s)) for s in (COMPARE_SCHEMA, LEG_SCHEMA)])
# The sdist of the pinned release, from PyPI's simple index (PEP 691 JSON), checked against the
# index's sha256. `pip download --no-binary :all: --no-deps litellm==1.108.7` cannot be used: pip
# prepares the sdist's metadata, and the maturin backend needs cargo and crates.io for that.
SDIST_CACHE = Path(os.environ.get("BED_TEST_CACHE", Path.home() / ".cache" / "bed-tests"))
PLANTED = "bed planted regression: streamed chat completions fail"
ANCHOR = "await read_request_body(request=request)\n"


def _valid(document: dict[str, Any], schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(schema, registry=REGISTRY).validate(document)


def _sdist(version: str) -> Path:
    name = f"litellm-{version}.tar.gz"
    target = SDIST_CACHE / name
    if target.is_file():
        return target
    request = urllib.request.Request("https://pypi.org/simple/litellm/",
                                     headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - PyPI, https
        files = json.load(answer)["files"]
    entry = next(f for f in files if f["filename"] == name)
    with urllib.request.urlopen(entry["url"], timeout=300) as answer:  # noqa: S310 - files.pythonhosted.org
        data = answer.read()
    assert hashlib.sha256(data).hexdigest() == entry["hashes"]["sha256"], f"{name}: hash mismatch"
    SDIST_CACHE.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(target)
    return target


def _git(path: Path, *args: str) -> str:
    # Fixed names and dates: the same planted commit every time, so its images are reused.
    who = {"GIT_AUTHOR_NAME": "bed", "GIT_AUTHOR_EMAIL": "bed@invalid", "GIT_COMMITTER_NAME": "bed",
           "GIT_COMMITTER_EMAIL": "bed@invalid", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
           "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}
    return subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True, text=True,
                          env={**os.environ, **who}).stdout.strip()


@pytest.fixture(scope="module")
def broken_fork() -> tuple[Path, str]:
    """The pinned release's source as a git checkout, one commit answering streamed chat with a 500.

    Kept in the test cache (same path, same commit), so a second run finds its images built.
    """
    fork = SDIST_CACHE / f"fork-{PINNED}-broken-stream" / f"litellm-{PINNED}"
    if fork.is_dir() and _git(fork, "log", "-1", "--format=%s") == "break streamed chat completions" \
            and not _git(fork, "status", "--porcelain"):
        return fork, _git(fork, "rev-parse", "HEAD")
    shutil.rmtree(fork.parent, ignore_errors=True)
    with tarfile.open(_sdist(PINNED)) as archive:
        archive.extractall(fork.parent, filter="data")
    _git(fork, "init", "-q")
    _git(fork, "add", "-A")
    _git(fork, "commit", "-qm", f"litellm {PINNED} as released")
    server = fork / "litellm" / "proxy" / "proxy_server.py"
    source = server.read_text()
    at = source.index(ANCHOR, source.index("async def chat_completion(")) + len(ANCHOR)
    plant = ('    if data.get("stream"):  # planted by bed\'s tests\n'
             f'        raise HTTPException(status_code=500, detail="{PLANTED}")\n')
    server.write_text(source[:at] + plant + source[at:])
    _git(fork, "commit", "-qam", "break streamed chat completions")
    return fork, _git(fork, "rev-parse", "HEAD")


def _compare(cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    done = bed_cli(["compare", *args], cwd, timeout=1500)
    path = cwd / "local" / "artifacts" / "compare" / "compare.json"
    assert path.is_file(), done.stdout[-4000:] + done.stderr[-2000:]
    doc = json.loads(path.read_text())
    _valid(doc, COMPARE_SCHEMA)
    return done, doc


def test_three_releases_28_minors_apart_show_their_real_differences(tmp_path: Path, no_leftovers: None) -> None:
    args = [a for r in RELEASES for a in ("--litellm", r)]
    done, doc = _compare(tmp_path, *args, "--tier", "deterministic,nd", "--bench-seconds", "0.5")
    assert done.returncode == doc["exit_code"], done.stdout[-4000:]
    gateways = doc["gateways"]
    assert [g["name"] for g in gateways] == list(RELEASES)
    assert [g["status"] for g in gateways] == ["ran"] * 3, [g["error"] for g in gateways]
    assert [g["litellm"] for g in gateways] == list(RELEASES)  # from each image's own freeze
    for g in gateways:
        assert 0.5 < g["measured"]["boot_s"] < 120, g
        assert g["image"]["size_mb"] > 300
        assert g["packages"] > 50
        chat = g["measured"]["latency"]["chat"]["plain"]
        assert chat["requests"] > 0
        assert 0 < chat["p50_ms"] <= chat["p99_ms"]
        report = json.loads((tmp_path / g["report"]).read_text())
        jsonschema.validate(report, REPORT_SCHEMA)
        assert report["repro"]["env"]["BED_LITELLM"] == g["name"]
        assert report["images"]["litellm"]["id"] == g["image"]["id"]
        _valid(json.loads((tmp_path / g["folder"] / "leg.json").read_text()), LEG_SCHEMA)
    for step in doc["steps"]:
        names = {d["name"] for d in step["dependencies"]}
        assert "litellm" in names, step
        assert len(names) > 3, step  # more moves between releases this far apart than litellm itself
    assert len({g["image"]["id"] for g in gateways}) == 3
    tests = {t["nodeid"] for t in doc["tests"]}
    assert any(t.startswith("nd/test_proxy_routing.py::") for t in tests)
    md = (tmp_path / "local" / "artifacts" / "compare" / "compare.md").read_text()
    assert f"# bed compare: {' -> '.join(RELEASES)}" in md
    assert md.index("## What changed") < md.index("## Details")
    assert "| chat plain p50 / p99 (ms) |" in md  # the bench's deltas, gateway to gateway
    assert md.count("\nxychart-beta horizontal\n") == 4  # p50, p99, boot, image
    assert f"COMPARE: {doc['verdict']}" in done.stdout
    assert "could not remove" not in done.stdout


def test_a_fork_with_a_planted_500_on_streamed_chat_is_a_regression_with_its_cause(
        tmp_path: Path, broken_fork: tuple[Path, str], no_leftovers: None) -> None:
    fork, commit = broken_fork
    done, doc = _compare(tmp_path, "--litellm", PINNED, "--litellm", f"path:{fork}", "--tier", "nd",
                         "--bench-seconds", "0.5")
    assert done.returncode == 1, done.stdout[-4000:]
    name = f"{fork.name}@{commit[:8]}"
    assert [g["name"] for g in doc["gateways"]] == [PINNED, name]
    pinned, forked = doc["gateways"]
    assert (forked["kind"], forked["commit"], forked["status"]) == ("path", commit, "ran")
    regressed = {r["nodeid"] for r in doc["regressions"] if r["level"] == "test"}
    assert "nd/test_proxy_routing.py::test_group_streams_through_proxy" in regressed, doc["regressions"]
    assert all(r["before"] == PINNED and r["after"] == name for r in doc["regressions"])
    nd = next(r for r in doc["regressions"] if r["check"] == "all_smokes_nd")
    assert nd["cause"].startswith("CAUSE all_smokes_nd: nd/")
    assert "500" in nd["cause"] or PLANTED in nd["cause"], nd["cause"]
    assert nd["repro"] == f"bed repro {forked['report']}"
    assert doc["steps"][0]["dependencies"] == []  # a fork over its release: the same dependencies
    streamed = forked["measured"]["latency"]["chat"]["streamed"]
    assert (streamed["requests"], streamed["p50_ms"]) == (0, None)
    assert streamed["errors"] > 0
    assert forked["measured"]["latency"]["chat"]["plain"]["requests"] > 0
    assert pinned["measured"]["latency"]["chat"]["streamed"]["errors"] == 0
    md = (tmp_path / "local" / "artifacts" / "compare" / "compare.md").read_text()
    assert md.index("## What changed") < md.index("## Regressions (") < md.index("## Chart") < md.index("## Details")
    # The surface that stopped answering: measured before, nothing after, no percentage; not drawn.
    assert re.search(r"\| chat streamed p50 / p99 \(ms\) \| [0-9.]+ / [0-9.]+ \| - / - \| - / - \|", md), md[:3000]
    assert f"No answer (not drawn): {name} chat streamed." in md
    assert f"REGRESSION {PINNED} -> {name}: all_smokes_nd nd/test_proxy_routing.py::" \
           "test_group_streams_through_proxy: passed -> failed" in done.stdout
    # The leg's own report reproduces it, on the fork's images.
    again = bed_cli(["repro", forked["report"]], tmp_path, timeout=600)
    assert again.returncode == 1, again.stdout[-3000:]
    assert "test_group_streams_through_proxy" in again.stdout
    assert "IMAGES DIFFER" not in again.stdout


def test_a_leg_alone_then_a_merge_is_the_local_comparison(tmp_path: Path, broken_fork: tuple[Path, str],
                                                           no_leftovers: None) -> None:
    """The distributed path on real legs (warm after the test above): --leg twice, then --merge."""
    fork, _ = broken_fork
    for spec, out in ((PINNED, "ci/a"), (f"path:{fork}", "ci/b")):
        done = bed_cli(["compare", "--leg", spec, "--out", out, "--tier", "nd", "--bench-seconds", "0"], tmp_path,
                       timeout=900)
        assert done.returncode == 0, done.stdout[-3000:]
    merged = bed_cli(["compare", "--merge", "ci/a", "ci/b"], tmp_path)
    assert merged.returncode == 1, merged.stdout[-3000:]
    doc = json.loads((tmp_path / "local" / "artifacts" / "compare" / "compare.json").read_text())
    _valid(doc, COMPARE_SCHEMA)
    assert doc["run"]["mode"] == "merge"
    assert "nd/test_proxy_routing.py::test_group_streams_through_proxy" in {r["nodeid"] for r in doc["regressions"]}
    assert doc["regressions"][0]["repro"].startswith("bed repro ci/b/")

