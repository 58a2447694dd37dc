"""Per deployment of the router config: how it ran against its provider's twin (the ND tier) and
how it ran live (the release tier), from the checks' own test outcomes.

A twin smoke's test ids are ``[<group>#<index>-<provider>-<surface>]``, a live smoke's
``[<group>-<surface>]``; a deployment's outcome on a side is ``failed`` when any of its tests
failed, ``passed`` when all passed, ``skipped`` when all skipped (with the first reason), and
``not run`` when no test of it ran (its tier was not in the run).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..model.results import CheckResult


def table(twins: Iterable[Mapping[str, Any]], live: Iterable[Mapping[str, Any]],
          checks: Sequence[CheckResult]) -> tuple[dict[str, Any], ...]:
    """One row per twin smoke (and per live smoke of a group with none), in config order."""
    outcomes = {n: o for c in checks for n, o in c.outcomes.items()}
    live_by_group = {str(s["group"]): s for s in live}
    rows = []
    for smoke in twins:
        group = str(smoke["group"])
        twin = _side(outcomes, f"[{group}#{smoke['index']}-", "test_provider_twins", smoke.get("skip", ""))
        release = live_by_group.pop(group, None) if smoke["index"] == 0 else None
        rows.append({"group": group, "index": smoke["index"], "provider": smoke["provider"], "model": smoke["model"],
                     "twin": twin, "live": _live(outcomes, release)})
    for group, smoke in live_by_group.items():
        rows.append({"group": group, "index": 0, "provider": smoke["provider"], "model": smoke["model"],
                     "twin": "not run", "live": _live(outcomes, smoke)})
    return tuple(rows)


def _live(outcomes: Mapping[str, str], smoke: Mapping[str, Any] | None) -> str:
    if smoke is None:
        return "not run"
    return _side(outcomes, f"[{smoke['group']}-", "test_live_providers", smoke.get("skip", ""))


def _side(outcomes: Mapping[str, str], ident: str, module: str, skip: str) -> str:
    mine = [o for n, o in outcomes.items() if module in n and ident in n]
    if not mine:
        return "not run"
    if any(o in ("failed", "error") for o in mine):
        return "failed"
    if all(o == "skipped" for o in mine):
        return f"skipped: {skip}" if skip else "skipped"
    return "passed" if all(o in ("passed", "flaky") for o in mine) else "/".join(sorted(set(mine)))


def markdown(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The section of PROJECT_READY.md: each deployment, against its twin and live."""
    if not rows:
        return []
    out = ["", "## Deployments (against the provider's twin, and live)", "",
           "| deployment | provider | model | against its twin | live |", "|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['group']}#{r['index']} | {r['provider']} | `{r['model']}` | {r['twin']} | "
                   f"{r['live']} |".replace("\n", " "))
    return out
