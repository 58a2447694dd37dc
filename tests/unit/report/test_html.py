"""report.html: drawn from mvp_report.json alone, self-contained, inert, and what a browser shows.

The browser tests run Debian's headless Chromium (tests/unit/report/browser.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bed.model.results import Cause, CheckResult, RunResult, Status
from bed.redact import Redactor
from bed.report import html
from bed.report.writers import HTML_NAME, cause_lines, write_all

from .browser import headless

INJECTED = "<script>document.body.setAttribute('data-pwned','1');document.title='PWNED'</script>"
IMG = "<img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">"
ANSI = "\x1b[31mERROR\x1b[0m"
SECRET = "sk-planted-secret-4242"


def run_result() -> RunResult:
    failed = CheckResult(
        name="all_smokes_nd", tier="nd", status=Status.FAILED, duration_s=2.5, tests=3, failures=1,
        cause=Cause("nd/test_x.py::test_bad", "nd/test_x.py:23", f"AssertionError: {INJECTED} {ANSI}",
                    f"proxy said {IMG}\n{ANSI} bell\x07 key={SECRET}\nlast line"),
        outcomes={"nd/test_x.py::test_ok": "passed", "nd/test_x.py::test_bad": "failed"})
    skipped = CheckResult(name="release_smokes", tier="release", status=Status.SKIPPED, duration_s=0.0,
                          reason="LIVE_PROVIDERS is not 1")
    return RunResult(
        run_id="0123abcd", gate="core", ready=False, strict=False, checks=(failed, skipped),
        bases={"MINI_AGENT_API_BASE": "http://mini-agent:8788/v1", "CODEX_AGENT_API_BASE": "http://mini-agent:8788/v1",
               "host": "http://127.0.0.1:1234/v1", "source": "default"},
        images={"shim": {"tag": "bed-shim:abc", "id": "sha256:0123", "size_mb": 163.0, "built": False}},
        timings={"images": 0.5, "tiers": 40.0, "total": 46.5}, versions={"bed": "0.2.0", "litellm": "1.108.7"},
        started_at="2026-12-04T00:00:00+00:00", repro={"command": "bed repro local/artifacts/mvp/mvp_report.json"},
        gateway={"kind": "release", "value": "1.108.7", "describe": "litellm[proxy]==1.108.7 from PyPI"})


@pytest.fixture
def written(tmp_path: Path) -> Path:
    """report.html as a run writes it, beside mvp_report.json."""
    report = tmp_path / "local/artifacts/mvp/mvp_report.json"
    write_all(run_result(), report=report, ready_md=tmp_path / "PROJECT_READY.md", redact=Redactor([SECRET]))
    return report.with_name(HTML_NAME)


def test_the_page_is_drawn_from_the_serialised_report_alone(written: Path) -> None:
    data = json.loads(written.with_name("mvp_report.json").read_text())
    assert written.read_text() == html.render(data, Redactor([SECRET]))


def test_the_page_is_self_contained_and_inert(written: Path) -> None:
    page = written.read_text()
    assert not re.search(r"<(script|link|iframe|object|embed|img)\b", page, re.I)
    assert not re.search(r"\b(src|href|action|on\w+)\s*=", _markup(page), re.I)
    assert not re.search(r"url\(|@import", page)
    assert "Content-Security-Policy" in page
    assert "default-src 'none'" in page
    assert SECRET not in page
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", page)  # control characters are shown, not passed on


def test_causes_and_log_tails_are_text(written: Path) -> None:
    page = written.read_text()
    assert "&lt;script&gt;document.body.setAttribute(&#x27;data-pwned&#x27;,&#x27;1&#x27;)" in page
    assert "\\x1b[31mERROR\\x1b[0m bell\\x07 key=***" in page
    line = cause_lines(run_result())[0]
    assert html.cause_line(run_result().to_dict()["checks"][0], "bed repro local/artifacts/mvp/mvp_report.json") \
        == line  # the page's CAUSE line is the one `bed run` prints


def test_a_section_the_page_does_not_know_is_drawn_by_its_shape() -> None:
    data = {**run_result().to_dict(),
            "agent_matrix": {"codex 0.169.0": {"chat": "passed", "responses": "failed"},
                             "claude 2.1.328": {"chat": "passed", "messages": "skipped"}},
            "census": {"collected": 50, "fates": {"passed": 46}, "unaccounted": ["a::b"]},
            "runs": [{"agent": "gemini", "turns": 3}, {"agent": "qwen", "seconds": 1.5}]}
    data["checks"][0]["per_agent"] = [{"agent": "codex", "outcome": "passed"}]
    page = html.render(data)
    assert '<h2 id="section-agent_matrix">Agent matrix</h2>\n<table><tr><th></th><th>chat</th><th>responses</th>' \
           "<th>messages</th></tr><tr><td><b>codex 0.169.0</b></td><td><span class=\"good\">passed</span></td>" \
           '<td><span class="bad">failed</span></td><td>-</td></tr>' in page
    # records: a column per key any of them has
    assert "<tr><th>agent</th><th>turns</th><th>seconds</th></tr><tr><td>gemini</td><td>3</td><td>-</td></tr>" in page
    assert "<td><b>unaccounted</b></td><td>a::b</td>" in page
    assert "<h3>Per agent</h3>" in page


def test_a_browser_shows_the_verdict_and_the_cause_and_runs_nothing(written: Path, tmp_path: Path) -> None:
    done = headless(written, tmp_path / "profile", "--dump-dom")
    dom = done.stdout
    assert "</html>" in dom, done.stderr[-2000:]
    assert "data-pwned" not in _markup(dom), "an injected script or handler ran"
    assert not re.search(r"<(script|img)\b", dom), "an injected element reached the DOM"
    assert re.search(r'<span class="verdict not-ready" id="verdict">NOT READY</span>', dom)
    assert "CAUSE all_smokes_nd: nd/test_x.py::test_bad (nd/test_x.py:23): AssertionError: &lt;script&gt;" in dom
    assert "\\x1b[31mERROR\\x1b[0m" in dom
    assert "<title>bed: NOT READY (run 0123abcd, gate core)</title>" in dom


def test_a_browser_draws_the_page(written: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done = headless(written, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,1600")
    assert shot.is_file(), done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # text and tables, not a blank page


def _markup(dom: str) -> str:
    """The DOM's tags and attributes without its text (where the escaped payload legitimately is)."""
    return " ".join(re.findall(r"<[^>]*>", dom))


def test_every_value_is_escaped() -> None:
    page = html.Page(str)
    assert page.text('<a href="x">&</a>') == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
    assert page.cell({"k": ["<b>", {"x": 1}]}).count("&lt;b&gt;") == 1
    assert html.visible("a\x1b[1mb\x00\x7f\x9b\ud800\tc\n") == "a\\x1b[1mb\\x00\\x7f\\x9b\ufffd\tc\n"


def test_each_checks_outcomes_are_folded_under_their_count_then_what_else_it_carries() -> None:
    data = run_result().to_dict()
    checks = data["checks"]
    checks[0]["outcomes"]["nd/test_x.py::test_q"] = "failed"
    checks[0].update(flaky=["nd/test_x.py::test_ok"], quarantined=["nd/test_x.py::test_q"],
                     per_agent=[{"agent": "codex", "outcome": "passed"}])
    checks.append({"name": "only_flaky", "tier": "nd", "status": "passed", "flaky": ["a::b"], "outcomes": {}})
    page = html.render(data)
    assert ("<h2>Tests</h2>\n"
            "<details><summary><b>all_smokes_nd</b>: 1 passed, 2 failed</summary>"
            "<table><tr><th>test</th><th>outcome</th></tr>"
            '<tr><td><code>nd/test_x.py::test_ok</code></td><td><span class="good">passed</span></td></tr>'
            '<tr><td><code>nd/test_x.py::test_bad</code></td><td><span class="bad">failed</span></td></tr>'
            '<tr><td><code>nd/test_x.py::test_q</code></td><td><span class="bad">failed</span></td></tr></table>'
            "<p>flaky: nd/test_x.py::test_ok</p><p>quarantined: nd/test_x.py::test_q</p>"
            "<h3>Per agent</h3><table><tr><th>agent</th><th>outcome</th></tr>"
            '<tr><td>codex</td><td><span class="good">passed</span></td></tr></table></details>\n'
            "<details><summary><b>only_flaky</b>: no per-test outcomes</summary><p>flaky: a::b</p></details>\n"
            "<h2>Timings (s)</h2>") in page  # release_smokes carries none of them: it is not listed


@pytest.mark.parametrize("carries", [{"outcomes": {"a::b": "passed"}}, {"flaky": ["a::b"]},
                                     {"quarantined": ["a::b"]}, {"per_agent": [{"agent": "codex"}]}],
                         ids=["outcomes", "flaky", "quarantined", "another-key"])
def test_a_check_is_listed_under_tests_when_it_carries_any_of_them(carries: dict[str, Any]) -> None:
    check = {"name": "c", "tier": "nd", "status": "passed", "outcomes": {}, "flaky": [], "quarantined": []}
    data = {**run_result().to_dict(), "checks": [check]}
    assert "<h2>Tests</h2>" not in html.render(data)
    data["checks"] = [{**check, **carries}]
    assert "<h2>Tests</h2>\n<details><summary><b>c</b>: " in html.render(data)
