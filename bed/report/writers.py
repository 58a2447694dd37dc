"""Writers: mvp_report.json, PROJECT_READY.md, report.html and CAUSE lines (JUnit: ``bed.report.junit``).

They only read RunResult (report.html only its serialised form, mvp_report.json); every byte they
write passes through the redactor first.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from ..errors import ArtifactError
from ..model.results import CheckResult, RunResult, Status
from ..redact import Redactor
from . import deployments, html, matrix

HTML_NAME = "report.html"  # beside mvp_report.json
MARK = {Status.PASSED: "PASS", Status.FAILED: "FAIL", Status.SKIPPED: "SKIP", Status.ERROR: "ERROR"}


def write_text(path: Path, text: str, redact: Callable[[str], str]) -> None:
    """Write atomically (temp file + rename), so a killed run never leaves half a report.

    ``redact`` is a Redactor for reports; `bed init` passes the identity for the user's own files.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        # UTF-8 whatever the locale (the JUnit says so); a lone surrogate from a record is escaped, not a crash
        tmp.write_text(redact(text), encoding="utf-8", errors="backslashreplace")
        os.replace(tmp, path)
    except OSError as exc:
        raise ArtifactError(f"cannot write {path}: {exc.strerror}.",
                            hint="make the folder writable, or point BED_ARTIFACTS_DIR elsewhere.") from exc


def cause_lines(result: RunResult) -> list[str]:
    """One line per failed check: the first failing test, where, what, and the command to re-run it."""
    command = result.repro.get("command")
    tail = f" -> repro: {command}" if command else ""
    lines = []
    for check in result.checks:
        if check.status in (Status.FAILED, Status.ERROR) and check.cause:
            where = f" ({check.cause.location})" if check.cause.location else ""
            lines.append(f"CAUSE {check.name}: {check.cause.nodeid}{where}: {check.cause.message}{tail}")
    return lines


def project_ready_md(result: RunResult) -> str:
    """PROJECT_READY.md: the verdict and the run's facts, then one section per kind of finding
    (a section with nothing to say is left out)."""
    sections = (_head, _checks, _agent_matrix, _causes, _flaky, _quarantine, _census_lists,
                lambda r: deployments.markdown(r.deployments), _skipped, _notes, _footer)
    return "\n".join(line for section in sections for line in section(result)) + "\n"


def _head(result: RunResult) -> list[str]:
    out = [
        f"# PROJECT READY: {result.verdict}",
        "",
        f"**VERDICT: {result.verdict_line()}**",
        "",
        f"- run `{result.run_id}`, gate `{result.gate}`, STRICT={'1' if result.strict else '0'}, "
        f"started {result.started_at}",
        f"- MINI_AGENT_API_BASE = `{result.bases.get('MINI_AGENT_API_BASE', '')}`",
        f"- CODEX_AGENT_API_BASE = `{result.bases.get('CODEX_AGENT_API_BASE', '')}`",
        f"- shim from the host: `{result.bases.get('host', '')}`",
        f"- gateway under test: {result.gateway.get('describe', result.versions.get('litellm', '?'))}",
    ]
    if result.census:
        counted = result.census
        fates = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counted["fates"].items())
        out.append(f"- census: **{counted['collected']} collected, {counted['accounted']} accounted for** ({fates})")
    if result.reused_from:
        out.append(f"- ran on the stack kept by `bed up` (run `{result.reused_from}`), reset first")
    if result.expect:
        out.append(f"- READINESS_EXPECT = `{','.join(result.expect)}`")
    return out


def _checks(result: RunResult) -> list[str]:
    out = ["", "## Checks", "", "| check | tier | status | tests | failed | skipped | time (s) | note |",
           "|---|---|---|---|---|---|---|---|"]
    for c in result.checks:
        note = (c.reason or (c.cause.message if c.cause else "")).replace("|", "\\|")
        out.append(f"| {c.name} | {c.tier} | {MARK[c.status]} | {c.tests} | {c.failures} | {c.skipped} | "
                   f"{c.duration_s:.1f} | {note} |")
    return out


def _causes(result: RunResult) -> list[str]:
    if not cause_lines(result):
        return []
    out = ["", "## Causes", ""]
    for check in result.checks:
        if check.cause and check.status in (Status.FAILED, Status.ERROR):
            out += [f"- {line}" for line in cause_lines(_only(result, check))]
            if check.cause.log_tail:
                out += ["", "  ```", *("  " + ln for ln in check.cause.log_tail.splitlines()[-15:]), "  ```"]
    return out


def _flaky(result: RunResult) -> list[str]:
    flaky = [(c.name, n) for c in result.checks for n in c.flaky]
    if not flaky:
        return []
    return ["", "## Flaky this run (failed, then passed on the immediate re-run)", "",
            *(f"- `{n}` ({name})" for name, n in flaky)]


def _quarantine(result: RunResult) -> list[str]:
    if not result.quarantine:
        return []
    out = ["", "## Quarantine (runs and is reported, does not gate)", "",
           "| test | check | flakes in 7 days | clean runs / to re-promote | since |", "|---|---|---|---|---|"]
    out += [f"| `{q['nodeid']}` | {q['check']} | {q['flakes']} | {q['clean_runs']} / {q['repromote_after']} | "
            f"{q['since']} |" for q in result.quarantine]
    failing = [(c.name, n) for c in result.checks for n in c.quarantined]
    return out + [f"- failed this run, not gating: `{n}` ({name})" for name, n in failing]


def _skipped(result: RunResult) -> list[str]:
    skips = [c for c in result.checks if c.status is Status.SKIPPED]
    return ["", "## Skipped (with reasons)", "", *(f"- **{c.name}**: {c.reason}" for c in skips)] if skips else []


def _notes(result: RunResult) -> list[str]:
    return ["", "## Notes", "", *(f"- {n}" for n in result.notes)] if result.notes else []


def _footer(result: RunResult) -> list[str]:
    out = ["", "## Timings (s)", "", *(f"- {k}: {v:.2f}" for k, v in result.timings.items())]
    out += ["", "## Images", "", "| image | tag | id | size (MB) |", "|---|---|---|---|"]
    out += [f"| {name} | `{image['tag']}` | `{str(image['id'])[7:19]}` | {image['size_mb']} |"
            for name, image in result.images.items()]
    return [*out, "", "## Versions", "", *(f"- {k}: {v}" for k, v in result.versions.items())]


def _census_lists(result: RunResult) -> list[str]:
    """The tests the census could not account for, and those no tier runs."""
    out: list[str] = []
    lost, loose = result.census.get("unaccounted") or [], result.census.get("unmarked") or []
    if lost:
        out += ["", "## Unaccounted for (collected, yet bed cannot say what became of them)", ""]
        out += [f"- `{row['nodeid']}`: {row['why']}" for row in lost]
    if loose:
        out += ["", "## No tier runs these (no tier marker; the deploy gate fails on them)", ""]
        out += [f"- `{row['nodeid']}`" + (f" (unknown marker: {', '.join(row['unknown'])})" if row["unknown"] else "")
                for row in loose]
    return out


def _agent_matrix(result: RunResult) -> list[str]:
    """The agents tier's cells (PASS / FAIL / SKIP with the turn's seconds), and why each that did not pass."""
    if not result.agent_matrix:
        return []
    out = ["", "## Agent matrix", "", f"Each agent's turns through the gateway: {matrix.summary(result.agent_matrix)}.",
           "", *matrix.table(result.agent_matrix)]
    noted = [c for c in result.agent_matrix if c.note]
    if noted:
        out += [""] + [f"- `{c.nodeid}`: {c.note}".replace("|", "\\|") for c in noted]
    return out


def _only(result: RunResult, check: CheckResult) -> RunResult:
    return RunResult(**{**result.__dict__, "checks": (check,)})


def write_all(result: RunResult, *, report: Path, ready_md: Path, redact: Redactor) -> None:
    """mvp_report.json, PROJECT_READY.md, and report.html beside the JSON (drawn from the JSON itself)."""
    document = json.dumps(result.to_dict(), indent=2) + "\n"
    write_text(report, document, redact)
    write_text(ready_md, project_ready_md(result), redact)
    write_text(report.with_name(HTML_NAME), html.render(json.loads(document), redact), redact)
