"""bed's pytest plugin: what ran and how it ended, straight from pytest's own hooks.

Loaded in the runner with ``-p bed_records``; it needs only the standard library and pytest.
With ``BED_RECORDS=<file>`` set, it appends one JSON object per line:

    {"kind": "start", "pytest": "9.2.0", "rootdir": "/bed/tiers", "tier": "nd"}
    {"kind": "collect_error", "nodeid": "pkg/test_x.py", "location": "pkg/test_x.py:3", "message": "..."}
    {"kind": "selection", "worker": null, "collected": 12, "tier_marked": null, "unmarked": [...],
     "deselected": {"options": 0, "tier": 0, "select": 0, "shard": 6}, "missing": [], "selected": 6}
    {"kind": "test", "nodeid": "...", "phase": "call", "outcome": "failed", "duration": 0.01,
     "location": "nd/test_a.py:12", "message": "AssertionError: ...", "xfail": false,
     "properties": {"agent": "codex", ...}}      (the test's user properties, when it has any)
    {"kind": "finish", "exitstatus": 1}

Node ids are pytest's own (bed never rebuilds them from another format). Without the last
record the session did not finish: bed treats that as a crash, whatever else was written.

It also chooses what runs, in this order: a project's own suite runs only the tests marked
for the tier (``BED_TIER_MARKER``); a re-run runs exactly the node ids listed in the JSON file
``BED_SELECT``; a shard keeps its part (``BED_SHARD=I/N``, balanced by ``BED_DURATIONS``).
"""

from __future__ import annotations

import gc
import json
import os
import platform
import re
import time
from typing import Any

import pytest

TIER_MARKERS = {
    "deterministic": "a hermetic readiness test: no network, no skips (bed's deterministic tier)",
    "nd": "a readiness test through the proxy and the shim (bed's ND tier)",
    "release": "a live-provider readiness test, opt-in with LIVE_PROVIDERS=1 (bed's release tier)",
    "agents": "a readiness test that drives a real agent client through the gateway (bed's agent tier)",
}
OTHER_MARKERS = {
    "needs_shim": "talks to the mini-agent shim on the bed network",
    "needs_proxy": "talks to the LiteLLM proxy on the bed network",
    "needs_bed_shim": "needs the bed shim's faults, scripts or journal (skipped loudly against your own agent)",
}
_FILE_LINE = re.compile(r'File "([^"]+)", line (\d+)|^\s*([^\s:"]+\.py):(\d+)', re.MULTILINE)


class _Recorder:
    def __init__(self, config: pytest.Config, path: str) -> None:
        self.config = config
        self.path = path
        self.worker = getattr(config, "workerinput", {}).get("workerid")
        self.collected = 0
        self.unmarked: list[str] = []
        self.tier_marked: int | None = None
        self.deselected_total = 0
        self.ours = {"tier": 0, "select": 0, "shard": 0}
        self.missing: list[str] = []

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, default=str) + "\n"
        # One append per record, flushed at once: a runner killed mid-session keeps what it wrote.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8", "replace"))
        finally:
            os.close(fd)

    @property
    def controller(self) -> bool:
        """The process that sees every test's outcome (not an xdist worker)."""
        return self.worker is None


_recorder: _Recorder | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _recorder
    for name, text in {**TIER_MARKERS, **OTHER_MARKERS}.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    path = os.environ.get("BED_RECORDS")
    if path:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    _recorder = _Recorder(config, path) if path else None
    if _recorder is not None:
        config.pluginmanager.register(_LateSelection(), "bed_records_late")


def pytest_sessionstart(session: pytest.Session) -> None:
    if _recorder is not None and _recorder.controller:
        _recorder.write({"kind": "start", "pytest": pytest.__version__, "python": platform.python_version(),
                         "rootdir": str(session.config.rootpath), "tier": os.environ.get("BED_TIER", ""),
                         "time": time.time()})


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if _recorder is None or not report.failed or not _recorder.controller:
        return
    text = report.longreprtext
    _recorder.write({"kind": "collect_error", "nodeid": report.nodeid,
                     "location": _location_in_text(text, report.nodeid), "message": _error_message(text)})


def pytest_deselected(items: list[pytest.Item]) -> None:
    if _recorder is not None:
        _recorder.deselected_total += len(items)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Before any selection: how many were collected, and which carry no tier marker."""
    if _recorder is None:
        return
    _recorder.collected = len(items)
    tier = os.environ.get("BED_TIER_MARKER")
    if tier:
        _recorder.unmarked = [i.nodeid for i in items if not any(i.get_closest_marker(m) for m in TIER_MARKERS)]
        _recorder.tier_marked = sum(1 for i in items if i.get_closest_marker(tier))


def _keep(config: pytest.Config, items: list[pytest.Item], wanted: set[str], reason: str) -> None:
    dropped = [i for i in items if i.nodeid not in wanted]
    if dropped:
        assert _recorder is not None
        _recorder.ours[reason] += len(dropped)
        config.hook.pytest_deselected(items=dropped)
    items[:] = [i for i in items if i.nodeid in wanted]


def _select_tier(config: pytest.Config, items: list[pytest.Item]) -> None:
    tier = os.environ.get("BED_TIER_MARKER")
    if tier:
        _keep(config, items, {i.nodeid for i in items if i.get_closest_marker(tier)}, "tier")


def _select_ids(config: pytest.Config, items: list[pytest.Item]) -> None:
    path = os.environ.get("BED_SELECT")
    if not path:
        return
    with open(path, encoding="utf-8") as handle:
        wanted = set(json.load(handle))
    assert _recorder is not None
    _recorder.missing = sorted(wanted - {i.nodeid for i in items})
    _keep(config, items, wanted, "select")


def _select_shard(config: pytest.Config, items: list[pytest.Item]) -> None:
    spec = os.environ.get("BED_SHARD")
    if not spec:
        return
    import bed_shards  # type: ignore[import-not-found]  # a sibling module on the runner's PYTHONPATH

    index, total = bed_shards.parse(spec)
    durations = json.loads(os.environ.get("BED_DURATIONS") or "{}")
    _keep(config, items, set(bed_shards.partition([i.nodeid for i in items], total, durations)[index - 1]), "shard")


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    # What collection imported (litellm, the SDKs) stays for the session: out of the collector's
    # sight, every gc.collect() pytest makes no longer walks it (a warm runner freezes it too).
    gc.freeze()
    _wait_for_services()
    if _recorder is None:
        return
    _recorder.write({
        "kind": "selection", "worker": _recorder.worker, "collected": _recorder.collected,
        "tier_marked": _recorder.tier_marked, "unmarked": _recorder.unmarked[:200],
        "deselected": {"options": _recorder.deselected_total - sum(_recorder.ours.values()), **_recorder.ours},
        "missing": _recorder.missing, "selected": len(session.items),
    })


def _wait_for_services() -> None:
    """``BED_WAIT_FOR``: bed started this runner while the services boot; after collection
    (imports done), wait for each URL, within BED_WAIT_BUDGET seconds, before any test runs.
    bed itself waits for them too and ends the run when one never answers."""
    import urllib.error
    import urllib.request

    urls = [u for u in os.environ.get("BED_WAIT_FOR", "").split(",") if u]
    deadline = time.monotonic() + float(os.environ.get("BED_WAIT_BUDGET", "120"))
    for url in urls:
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - a bed network URL
                    if 200 <= response.status < 300:
                        break
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _recorder is None or not _recorder.controller:
        return
    record = {
        "kind": "test", "nodeid": report.nodeid, "phase": report.when, "outcome": report.outcome,
        "duration": round(report.duration, 4), "location": _test_location(report),
        "message": _report_message(report), "xfail": hasattr(report, "wasxfail"),
    }
    if report.user_properties:  # what the test says about itself (the agent tier: its matrix cell)
        record["properties"] = {str(k): v for k, v in report.user_properties}
    _recorder.write(record)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _recorder is not None and _recorder.controller:
        _recorder.write({"kind": "finish", "exitstatus": int(exitstatus), "time": time.time()})


# A plugin has one implementation per hook; the selection that must come after pytest's own
# -k/-m deselection (while the counting above comes before it) is a second, small plugin.
class _LateSelection:
    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if _recorder is None:
            return
        _select_tier(config, items)
        _select_ids(config, items)
        _select_shard(config, items)


def _test_location(report: pytest.TestReport) -> str:
    """file:line of the failing line in the test's own file (not deep inside a library)."""
    file, line, _ = report.location
    if report.failed:
        traceback = getattr(report.longrepr, "reprtraceback", None)
        entries = getattr(traceback, "reprentries", None) or []
        places = [(e.reprfileloc.path, e.reprfileloc.lineno) for e in entries if getattr(e, "reprfileloc", None)]
        own = [p for p in places if _same_file(str(p[0]), file)]
        if own:
            return f"{file}:{own[-1][1]}"
    return f"{file}:{(line or 0) + 1}"


def _report_message(report: pytest.TestReport) -> str:
    if report.passed:
        return ""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        return str(longrepr[2]).removeprefix("Skipped: ")[:500]
    crash: Any = getattr(longrepr, "reprcrash", None)
    message = str(getattr(crash, "message", "") or "")
    if message:
        return " | ".join(ln.strip() for ln in message.splitlines() if ln.strip())[:500]
    return _error_message(report.longreprtext)


def _error_message(text: str) -> str:
    """The error's own lines (pytest marks them with "E"), else the last lines."""
    errors = [ln[1:].strip() for ln in text.splitlines() if ln.startswith("E ")]
    lines = errors or [ln.strip() for ln in text.splitlines() if ln.strip()][-3:]
    return " | ".join(lines[-4:])[:500]


def _location_in_text(text: str, nodeid: str) -> str:
    """Where in the named file an error points ("pkg/test_x.py:3"), not inside ast.py or importlib."""
    file = nodeid.split("::")[0]
    places = []
    for match in _FILE_LINE.finditer(text):
        path, line = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        places.append((path, line))
    own = [line for path, line in places if _same_file(path, file)]
    if own:
        return f"{file}:{own[-1]}"
    return file


def _same_file(path: str, file: str) -> bool:
    path, file = path.replace("\\", "/"), file.replace("\\", "/")
    return bool(file) and (path == file or path.endswith("/" + file))

