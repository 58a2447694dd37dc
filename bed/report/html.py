"""report.html: one self-contained page per run, from the serialised report (mvp_report.json).

The page holds the verdict, the checks, the CAUSE lines with their log tails, the per-test
outcomes, timings, images and versions. Any other section the report holds (a matrix a tier
adds, a census) is drawn as a table by its shape, so a new section shows without a change here:
a list of records is a table with a column per key, a mapping of mappings a matrix (a row per
key, a column per inner key), a mapping of values a two-column table.

Self-contained and inert: inline CSS, no script, no external asset, and a Content-Security-Policy
that forbids scripts and loads, so the page opens the same from a CI artifact, a mail or a disk.
Every text is escaped (a CAUSE line or a log tail holding ``<script>`` stays text), and control
characters (ANSI colour codes in log tails) are shown as their escapes rather than passed on.
"""

from __future__ import annotations

import collections
import html
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# The keys this page draws in its own way; every other key of the report is drawn by its shape.
KNOWN = frozenset({"schema_version", "run_id", "gate", "verdict", "verdict_line", "ready", "strict", "expect",
                   "started_at", "bases", "checks", "images", "timings", "versions", "notes", "repro", "quarantine",
                   "gateway", "reused_from"})
CHECK_KNOWN = frozenset({"name", "tier", "status", "duration_s", "tests", "failures", "skipped", "reason", "cause",
                         "junit", "required", "flaky", "quarantined", "outcomes"})
GOOD = frozenset({"passed", "ready", "ok", "xfailed", "true", "yes"})
BAD = frozenset({"failed", "error", "not ready", "broken", "incomplete"})
SOFT = frozenset({"skipped", "flaky", "quarantined", "xpassed"})
MAX_DEPTH = 3  # deeper than this, a value is shown as its JSON-like text
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'"

CSS = """
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#59636e;--line:#d1d9e0;--ok:#1a7f37;--bad:#cf222e;
--soft:#9a6700;--code:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;--line:#3d444d;--ok:#3fb950;
--bad:#f85149;--soft:#d29922;--code:#151b23}}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;
max-width:72rem;padding:1.5rem}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.2rem;border-bottom:1px solid var(--line);margin-top:2rem}
.verdict{display:inline-block;padding:.2rem .8rem;border-radius:.4rem;color:#fff;font-weight:700}
.verdict.ready{background:var(--ok)}.verdict.not-ready{background:var(--bad)}
.meta{color:var(--muted)}table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid var(--line);padding:.25rem .6rem;text-align:left;vertical-align:top}
th{background:var(--code)}td.num{text-align:right;font-variant-numeric:tabular-nums}
.good{color:var(--ok);font-weight:600}.bad{color:var(--bad);font-weight:600}.soft{color:var(--soft);font-weight:600}
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;background:var(--code)}
pre{padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all;border:1px solid var(--line)}
.cause{border-left:4px solid var(--bad);padding-left:.8rem;margin:1rem 0}
.cause p{margin:.2rem 0;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px}
.bar{background:var(--muted);height:.7rem;display:inline-block;vertical-align:middle;opacity:.6}
details{margin:.4rem 0}summary{cursor:pointer}
"""


def visible(text: str) -> str:
    """Control characters as their escape, in plain ASCII (ESC -> ``\\x1b``), so an ANSI code reads
    as text in any font and nothing invisible reaches the page; a lone surrogate (not encodable)
    becomes U+FFFD. Newlines and tabs stay."""

    def show(match: re.Match[str]) -> str:
        code = ord(match.group())
        return "\ufffd" if code >= 0xD800 else f"\\x{code:02x}"

    return _CONTROL.sub(show, text)


class Page:
    """Builds the page's HTML; every text goes through ``text()`` (redacted, visible, escaped)."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        self.redact = redact

    def text(self, value: object) -> str:
        if value is None:
            return "-"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float):
            return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"
        return html.escape(visible(self.redact(str(value))), quote=True)

    def status(self, value: object) -> str:
        """A status word, coloured by what it means."""
        word = str(value).lower()
        kind = "good" if word in GOOD else "bad" if word in BAD else "soft" if word in SOFT else ""
        shown = self.text(value)
        return f'<span class="{kind}">{shown}</span>' if kind else shown

    def cell(self, value: Any, depth: int = 0) -> str:
        """Any value of the report, drawn by its shape."""
        if isinstance(value, Mapping):
            return self.mapping(value, depth + 1) if value else "-"
        if isinstance(value, list | tuple):
            return self.sequence(value, depth + 1) if value else "-"
        if isinstance(value, int | float) and not isinstance(value, bool):
            return self.text(value)
        if isinstance(value, str) and "\n" in value:  # a log, a config file: its lines kept
            return f"<pre>{self.text(value)}</pre>"
        return self.status(value)

    def sequence(self, items: Sequence[Any], depth: int) -> str:
        if depth > MAX_DEPTH:
            return f"<code>{self.text(items)}</code>"
        if all(isinstance(i, Mapping) for i in items):
            columns = list(dict.fromkeys(k for i in items for k in i))
            return self.table([str(c) for c in columns],
                              [[self.cell(i.get(c), depth) for c in columns] for i in items])
        if all(not isinstance(i, Mapping | list | tuple) for i in items):
            return ", ".join(self.cell(i, depth) for i in items)
        return "<ul>" + "".join(f"<li>{self.cell(i, depth)}</li>" for i in items) + "</ul>"

    def mapping(self, data: Mapping[str, Any], depth: int) -> str:
        if depth > MAX_DEPTH:
            return f"<code>{self.text(dict(data))}</code>"
        if all(isinstance(v, Mapping) for v in data.values()):  # a matrix: a row per key
            columns = list(dict.fromkeys(k for v in data.values() for k in v))
            return self.table(["", *map(str, columns)],
                              [[f"<b>{self.text(k)}</b>", *(self.cell(v.get(c), depth) for c in columns)]
                               for k, v in data.items()])
        return self.table(["", ""], [[f"<b>{self.text(k)}</b>", self.cell(v, depth)] for k, v in data.items()],
                          header=False)

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[str]], *, header: bool = True,
              numeric: Sequence[int] = ()) -> str:
        """Rows of HTML cells under escaped column names; ``numeric`` columns align right."""
        out = ["<table>"]
        if header:
            out.append("<tr>" + "".join(f"<th>{self.text(c)}</th>" for c in columns) + "</tr>")
        for row in rows:
            out.append("<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                        for i, c in enumerate(row)) + "</tr>")
        return "".join(out) + "</table>"


# ---- the page ------------------------------------------------------------------------------------


def render(data: Mapping[str, Any], redact: Callable[[str], str] = str) -> str:
    """The whole page for one report (the mvp_report.json document)."""
    p = Page(redact)
    checks = [c for c in data.get("checks", []) if isinstance(c, Mapping)]
    body = [*_header(p, data), *_checks(p, checks), *_causes(p, data, checks), *_outcomes(p, checks),
            *_extra(p, data), *_timings(p, data.get("timings") or {}), *_about(p, data)]
    title = f"bed: {data.get('verdict', '?')} (run {data.get('run_id', '?')}, gate {data.get('gate', '?')})"
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{p.text(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>", *body, "</body>", "</html>",
    ]) + "\n"


def cause_line(check: Mapping[str, Any], command: str) -> str:
    """The CAUSE line of a failed check, as bed/report/writers.py's cause_lines() writes it."""
    cause = check["cause"]
    where = f" ({cause['location']})" if cause.get("location") else ""
    tail = f" -> repro: {command}" if command else ""
    return f"CAUSE {check['name']}: {cause['nodeid']}{where}: {cause['message']}{tail}"


def _header(p: Page, data: Mapping[str, Any]) -> list[str]:
    ready = bool(data.get("ready"))
    facts = [f"run <code>{p.text(data.get('run_id'))}</code>", f"gate <b>{p.text(data.get('gate'))}</b>",
             f"STRICT={'1' if data.get('strict') else '0'}", f"started {p.text(data.get('started_at'))}"]
    gateway = data.get("gateway") or {}
    if isinstance(gateway, Mapping) and gateway.get("describe"):
        facts.append(f"gateway: {p.text(gateway['describe'])}")
    if data.get("reused_from"):
        facts.append(f"on the stack kept by <code>bed up</code> (run {p.text(data['reused_from'])}), reset first")
    if data.get("expect"):
        facts.append(f"READINESS_EXPECT={p.text(','.join(map(str, data['expect'])))}")
    return [f'<h1>bed readiness <span class="verdict {"ready" if ready else "not-ready"}" id="verdict">'
            f"{p.text(data.get('verdict'))}</span></h1>",
            f'<p id="verdict-line"><b>{p.text(data.get("verdict_line"))}</b></p>',
            f'<p class="meta">{" &middot; ".join(facts)}</p>']


def _checks(p: Page, checks: Sequence[Mapping[str, Any]]) -> list[str]:
    rows = []
    for c in checks:
        cause = c.get("cause") or {}
        note = c.get("reason") or (cause.get("message") if isinstance(cause, Mapping) else "") or ""
        rows.append([f"<b>{p.text(c.get('name'))}</b>", p.text(c.get("tier")), p.status(c.get("status")),
                     p.text(c.get("required", False)), p.text(c.get("tests")), p.text(c.get("failures")),
                     p.text(c.get("skipped")), p.text(float(c.get("duration_s") or 0.0)), p.text(note)])
    head = ["check", "tier", "status", "required", "tests", "failed", "skipped", "time (s)", "note"]
    return ["<h2>Checks</h2>", p.table(head, rows, numeric=(4, 5, 6, 7)) if rows else "<p>no check ran</p>"]


def _causes(p: Page, data: Mapping[str, Any], checks: Sequence[Mapping[str, Any]]) -> list[str]:
    repro = data.get("repro") or {}
    command = str(repro.get("command", "")) if isinstance(repro, Mapping) else ""
    failed = [c for c in checks if c.get("status") in ("failed", "error") and isinstance(c.get("cause"), Mapping)]
    if not failed:
        return []
    out = ["<h2>Causes</h2>"]
    for check in failed:
        out.append('<div class="cause">')
        out.append(f'<p class="cause-line">{p.text(cause_line(check, command))}</p>')
        tail = check["cause"].get("log_tail")
        if tail:
            out.append(f"<details open><summary>last lines behind {p.text(check['name'])}</summary>"
                       f"<pre>{p.text(tail)}</pre></details>")
        out.append("</div>")
    return out


def _outcomes(p: Page, checks: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every test's outcome, a folded table per check, then what else a check carries."""
    out = [folded for c in checks if (folded := _check_outcomes(p, c))]
    return ["<h2>Tests</h2>", *out] if out else []


def _check_outcomes(p: Page, c: Mapping[str, Any]) -> str:
    """One check's folded table and what else it carries; "" when it carries none of them."""
    outcomes = c.get("outcomes") or {}
    extra = {k: v for k, v in c.items() if k not in CHECK_KNOWN}
    if not (outcomes or extra or c.get("flaky") or c.get("quarantined")):
        return ""
    parts = [p.table(["test", "outcome"], [[f"<code>{p.text(n)}</code>", p.status(o)]
                                           for n, o in outcomes.items()])] if outcomes else []
    parts += [f"<p>{key}: {p.cell(c[key])}</p>" for key in ("flaky", "quarantined") if c.get(key)]
    parts += [f"<h3>{p.text(_title(k))}</h3>{p.cell(v)}" for k, v in extra.items()]
    return (f"<details><summary><b>{p.text(c.get('name'))}</b>: {p.text(_tally(outcomes))}</summary>"
            f"{''.join(parts)}</details>")


def _tally(outcomes: Mapping[str, Any]) -> str:
    """How many tests ended each way ("1 passed, 2 failed", in order of first appearance)."""
    counts = collections.Counter(str(outcome) for outcome in outcomes.values())
    return ", ".join(f"{n} {k}" for k, n in counts.items()) or "no per-test outcomes"


def _extra(p: Page, data: Mapping[str, Any]) -> list[str]:
    """Every section this page has no special drawing for, drawn by its shape."""
    out = []
    for key, value in data.items():
        if key in KNOWN or value in (None, "", [], {}):
            continue
        out += [f'<h2 id="section-{p.text(key)}">{p.text(_title(key))}</h2>', p.cell(value)]
    if data.get("quarantine"):
        out += ["<h2>Quarantine (runs and is reported, does not gate)</h2>", p.cell(data["quarantine"])]
    return out


def _timings(p: Page, timings: Mapping[str, Any]) -> list[str]:
    numbers = {k: float(v) for k, v in timings.items() if isinstance(v, int | float)}
    if not numbers:
        return []
    top = max(numbers.values()) or 1.0
    rows = [[p.text(k), p.text(v), f'<span class="bar" style="width:{max(v / top * 20, 0.1):.2f}rem"></span>']
            for k, v in numbers.items()]
    return ["<h2>Timings (s)</h2>", p.table(["stage", "seconds", ""], rows, numeric=(1,))]


def _about(p: Page, data: Mapping[str, Any]) -> list[str]:
    out = []
    repro = data.get("repro") or {}
    if isinstance(repro, Mapping) and repro.get("command"):
        out += ["<h2>Re-run</h2>", f"<pre>{p.text(repro['command'])}</pre>"]
    if data.get("notes"):
        out += ["<h2>Notes</h2>", "<ul>" + "".join(f"<li>{p.text(n)}</li>" for n in data["notes"]) + "</ul>"]
    for key, heading in (("images", "Images"), ("versions", "Versions"), ("bases", "Bases")):
        if data.get(key):
            out += [f"<h2>{heading}</h2>", p.cell(data[key])]
    if isinstance(repro, Mapping) and repro:
        out.append(f"<details><summary>What <code>bed repro</code> reads</summary>{p.cell(dict(repro))}</details>")
    return out


def _title(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()
