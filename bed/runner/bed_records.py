"""bed's pytest plugin: what was collected, what ran and how it ended, from pytest's own hooks.

Loaded in the runner with ``-p bed_records``; it needs only the standard library, pytest and
``bed_contract`` (the record format and the variables). With ``BED_RECORDS=<file>`` set it
appends one record per line (``bed_contract`` documents the envelope: sid, pid, seq, worker):

    start          the session began: pytest's and Python's versions, the rootdir, the tier
    collected      every item pytest's collectors produced, before any selection, with its tier
                   markers and the markers nobody registered: the census bed accounts against
    collect_error  a file or package that could not be collected (where, and the error)
    collect_skip   a module or package skipped while collecting (``importorskip`` at import), with
                   the tier markers its source names, so a hermetic tier counts it as a skip
    selection      what was selected, and each deselected node id with the reason (options: -k,
                   -m, --deselect; tier; select: a re-run's exact ids; shard)
    test           one phase of one test: outcome, duration, file:line, message; a failure's
                   report and captured output (bounded); the test's user properties
    finish         pytest's exit status, written after every other sessionfinish hook ran, with
                   the error of one that raised

Node ids are pytest's own (bed never rebuilds them from another format). Without a finish record
the session did not finish: bed treats that as a crash, whatever else was written.

It also chooses what runs, after pytest's own -k/-m: a project's own suite runs only the tests
marked for the tier (BED_TIER_MARKER); a re-run runs exactly the node ids listed in BED_SELECT;
a shard keeps its share (BED_SHARD=I/N, balanced by BED_DURATIONS).
"""

from __future__ import annotations

import ast
import gc
import json
import os
import platform
import re
import time
import uuid
from collections.abc import Generator
from typing import Any

import bed_contract as contract  # type: ignore[import-not-found]  # beside this module on PYTHONPATH
import pytest

TIER_MARKERS = contract.TIER_MARKERS
OTHER_MARKERS = contract.OTHER_MARKERS
_SCANNED = 200  # modules of a skipped package read for their tier markers
_FILE_LINE = re.compile(r'File "([^"]+)", line (\d+)|^\s*([^\s:"]+\.py):(\d+)', re.MULTILINE)


class _Recorder:
    def __init__(self, config: pytest.Config, path: str) -> None:
        self.config = config
        self.worker = getattr(config, "workerinput", {}).get("workerid")
        self.out = contract.Writer(path, self.worker)
        self.census: list[dict[str, Any]] = []
        self.registered: set[str] | None = None
        self.deselected: dict[str, str] = {}  # node id -> why
        self.missing: list[str] = []
        self.unmarked: list[str] = []
        self.tier_marked: int | None = None

    @property
    def controller(self) -> bool:
        """The process that sees every test's outcome (not an xdist worker)."""
        return self.worker is None

    def known_markers(self) -> set[str]:
        if self.registered is None:
            lines = self.config.getini("markers")
            self.registered = {re.split(r"[:(]", str(line), maxsplit=1)[0].strip() for line in lines}
        return self.registered


_recorder: _Recorder | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _recorder
    for name, text in {**TIER_MARKERS, **OTHER_MARKERS}.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    path = os.environ.get(contract.RECORDS)
    if path:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        if not hasattr(config, "workerinput"):  # xdist's workers inherit it: one session, one id
            os.environ.setdefault(contract.SESSION, uuid.uuid4().hex[:12])
    _recorder = _Recorder(config, path) if path else None
    if _recorder is not None:
        config.pluginmanager.register(_LateSelection(), "bed_records_late")


def pytest_sessionstart(session: pytest.Session) -> None:
    if _recorder is not None and _recorder.controller:
        _recorder.out.write(contract.START, pytest=pytest.__version__, python=platform.python_version(),
                            rootdir=str(session.config.rootpath), tier=os.environ.get(contract.TIER, ""),
                            args=[str(a) for a in session.config.invocation_params.args], time=time.time())


def pytest_itemcollected(item: pytest.Item) -> None:
    """Every item as the collectors make it, before any hook can reorder or drop it."""
    if _recorder is None:
        return
    names = [m.name for m in item.iter_markers()]
    known = _recorder.known_markers()
    _recorder.census.append({"nodeid": item.nodeid, "tiers": sorted({n for n in names if n in TIER_MARKERS}),
                             "unknown": sorted({n for n in names if n not in known})})


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if _recorder is None or report.passed:
        return
    text = report.longreprtext
    if report.failed:
        _recorder.out.write(contract.COLLECT_ERROR, nodeid=report.nodeid,
                            location=_location_in_text(text, report.nodeid), message=_error_message(text))
        return
    longrepr = report.longrepr
    where, why = (f"{longrepr[0]}:{longrepr[1]}", str(longrepr[2])) if isinstance(longrepr, tuple) else ("", text)
    _recorder.out.write(contract.COLLECT_SKIP, nodeid=report.nodeid, location=_relative(where),
                        message=why.removeprefix("Skipped: ")[: contract.TEXT_LIMIT],
                        tiers=_tiers_named_in(report.nodeid, _recorder.config))


def pytest_deselected(items: list[pytest.Item]) -> None:
    if _recorder is not None:
        for item in items:
            _recorder.deselected.setdefault(item.nodeid, "options")  # bed's own reasons are set first


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Before any selection: which tests carry no tier marker, and how many carry this tier's."""
    if _recorder is None:
        return
    tier = os.environ.get(contract.TIER_MARKER)
    if tier:
        _recorder.unmarked = [i.nodeid for i in items if not any(i.get_closest_marker(m) for m in TIER_MARKERS)]
        _recorder.tier_marked = sum(1 for i in items if i.get_closest_marker(tier))


def _keep(config: pytest.Config, items: list[pytest.Item], wanted: set[str], reason: str) -> None:
    dropped = [i for i in items if i.nodeid not in wanted]
    if dropped:
        assert _recorder is not None
        for item in dropped:
            _recorder.deselected[item.nodeid] = reason
        config.hook.pytest_deselected(items=dropped)
    items[:] = [i for i in items if i.nodeid in wanted]


def _select_tier(config: pytest.Config, items: list[pytest.Item]) -> None:
    tier = os.environ.get(contract.TIER_MARKER)
    if tier:
        _keep(config, items, {i.nodeid for i in items if i.get_closest_marker(tier)}, "tier")


def _select_ids(config: pytest.Config, items: list[pytest.Item]) -> None:
    path = os.environ.get(contract.SELECT)
    if not path:
        return
    with open(path, encoding="utf-8") as handle:
        wanted = set(json.load(handle))
    assert _recorder is not None
    _recorder.missing = sorted(wanted - {i.nodeid for i in items})
    _keep(config, items, wanted, "select")


def _select_shard(config: pytest.Config, items: list[pytest.Item]) -> None:
    spec = os.environ.get(contract.SHARD)
    if not spec:
        return
    import bed_shards  # type: ignore[import-not-found]  # a sibling module on the runner's PYTHONPATH

    index, total = bed_shards.parse(spec)
    durations = json.loads(os.environ.get(contract.DURATIONS) or "{}")
    _keep(config, items, set(bed_shards.partition([i.nodeid for i in items], total, durations)[index - 1]), "shard")


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    # What collection imported (litellm, the SDKs) stays for the session: out of the collector's
    # sight, every gc.collect() pytest makes no longer walks it (a warm runner freezes it too).
    gc.freeze()
    _wait_for_services()
    if _recorder is None:
        return
    rec = _recorder
    rec.out.write(contract.COLLECTED, items=rec.census)
    selected = [i.nodeid for i in session.items]
    by_reason = {why: sorted(n for n, r in rec.deselected.items() if r == why) for why in contract.DESELECTED_BY}
    rec.out.write(contract.SELECTION, collected=len(rec.census), tier_marked=rec.tier_marked,
                  unmarked=rec.unmarked[:200], deselected={k: len(v) for k, v in by_reason.items()},
                  deselected_ids=by_reason, missing=rec.missing, selected=len(selected), selected_ids=selected)


def _wait_for_services() -> None:
    """``BED_WAIT_FOR``: bed started this runner while the services boot; after collection
    (imports done), wait for each URL, within BED_WAIT_BUDGET seconds, before any test runs.
    bed itself waits for them too and ends the run when one never answers."""
    import urllib.error
    import urllib.request

    urls = [u for u in os.environ.get(contract.WAIT_FOR, "").split(",") if u]
    deadline = time.monotonic() + float(os.environ.get(contract.WAIT_BUDGET, "120"))
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
    fields: dict[str, Any] = {
        "nodeid": report.nodeid, "phase": report.when, "outcome": report.outcome,
        "duration": round(report.duration, 4), "location": _test_location(report),
        "message": _report_message(report), "xfail": hasattr(report, "wasxfail"),
    }
    if report.failed:
        fields["longrepr"] = report.longreprtext[-contract.LONG_LIMIT:]
        fields["output"] = {name: text[-contract.LONG_LIMIT:] for name, text in report.sections if text}
    if report.user_properties:
        # what the test says about itself (the agents tier: its matrix cell), as the test gave it
        fields["properties"] = {str(k): v for k, v in report.user_properties}
    _recorder.out.write(contract.TEST, **fields)


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Generator[None, None, None]:
    """The finish record comes after every other sessionfinish hook, also when one raised."""
    try:
        yield
    except BaseException as exc:
        _finish(int(exitstatus), f"a pytest_sessionfinish hook raised {type(exc).__name__}: {exc}")
        raise
    _finish(int(exitstatus), "")


def _finish(exitstatus: int, hook_error: str) -> None:
    if _recorder is not None and _recorder.controller:
        _recorder.out.write(contract.FINISH, exitstatus=exitstatus, hook_error=hook_error[: contract.TEXT_LIMIT],
                            time=time.time())


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


def _tiers_named_in(nodeid: str, config: pytest.Config) -> list[str]:
    """The tier markers a skipped module's source names (``pytest.mark.deterministic``), or, for a
    package skipped in its conftest, its modules' sources: what never became items can only be
    read from its text."""
    path = config.rootpath / nodeid.split("::")[0]
    if path.is_dir():
        sources = sorted(path.rglob("*.py"))[:_SCANNED]
    elif path.name == "conftest.py":
        sources = sorted(path.parent.rglob("*.py"))[:_SCANNED]
    else:
        sources = [path] if path.suffix == ".py" else []
    found: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source.read_bytes())
        except (OSError, SyntaxError, ValueError):
            continue
        found |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)} & set(TIER_MARKERS)
    return sorted(found)


def _relative(where: str) -> str:
    root = str(_recorder.config.rootpath) + os.sep if _recorder is not None else ""
    return where.removeprefix(root)


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
        return str(longrepr[2]).removeprefix("Skipped: ")[: contract.TEXT_LIMIT]
    crash: Any = getattr(longrepr, "reprcrash", None)
    message = str(getattr(crash, "message", "") or "")
    if message:
        return " | ".join(ln.strip() for ln in message.splitlines() if ln.strip())[: contract.TEXT_LIMIT]
    return _error_message(report.longreprtext)


def _error_message(text: str) -> str:
    """The error's own lines (pytest marks them with "E"), else the last lines."""
    errors = [ln[1:].strip() for ln in text.splitlines() if ln.startswith("E ")]
    lines = errors or [ln.strip() for ln in text.splitlines() if ln.strip()][-3:]
    return " | ".join(lines[-4:])[: contract.TEXT_LIMIT]


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
