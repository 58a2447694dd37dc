"""The comparison's writers: compare.json and compare.md (bed compare), and its terminal lines.

They only read a Comparison (bed/compare/merge.py builds it; compare.json is its ``to_dict()``,
schema bed/report/compare.schema.json). Every byte goes through the redactor.

compare.md leads with what changed from one gateway to the next: the measured deltas in percent
(proxy boot, image size, p50/p99 per surface), then the regressions and fixes with their CAUSE
line and repro command. The full tables (gateways, latencies, dependencies, every check, every
test) are folded into ``<details>``; the every-test table is left out when no test differs (its
rows are in compare.json). The chart is Mermaid text (bed/report/mermaid.py), so it needs no
plotting library and shows wherever the Markdown does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from ..model.comparison import Comparison, Delta, GatewayEntry, Latency, Row
from . import mermaid
from .writers import write_text

TITLES = {"regression": "Regressions", "fix": "Fixes", "change": "Other changes (shown, not judged)"}
MEASURES = {"boot_s": "proxy boot (s)", "image_mb": "proxy image (MB)"}


def write(doc: Comparison, folder: Path, redact: Callable[[str], str]) -> list[Path]:
    """compare.json and compare.md into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "compare.json", folder / "compare.md"]
    write_text(written[0], json.dumps(doc.to_dict(), indent=2) + "\n", redact)
    write_text(written[1], markdown(doc), redact)
    return written


def title(doc: Comparison) -> str:
    return " -> ".join(doc.names)


def summary(doc: Comparison) -> str:
    """The one line a user reads: the result, and how many of each kind where."""
    parts = []
    for rows, nouns in ((doc.regressions, ("regression", "regressions")), (doc.fixes, ("fix", "fixes"))):
        if rows:
            steps = list(dict.fromkeys(f"{r.before} -> {r.after}" for r in rows))
            parts.append(f"{len(rows)} {nouns[len(rows) > 1]} ({'; '.join(steps)})")
    return doc.verdict + (f": {', '.join(parts)}" if parts else "")


def console_lines(doc: Comparison) -> list[str]:
    """What the terminal shows: each regression and fix, with its cause and repro once per check."""
    out: list[str] = []
    for rows, word in ((doc.regressions, "REGRESSION"), (doc.fixes, "FIX")):
        for (before, after, check), members in _groups(rows).items():
            for row in members:
                what = {"gateway": "the gateway", "check": check, "test": f"{check} {row.nodeid}"}[row.level]
                out.append(f"{word} {before} -> {after}: {what}: {row.was} -> {row.now}")
            if members[0].cause:
                out.append(f"  {members[0].cause}")
            out.append(f"  -> repro: {members[0].repro}")
    if doc.changes:
        out.append(f"{len(doc.changes)} other change(s), not judged (passed -> skipped, ...): see compare.md")
    if doc.only_in_some:
        out.append(f"{len(doc.only_in_some)} test(s) found under only some gateways: see compare.md")
    return out


def _groups(rows: Sequence[Row]) -> dict[tuple[str, str, str], list[Row]]:
    groups: dict[tuple[str, str, str], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.before, row.after, row.check), []).append(row)
    return groups


def markdown(doc: Comparison) -> str:
    out = [f"# bed compare: {title(doc)}", "", f"**RESULT: {summary(doc)}** (exit {doc.exit_code})", "",
           f"Gate `{doc.gate}` (tiers: {', '.join(doc.tiers)}), each gateway in its own stack. A step compares "
           "one gateway with the next; a regression is good before and bad after.", ""]
    out += _what_changed(doc)
    out += _outcomes(doc)
    out += _chart(doc)
    out += ["## Details", "", *_gateways(doc), *_latency(doc), *_dependencies(doc), *_checks(doc), *_tests(doc)]
    notes = [*doc.notes, *([doc.run.note] if doc.run and doc.run.note else [])]
    if notes:
        out += ["## Notes", "", *(f"- {_line(n)}" for n in notes), ""]
    return "\n".join(out).rstrip("\n") + "\n"


# ---- what changed: the measured deltas and the outcome rows --------------------------------------


def _what_changed(doc: Comparison) -> list[str]:
    """One table: each measure under every gateway, and its change in percent from the one before."""
    out = ["## What changed", ""]
    for step in doc.steps:
        counts = f"{_count(step.regressions, 'regression')}, {_count(step.fixes, 'fix')}, " \
                 f"{_count(step.changes, 'other change')}"
        deps = "packages: unknown (a freeze could not be read)" if step.dependencies is None else \
            _differ(len(step.dependencies))
        out.append(f"- **{step.before} -> {step.after}**: {counts}; {deps}")
    out.append("")
    rows = _measure_rows(doc)
    if not rows:
        return out
    head = ["measure", doc.gateways[0].name]
    for gateway in doc.gateways[1:]:
        head += [gateway.name, "change"]
    out += ["| " + " | ".join(_cell(h) for h in head) + " |", "|---" * len(head) + "|", *rows, ""]
    return out


def _measure_rows(doc: Comparison) -> list[str]:
    """Boot and image, then each latency as ``p50 / p99``: a row only when some gateway measured it."""
    steps = [{d.measure: d for d in step.deltas} for step in doc.steps]
    keys = list(dict.fromkeys(k for deltas in steps for k in deltas))
    rows = []
    for key in [k for k in keys if not k.startswith("latency:")]:
        rows.append(_row_of(MEASURES.get(key, key), [[s.get(key)] for s in steps]))
    pairs = list(dict.fromkeys(k.rsplit(":", 1)[0] for k in keys if k.startswith("latency:")))
    for pair in pairs:
        _, surface, mode = pair.split(":")
        cells = [[s.get(f"{pair}:p50"), s.get(f"{pair}:p99")] for s in steps]
        rows.append(_row_of(f"{surface} {mode} p50 / p99 (ms)", cells))
    return [r for r in rows if r]


def _row_of(label: str, per_step: list[list[Delta | None]]) -> str:
    """``| label | first | second | change | third | change |``; "" when nothing was measured."""
    first = [d.before if d else None for d in per_step[0]]
    cells = [label, _values(first)]
    seen = any(v is not None for v in first)
    for deltas in per_step:
        after = [d.after if d else None for d in deltas]
        seen = seen or any(v is not None for v in after)
        cells += [_values(after), " / ".join(_pct(d.change_pct if d else None) for d in deltas)]
    return "| " + " | ".join(cells) + " |" if seen else ""


def _values(values: list[float | None]) -> str:
    return " / ".join(_num(v) for v in values)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}%"


def _outcomes(doc: Comparison) -> list[str]:
    out: list[str] = []
    for kind, heading in TITLES.items():
        rows = doc.rows(kind)
        if rows:
            out += [f"## {heading} ({len(rows)})", "", *_rows(rows)]
    if not (doc.regressions or doc.fixes or doc.changes):
        out += [f"No check or test changed outcome from one gateway to the next ({_count(len(doc.checks), 'check')}"
                f", {_count(len(doc.tests), 'test')} compared).", ""]
    if doc.only_in_some:
        out += [f"## Tests found under only some gateways ({len(doc.only_in_some)})", "",
                "Listed, not judged: a test that is not there under a gateway cannot be compared.", "",
                "| check | test | found under | not under |", "|---|---|---|---|"]
        out += [f"| {_cell(p.check)} | {_code(p.nodeid, table=True)} | {_cell(', '.join(p.found_under))} | "
                f"{_cell(', '.join(p.missing_under))} |" for p in doc.only_in_some]
        out.append("")
    return out


def _rows(rows: Sequence[Row]) -> list[str]:
    """Grouped by step and check: the check's cause and repro once, then each test."""
    out: list[str] = []
    step = None
    for (before, after, check), members in _groups(rows).items():
        if (before, after) != step:
            step = (before, after)
            out += [f"### {before} -> {after}", ""]
        first = members[0]
        if first.level == "gateway":
            out.append(f"- **the gateway** {first.was} -> {first.now}")
        else:
            head = next((r for r in members if r.level == "check"), None)
            change = f" {head.was} -> {head.now}" if head else ""
            out.append(f"- **{_line(check)}**{change}")
        if first.cause:
            out.append(f"  - {_line(first.cause)}")
        out.append(f"  - repro: {_code(first.repro)}")
        out += [f"  - {_code(r.nodeid)}: {r.was} -> {r.now}" for r in members if r.level == "test"]
    return [*out, ""] if out else []


# ---- the chart -----------------------------------------------------------------------------------


def _chart(doc: Comparison) -> list[str]:
    """p50 and p99 per surface and gateway, proxy boot and image size, as Mermaid bar charts."""
    ran = [g for g in doc.gateways if g.status == "ran"]
    pairs = list(dict.fromkeys(p for g in ran for p in g.measured.pairs()))
    blocks: list[list[str]] = []
    silent: list[str] = []
    for point in ("p50", "p99"):
        bars = []
        for surface, mode in pairs:
            for g in ran:
                value = _point(g.measured.at(surface, mode), point)
                if value is None:
                    silent.append(f"{g.name} {surface} {mode}")
                else:
                    bars.append((f"{surface} {mode} {g.name}", value))
        blocks.append(mermaid.bar_chart(f"{point} through the proxy (ms)", "ms", bars))
    blocks.append(mermaid.bar_chart("proxy boot (s)", "s", _per_gateway(doc.gateways, lambda g: g.measured.boot_s)))
    blocks.append(mermaid.bar_chart("proxy image (MB)", "MB",
                                    _per_gateway(doc.gateways, lambda g: g.image.size_mb if g.image else None)))
    drawn = [b for b in blocks if b]
    if not drawn:
        return []
    out = ["## Chart", ""]
    for block in drawn:
        out += [*block, ""]
    if silent:
        out += ["No answer (not drawn): " + ", ".join(dict.fromkeys(silent)) + ".", ""]
    return out


def _point(latency: Latency | None, point: str) -> float | None:
    if latency is None:
        return None
    return latency.p50_ms if point == "p50" else latency.p99_ms


def _per_gateway(gateways: Sequence[GatewayEntry],
                 value: Callable[[GatewayEntry], float | None]) -> list[tuple[str, float]]:
    return [(g.name, v) for g in gateways if (v := value(g)) is not None]


# ---- the folded tables ---------------------------------------------------------------------------


def _folded(summary_text: str, body: list[str]) -> list[str]:
    """A <details> block; the blank lines around the body let GitHub and GitLab render its Markdown."""
    return [f"<details><summary>{summary_text}</summary>", "", *body, "", "</details>", ""]


def _gateways(doc: Comparison) -> list[str]:
    body = ["| gateway | what | verdict | proxy boot (s) | proxy image (MB) | packages |", "|---|---|---|---|---|---|"]
    for g in doc.gateways:
        verdict = g.verdict if g.status == "ran" else f"BROKEN: {g.error}"
        image = _num(g.image.size_mb) if g.image else "-"
        body.append(f"| {_cell(g.name)} | {_cell(g.describe)} | {_cell(verdict or '-')} | "
                    f"{_num(g.measured.boot_s)} | {image} | {g.packages or '-'} |")
    return _folded(f"Gateways ({len(doc.gateways)})", body)


def _latency(doc: Comparison) -> list[str]:
    pairs = list(dict.fromkeys(p for g in doc.gateways for p in g.measured.pairs()))
    if not pairs:
        return ["Latency through the proxy: not measured.", ""]
    body = ["p50 / p99 in ms, one request at a time over loopback. The shim answers at once, so this is the "
            "proxy's own cost per request.", "",
            "| surface | mode | " + " | ".join(_cell(n) for n in doc.names) + " |",
            "|---|---|" + "---|" * len(doc.names)]
    for surface, mode in pairs:
        cells = [_latency_cell(g.measured.at(surface, mode)) for g in doc.gateways]
        body.append(f"| {_cell(surface)} | {_cell(mode)} | " + " | ".join(cells) + " |")
    return _folded(f"Latency through the proxy ({len(pairs)} surface/mode pairs)", body)


def _latency_cell(m: Latency | None) -> str:
    if m is None:
        return "-"
    if m.p50_ms is None or m.p99_ms is None:
        return f"no answer ({m.errors} errors)"
    errors = f", {m.errors} errors" if m.errors else ""
    return f"{m.p50_ms:.1f} / {m.p99_ms:.1f} (n={m.requests}{errors})"


def _dependencies(doc: Comparison) -> list[str]:
    out: list[str] = []
    for step in doc.steps:
        deps = step.dependencies
        if deps is None:
            out += [f"Dependencies {step.before} -> {step.after}: unknown (a freeze could not be read).", ""]
            continue
        body = [f"| package | {_cell(step.before)} | {_cell(step.after)} |", "|---|---|---|"]
        body += [f"| {_cell(d.name)} | {_cell(d.before or '(absent)')} | {_cell(d.after or '(absent)')} |"
                 for d in deps]
        out += _folded(f"Dependencies {step.before} -> {step.after}: {_differ(len(deps))} in the proxy images",
                       body if deps else ["none"])
    return out


def _checks(doc: Comparison) -> list[str]:
    body = ["| check | " + " | ".join(_cell(n) for n in doc.names) + " |", "|---|" + "---|" * len(doc.names)]
    body += [f"| {_cell(c.name)} | " + " | ".join(c.outcomes.get(n) or "-" for n in doc.names) + " |"
             for c in doc.checks]
    return _folded(f"Every check ({len(doc.checks)})", body)


def _tests(doc: Comparison) -> list[str]:
    differ = sum(t.differs for t in doc.tests)
    if not differ:
        return [f"Every test: all {len(doc.tests)} had the same outcome under every gateway (each one is in "
                "compare.json).", ""]
    body = ["`*`: differs between gateways", "", "| check | test | " + " | ".join(_cell(n) for n in doc.names) + " |",
            "|---|---|" + "---|" * len(doc.names)]
    for t in doc.tests:
        mark = " *" if t.differs else ""
        body.append(f"| {_cell(t.check)} | {_code(t.nodeid, table=True)}{mark} | "
                    + " | ".join(t.outcomes.get(n) or "-" for n in doc.names) + " |")
    return _folded(f"Every test ({len(doc.tests)}; {differ} differ)", body)


# ---- text in Markdown ----------------------------------------------------------------------------


def _count(n: int, noun: str) -> str:
    plural = {"fix": "fixes"}.get(noun, noun + "s")
    return f"{n} {noun if n == 1 else plural}"


def _differ(packages: int) -> str:
    return f"{_count(packages, 'package')} {'differs' if packages == 1 else 'differ'}"


def _line(text: str) -> str:
    """Free text on one line: a multi-line message must not break the list it is in."""
    return " ".join(text.split())


def _cell(text: str) -> str:
    return _line(text).replace("|", "\\|")


def _code(text: str, *, table: bool = False) -> str:
    """Inline code that survives backticks in the text (a node id may hold any character); in a
    table, a pipe is escaped even inside code (GitHub's tables split on it otherwise)."""
    text = _line(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    code = f"{fence} {text} {fence}" if longest else f"{fence}{text}{fence}"
    return code.replace("|", "\\|") if table else code


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
