"""The comparison's writers: compare.json, compare.md and compare.png (bed compare).

They only read the comparison document (bed/compare/merge.py builds it; its schema is
bed/report/compare.schema.json). Every byte goes through the redactor.

The chart needs matplotlib, which is optional (``pip install 'bed-readiness[chart]'``; bed's
dev install has it): it is a picture of numbers compare.md and compare.json already hold, and
matplotlib with numpy and pillow would triple what `pip install bed-readiness` downloads for
every user of a CLI tool whose runtime dependencies are otherwise small. Without it, compare.md
says how to get the chart, and nothing else changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .writers import write_text

CHART = "compare.png"
NO_CHART = "no chart: matplotlib is not installed (pip install 'bed-readiness[chart]'); every number is above"
TITLES = {"regressions": "Regressions", "fixes": "Fixes", "changes": "Other changes (not judged)"}


def write(doc: dict[str, Any], folder: Path, redact: Callable[[str], str]) -> list[Path]:
    """compare.json, compare.png (when matplotlib is there) and compare.md into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "compare.json"]
    write_text(written[0], json.dumps(doc, indent=2) + "\n", redact)
    picture = chart(doc, folder / CHART)
    if picture is not None:
        written.append(picture)
    written.append(folder / "compare.md")
    write_text(written[-1], markdown(doc, chart_file=picture.name if picture else None), redact)
    return written


def title(doc: dict[str, Any]) -> str:
    return " -> ".join(g["name"] for g in doc["gateways"])


def summary(doc: dict[str, Any]) -> str:
    """The one line a user reads: the result, and how many of each kind where."""
    parts = []
    for key, nouns in (("regressions", ("regression", "regressions")), ("fixes", ("fix", "fixes"))):
        rows = doc[key]
        if rows:
            steps = list(dict.fromkeys(f"{r['before']} -> {r['after']}" for r in rows))
            parts.append(f"{len(rows)} {nouns[len(rows) > 1]} ({'; '.join(steps)})")
    return str(doc["verdict"]) + (f": {', '.join(parts)}" if parts else "")


def console_lines(doc: dict[str, Any]) -> list[str]:
    """What the terminal shows: each regression and fix, with its cause and repro once per check."""
    out: list[str] = []
    for key, word in (("regressions", "REGRESSION"), ("fixes", "FIX")):
        for (before, after, check), members in _groups(doc[key]).items():
            for row in members:
                what = {"gateway": "the gateway", "check": check, "test": f"{check} {row['nodeid']}"}[row["level"]]
                out.append(f"{word} {before} -> {after}: {what}: {row['was']} -> {row['now']}")
            if members[0]["cause"]:
                out.append(f"  {members[0]['cause']}")
            out.append(f"  -> repro: {members[0]['repro']}")
    if doc["changes"]:
        out.append(f"{len(doc['changes'])} other change(s), not judged (passed -> skipped, ...): see compare.md")
    if doc["only_in_some"]:
        out.append(f"{len(doc['only_in_some'])} test(s) found under only some gateways: see compare.md")
    return out


def _groups(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["before"], row["after"], row["check"]), []).append(row)
    return groups


def markdown(doc: dict[str, Any], *, chart_file: str | None) -> str:
    out = [f"# bed compare: {title(doc)}", "", f"**RESULT: {summary(doc)}** (exit {doc['exit_code']})", "",
           f"Gate `{doc['gate']}` (tiers: {', '.join(doc['tiers'])}), each gateway in its own stack. A step "
           "compares one gateway with the next; a regression is good before and bad after.", ""]
    for key, heading in TITLES.items():
        out += [f"## {heading}", ""]
        out += _rows(doc[key]) or ["none", ""]
    out += _only_in_some(doc)
    out += _gateways(doc)
    out += _latency(doc)
    out += _dependencies(doc)
    out += _matrix(doc)
    out += ["## Chart", "", f"![latency, boot time and image size per gateway]({chart_file})" if chart_file
            else NO_CHART, ""]
    notes = [*doc["notes"], *([doc["run"]["note"]] if doc.get("run", {}).get("note") else [])]
    if notes:
        out += ["## Notes", "", *(f"- {n}" for n in notes), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _rows(rows: list[dict[str, Any]]) -> list[str]:
    """Grouped by step and check: the check's cause and repro once, then each test."""
    out: list[str] = []
    step = None
    for (before, after, check), members in _groups(rows).items():
        if (before, after) != step:
            step = (before, after)
            out += [f"### {before} -> {after}", ""]
        first = members[0]
        if first["level"] == "gateway":
            out.append(f"- **the gateway** {first['was']} -> {first['now']}")
        else:
            head = next((r for r in members if r["level"] == "check"), None)
            change = f" {head['was']} -> {head['now']}" if head else ""
            out.append(f"- **{check}**{change}")
        if first["cause"]:
            out.append(f"  - {_cell(first['cause'])}")
        out.append(f"  - repro: `{first['repro']}`")
        out += [f"  - `{r['nodeid']}`: {r['was']} -> {r['now']}" for r in members if r["level"] == "test"]
    return [*out, ""] if out else []


def _only_in_some(doc: dict[str, Any]) -> list[str]:
    out = ["## Tests found under only some gateways", ""]
    if not doc["only_in_some"]:
        return [*out, "none", ""]
    out += ["| check | test | found under | not under |", "|---|---|---|---|"]
    out += [f"| {p['check']} | `{p['nodeid']}` | {', '.join(p['found_under'])} | {', '.join(p['missing_under'])} |"
            for p in doc["only_in_some"]]
    return [*out, ""]


def _gateways(doc: dict[str, Any]) -> list[str]:
    out = ["## Gateways", "", "| gateway | what | verdict | proxy boot (s) | proxy image (MB) | packages |",
           "|---|---|---|---|---|---|"]
    for g in doc["gateways"]:
        verdict = g["verdict"] if g["status"] == "ran" else f"BROKEN: {g['error']}"
        image = g["image"]["size_mb"] if g["image"] else "-"
        out.append(f"| {g['name']} | {_cell(g['describe'])} | {_cell(verdict or '-')} | "
                   f"{_num(g['measured'].get('boot_s'))} | {image} | {g['packages'] or '-'} |")
    return [*out, ""]


def _latency(doc: dict[str, Any]) -> list[str]:
    names = [g["name"] for g in doc["gateways"]]
    measured = {g["name"]: g["measured"].get("latency") or {} for g in doc["gateways"]}
    pairs = list(dict.fromkeys((s, m) for lat in measured.values() for s, modes in lat.items() for m in modes))
    out = ["## Latency through the proxy", "",
           "p50 / p99 in ms, one request at a time over loopback (the shim answers at once; see Notes).", ""]
    if not pairs:
        return [*out, "not measured", ""]
    out += ["| surface | mode | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for surface, mode in pairs:
        cells = [_latency_cell(measured[n].get(surface, {}).get(mode)) for n in names]
        out.append(f"| {surface} | {mode} | " + " | ".join(cells) + " |")
    return [*out, ""]


def _latency_cell(m: dict[str, Any] | None) -> str:
    if m is None:
        return "-"
    if m["p50_ms"] is None:
        return f"no answer ({m['errors']} errors)"
    errors = f", {m['errors']} errors" if m["errors"] else ""
    return f"{m['p50_ms']:.1f} / {m['p99_ms']:.1f} (n={m['requests']}{errors})"


def _dependencies(doc: dict[str, Any]) -> list[str]:
    out = ["## Dependency changes (the proxy images' installed packages)", ""]
    for step in doc["steps"]:
        deps = step["dependencies"]
        if deps is None:
            out += [f"### {step['before']} -> {step['after']}: unknown (a freeze could not be read)", ""]
            continue
        out += [f"### {step['before']} -> {step['after']}: {len(deps)} package(s) differ", ""]
        if deps:
            out += [f"| package | {step['before']} | {step['after']} |", "|---|---|---|"]
            out += [f"| {d['name']} | {d['before'] or '(absent)'} | {d['after'] or '(absent)'} |" for d in deps]
            out.append("")
    return out


def _matrix(doc: dict[str, Any]) -> list[str]:
    names = [g["name"] for g in doc["gateways"]]
    head = " | ".join(names)
    out = ["## Every check", "", f"| check | {head} |", "|---|" + "---|" * len(names)]
    out += [f"| {c['name']} | " + " | ".join(c["outcomes"][n] or "-" for n in names) + " |" for c in doc["checks"]]
    out += ["", "## Every test", "", "(`*`: differs between gateways)", "", f"| check | test | {head} |",
            "|---|---|" + "---|" * len(names)]
    for t in doc["tests"]:
        seen = [t["outcomes"][n] for n in names]
        mark = " *" if len(set(seen)) > 1 else ""
        out.append(f"| {t['check']} | `{t['nodeid']}`{mark} | " + " | ".join(o or "-" for o in seen) + " |")
    return [*out, ""]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


# ---- the chart -----------------------------------------------------------------------------------


def chart(doc: dict[str, Any], path: Path) -> Path | None:
    """Latency per surface, proxy boot time and image size, per gateway; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    gateways = doc["gateways"]
    names = [g["name"] for g in gateways]
    fig, (lat, boot, size) = plt.subplots(1, 3, figsize=(14, 4.8), gridspec_kw={"width_ratios": [3, 1, 1]})
    pairs = list(dict.fromkeys((s, m) for g in gateways for s, modes in (g["measured"].get("latency") or {}).items()
                               for m in modes))
    width = 0.8 / max(len(names), 1)
    for i, g in enumerate(gateways):
        latency = g["measured"].get("latency") or {}
        p50 = [_ms(latency, s, m, "p50_ms") for s, m in pairs]
        p99 = [_ms(latency, s, m, "p99_ms") for s, m in pairs]
        xs = [x + i * width for x in range(len(pairs))]
        lat.bar(xs, p50, width, label=f"{g['name']} p50")
        lat.scatter(xs, p99, marker="_", s=200, color="black", zorder=3, label="p99" if i == 0 else None)
    lat.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(pairs))],
                   [f"{s}\n{m}" for s, m in pairs], fontsize=8)
    lat.set_ylabel("ms through the proxy (0: no answer)")
    lat.set_title("latency per surface")
    lat.legend(fontsize=7)
    _bars(boot, names, [g["measured"].get("boot_s") or 0 for g in gateways], "proxy boot (s)")
    _bars(size, names, [(g["image"] or {}).get("size_mb", 0) for g in gateways], "proxy image (MB)")
    fig.suptitle(f"bed compare: {title(doc)} ({doc['verdict']})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _ms(latency: dict[str, Any], surface: str, mode: str, key: str) -> float:
    value = latency.get(surface, {}).get(mode, {}).get(key)
    return float(value) if value is not None else 0.0


def _bars(ax: Any, names: Iterable[str], values: list[float], label: str) -> None:
    labels = list(names)
    ax.bar(range(len(labels)), values, color="tab:gray")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax.set_title(label)
