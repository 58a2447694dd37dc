"""compare.md and compare.json from a hand-built Comparison: what changed first, tables folded, a Mermaid chart."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from pathlib import Path

import jsonschema

import bed
from bed.model.comparison import (
    CheckLine,
    Comparison,
    DependencyChange,
    GatewayEntry,
    Latency,
    Measured,
    ProxyImage,
    Row,
    RunInfo,
    Step,
    TestLine,
    deltas,
)
from bed.redact import Redactor
from bed.report import compare as report

from .browser import headless, mermaid_js

SCHEMA = json.loads((Path(bed.__file__).parent / "report" / "compare.schema.json").read_text())


def gateway(name: str, *, boot: float | None, size: float | None, chat: tuple[float | None, float | None],
            status: str = "ran") -> GatewayEntry:
    latency = {"chat": {"plain": Latency(chat[0], chat[1], 10, 0 if chat[0] is not None else 4),
                        "streamed": Latency(5.0, 8.0, 10, 0)}}
    return GatewayEntry(
        name=name, spec=name, describe=f"litellm[proxy]=={name}", kind="release", commit="", dirty=False,
        status=status, verdict="READY" if status == "ran" else None,
        error=None if status == "ran" else "IMAGE_ERROR: x.", litellm=name,
        image=ProxyImage(f"bed-litellm:{name}", "sha256:1", size) if size is not None else None,
        packages=3, measured=Measured(boot_s=boot, latency=latency, leg_s=30.0),
        folder=f"legs/{name}", report=f"legs/{name}/mvp_report.json", repro=f"bed repro legs/{name}/mvp_report.json")


def row(kind: str, level: str, nodeid: str, was: str, now: str, cause: str = "CAUSE nd: t (f:1): boom | pipe") -> Row:
    return Row(kind, level, "1.0", "2.0", "nd", nodeid, was, now, cause, "bed repro r")


def comparison(*, tests: tuple[TestLine, ...], rows: tuple[Row, ...] = (), notes: tuple[str, ...] = ()) -> Comparison:
    one = gateway("1.0", boot=4.0, size=600.0, chat=(2.0, 4.0))
    two = gateway("2.0", boot=5.0, size=660.0, chat=(3.0, 4.0))
    step = Step("1.0", "2.0", sum(r.kind == "regression" for r in rows), sum(r.kind == "fix" for r in rows), 0,
                (DependencyChange("fastapi", "0.1", "0.2"),), deltas(one, two))
    return Comparison(
        gate="core", tiers=("nd",), verdict="REGRESSED" if rows else "NO REGRESSION", exit_code=1 if rows else 0,
        gateways=(one, two), steps=(step,),
        regressions=tuple(r for r in rows if r.kind == "regression"), fixes=tuple(r for r in rows if r.kind == "fix"),
        changes=(), only_in_some=(),
        checks=(CheckLine("nd", {"1.0": "passed", "2.0": "failed" if rows else "passed"}),),
        tests=tests, notes=notes, run=RunInfo("local", 1, 61.0))


SAME = tuple(TestLine("nd", f"nd/test_{i}.py::test_{i}", {"1.0": "passed", "2.0": "passed"}) for i in range(50))


def test_the_deltas_come_first_in_percent_with_p50_and_p99_per_surface() -> None:
    md = report.markdown(comparison(tests=SAME))
    changed = md.index("## What changed")
    assert changed < md.index("| proxy boot (s) | 4.0 | 5.0 | +25.0% |") < md.index("## Details")
    assert "| proxy image (MB) | 600.0 | 660.0 | +10.0% |" in md
    assert "| chat plain p50 / p99 (ms) | 2.0 / 4.0 | 3.0 / 4.0 | +50.0% / +0.0% |" in md
    assert "| chat streamed p50 / p99 (ms) | 5.0 / 8.0 | 5.0 / 8.0 | +0.0% / +0.0% |" in md
    assert "- **1.0 -> 2.0**: 0 regressions, 0 fixes, 0 other changes; 1 package differs" in md


def test_nothing_changed_shows_no_every_test_table_and_no_empty_sections() -> None:
    md = report.markdown(comparison(tests=SAME))
    assert "No check or test changed outcome from one gateway to the next (1 check, 50 tests compared)." in md
    assert "nd/test_7.py" not in md  # 50 identical rows are in compare.json, not here
    assert "Every test: all 50 had the same outcome under every gateway" in md
    for absent in ("## Regressions", "## Fixes", "## Other changes", "## Tests found under only some", "## Notes"):
        assert absent not in md
    assert md.count("\n") < 120


def test_full_tables_are_folded_into_details_blocks_that_render() -> None:
    tests = (*SAME[:3], TestLine("nd", "nd/test_x.py::test_x", {"1.0": "passed", "2.0": "failed"}))
    md = report.markdown(comparison(tests=tests, rows=(row("regression", "check", "", "passed", "failed"),
                                                       row("regression", "test", "nd/test_x.py::test_x", "passed",
                                                           "failed"))))
    details = md[md.index("## Details"):]
    for summary in ("Gateways (2)", "Latency through the proxy (2 surface/mode pairs)",
                    "Dependencies 1.0 -> 2.0: 1 package differs in the proxy images", "Every check (1)",
                    "Every test (4; 1 differ)"):
        assert f"<details><summary>{summary}</summary>\n\n" in details, summary  # a blank line: Markdown inside
    assert details.count("<details>") == details.count("</details>") == 5
    assert "| nd | `nd/test_x.py::test_x` * | passed | failed |" in details
    assert "\n\n</details>" in details  # a blank line before the close, or GitHub shows the table as text


def test_the_rows_name_cause_and_repro_once_per_check_and_every_test() -> None:
    rows = (row("regression", "check", "", "passed", "failed"), row("regression", "test", "t", "passed", "failed"),
            row("fix", "test", "u", "failed", "passed", cause="CAUSE nd: u (f:2): was\nbroken"))
    md = report.markdown(comparison(tests=SAME, rows=rows))
    assert "## Regressions (2)\n\n### 1.0 -> 2.0\n\n- **nd** passed -> failed\n" \
           "  - CAUSE nd: t (f:1): boom | pipe\n  - repro: `bed repro r`\n  - `t`: passed -> failed" in md
    assert md.count("CAUSE nd: t (f:1)") == 1
    assert "  - CAUSE nd: u (f:2): was broken\n" in md  # a multi-line cause stays one list item
    assert md.index("## What changed") < md.index("## Regressions") < md.index("## Fixes (1)") < md.index("## Chart")
    assert report.summary(comparison(tests=SAME, rows=rows)) == "REGRESSED: 2 regressions (1.0 -> 2.0), 1 fix " \
                                                                 "(1.0 -> 2.0)"
    assert report.console_lines(comparison(tests=SAME, rows=rows[:2])) == [
        "REGRESSION 1.0 -> 2.0: nd: passed -> failed", "REGRESSION 1.0 -> 2.0: nd t: passed -> failed",
        "  CAUSE nd: t (f:1): boom | pipe", "  -> repro: bed repro r"]


def test_the_chart_is_mermaid_and_leaves_out_what_did_not_answer() -> None:
    doc = comparison(tests=SAME)
    silent = dataclasses.replace(doc.gateways[1], measured=dataclasses.replace(
        doc.gateways[1].measured, latency={"chat": {"plain": Latency(None, None, 0, 4),
                                                    "streamed": Latency(5.0, 8.0, 10, 0)}}))
    step = dataclasses.replace(doc.steps[0], deltas=deltas(doc.gateways[0], silent))
    md = report.markdown(dataclasses.replace(doc, gateways=(doc.gateways[0], silent), steps=(step,)))
    blocks = re.findall(r"```mermaid\n(.*?)```", md, re.S)
    assert [re.search(r'title "(.*)"', b).group(1) for b in blocks] == [  # type: ignore[union-attr]
        "p50 through the proxy (ms)", "p99 through the proxy (ms)", "proxy boot (s)", "proxy image (MB)"]
    assert 'x-axis ["chat plain 1.0", "chat streamed 1.0", "chat streamed 2.0"]' in blocks[0]
    assert "bar [2, 5, 5]" in blocks[0]
    assert "No answer (not drawn): 2.0 chat plain." in md
    assert "| chat plain p50 / p99 (ms) | 2.0 / 4.0 | - / - | - / - |" in md
    assert "no answer (4 errors)" in md


def test_no_see_notes_without_notes_and_notes_when_there_are() -> None:
    assert "see Notes" not in report.markdown(comparison(tests=SAME))
    md = report.markdown(comparison(tests=SAME, notes=("1.0: bench off",)))
    assert md.rstrip().endswith("## Notes\n\n- 1.0: bench off")


def test_compare_json_round_trips_and_validates(tmp_path: Path) -> None:
    doc = comparison(tests=SAME, rows=(row("regression", "test", "t", "passed", "failed"),))
    written = report.write(doc, tmp_path, Redactor(["boom | pipe"]))
    assert [p.name for p in written] == ["compare.json", "compare.md"]
    data = json.loads((tmp_path / "compare.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["steps"][0]["deltas"][0] == {"measure": "boot_s", "before": 4.0, "after": 5.0, "change_pct": 25.0}
    assert "boom | pipe" not in (tmp_path / "compare.md").read_text()  # redacted
    assert Comparison.from_dict(doc.to_dict()) == doc


def test_three_gateways_make_one_table_with_a_change_column_per_step() -> None:
    one = gateway("1.0", boot=8.0, size=600.0, chat=(5.0, 9.0))
    two = gateway("2.0", boot=6.0, size=600.0, chat=(4.0, 8.0))
    three = gateway("3.0", boot=6.6, size=660.0, chat=(4.0, 12.0))
    steps = (Step("1.0", "2.0", 0, 0, 0, (), deltas(one, two)), Step("2.0", "3.0", 0, 0, 0, None, deltas(two, three)))
    md = report.markdown(dataclasses.replace(comparison(tests=SAME), gateways=(one, two, three), steps=steps))
    assert "| measure | 1.0 | 2.0 | change | 3.0 | change |" in md
    assert "| proxy boot (s) | 8.0 | 6.0 | -25.0% | 6.6 | +10.0% |" in md
    assert "| chat plain p50 / p99 (ms) | 5.0 / 9.0 | 4.0 / 8.0 | -20.0% / -11.1% | 4.0 / 12.0 | +0.0% / +50.0% |" in md
    assert "- **1.0 -> 2.0**: 0 regressions, 0 fixes, 0 other changes; 0 packages differ" in md
    assert "- **2.0 -> 3.0**: 0 regressions, 0 fixes, 0 other changes; packages: unknown (a freeze could not be read)" \
        in md


def test_mermaid_draws_every_chart_of_compare_md(tmp_path: Path) -> None:
    """The blocks as GitHub and GitLab get them, drawn by Mermaid's own bundle in a browser."""
    md = report.markdown(comparison(tests=SAME, rows=(row("regression", "test", "t", "passed", "failed"),)))
    blocks = re.findall(r"```mermaid\n(.*?)```", md, re.S)
    assert len(blocks) == 4
    charts = "".join(f'<pre class="mermaid">{html.escape(b)}</pre>' for b in blocks)
    page = tmp_path / "charts.html"
    page.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{charts}'
                    f'<script src="{mermaid_js().as_uri()}"></script>'
                    "<script>mermaid.initialize({startOnLoad: false});"
                    "mermaid.run().then(() => document.body.dataset.drawn = document.querySelectorAll('svg').length)"
                    ".catch(e => document.body.dataset.failed = (e && e.message) || String(e));</script></body></html>")
    done = headless(page, tmp_path / "profile", "--allow-file-access-from-files", "--virtual-time-budget=20000",
                    "--dump-dom")
    assert 'data-drawn="4"' in done.stdout, (re.findall(r'data-failed="[^"]*"', done.stdout), done.stderr[-1500:])
    assert "Syntax error" not in done.stdout
    svgs = re.findall(r"<svg.*?</svg>", done.stdout, re.S)
    assert "p50 through the proxy (ms)" in svgs[0]
    assert "chat streamed 2.0" in svgs[0]
    assert "proxy image (MB)" in svgs[3]
