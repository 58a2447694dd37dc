"""Small builders shared by the unit tests: records as bed's plugin writes them, and a fake stack."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bed.engine.fake import FakeEngine, Program
from bed.engine.protocol import ContainerSpec
from bed.images.specs import SPECS
from bed.tiers.command import COLD


def raw_records(*tests: tuple[str, str], exitstatus: int | None = 0, start: bool = True,
                selection: dict[str, Any] | None = None, collect_errors: tuple[str, ...] = (),
                extra: str = "", census: list[str] | None = None, sid: str = "s1", pid: int = 100,
                properties: dict[str, dict[str, Any]] | None = None) -> bytes:
    """Records as bed's plugin writes them: (nodeid, outcome) per test. ``census``: the collected
    node ids (default: the tests given); [] for none. ``properties``: a test's user properties (on
    its last phase, as pytest has them by then)."""
    lines: list[dict[str, Any]] = [{"kind": "start", "python": "3.11.2"}] if start else []
    for path in collect_errors:
        lines.append({"kind": "collect_error", "nodeid": path, "location": f"{path}:3", "message": "SyntaxError"})
    if not collect_errors:
        ids = [n for n, _ in tests] if census is None else census
        lines.append({"kind": "collected", "items": [{"nodeid": n, "tiers": [], "unknown": []} for n in ids]})
    if selection is not None:
        lines.append({"kind": "selection", **selection})
    for nodeid, outcome in tests:
        phases = _phases(nodeid, outcome)
        if properties and nodeid in properties:
            phases[-1]["properties"] = properties[nodeid]
        lines += phases
    if exitstatus is not None:
        lines.append({"kind": "finish", "exitstatus": exitstatus})
    return ("".join(json.dumps(x) + "\n" for x in envelope(lines, sid, pid)) + extra).encode()


def session_records(env: Mapping[str, str], every: Sequence[str], *tests: tuple[str, str],
                    exitstatus: int | None = 0) -> bytes:
    """What one session (BED_SESSION) of a tier writes when it collected ``every`` test and ran
    ``tests``, the rest being another part's share (BED_SHARD)."""
    ran = [n for n, _ in tests]
    others = [n for n in every if n not in ran]
    selection = {"collected": len(every), "selected": len(ran), "selected_ids": ran,
                 "deselected": {"shard": len(others)}, "deselected_ids": {"shard": others}}
    return raw_records(*tests, exitstatus=exitstatus, census=list(every), selection=selection,
                       sid=env.get("BED_SESSION", "s1"))


def envelope(records: list[dict[str, Any]], sid: str = "s1", pid: int = 100, worker: str | None = None,
             first: int = 1) -> list[dict[str, Any]]:
    """The fields bed's plugin adds to every record: session, process, sequence number."""
    return [{**r, "sid": sid, "pid": pid, "seq": i, "worker": worker} for i, r in enumerate(records, first)]


def _phases(nodeid: str, outcome: str) -> list[dict[str, Any]]:
    plan = {"passed": [("setup", "passed"), ("call", "passed"), ("teardown", "passed")],
            "failed": [("setup", "passed"), ("call", "failed"), ("teardown", "passed")],
            "error": [("setup", "failed"), ("teardown", "passed")],
            "skipped": [("setup", "skipped"), ("teardown", "passed")],
            "incomplete": [("setup", "passed")]}[outcome]
    return [{"kind": "test", "nodeid": nodeid, "phase": phase, "outcome": result, "duration": 0.1,
             "location": nodeid.split("::")[0] + ":7", "message": "why" if result != "passed" else ""}
            for phase, result in plan]


def tier_program(*tests: tuple[str, str], exit_code: int | None = None, **kwargs: Any) -> Program:
    """A runner that leaves these records behind and exits like pytest would."""
    failed = any(o in ("failed", "error") for _, o in tests)
    code = exit_code if exit_code is not None else (1 if failed else 0)
    status = kwargs.pop("exitstatus", code)
    return Program(exit_code=code, output="\n".join(f"{n} {o.upper()}" for n, o in tests),
                   files={COLD.records: raw_records(*tests, exitstatus=status, **kwargs)})


def selected(spec: ContainerSpec) -> list[str]:
    """The node ids a runner was asked to re-run (its select file), or [] for a whole tier."""
    files = dict(spec.files)
    return json.loads(files[COLD.select]) if COLD.select in files else []


def engine_with_images() -> FakeEngine:
    """A fake engine that already has every bed image, so no test builds anything."""
    engine = FakeEngine(images=("bed-base:bookworm-lean",))
    return engine


def all_image_tags() -> tuple[str, ...]:
    return tuple(f"{spec.repository}:current" for spec in SPECS)


def bed_cli(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    """``bed ARGV`` in this process (with whatever engine the test patched in): its exit code and
    what its console printed."""
    import io

    import bed.cli as cli
    from bed.console import Console

    out = io.StringIO()
    original = cli.Console
    cli.Console = lambda redact=None: Console(out=out, redact=redact)  # type: ignore[assignment,misc]
    try:
        code = cli.main(argv, env or {})
    finally:
        cli.Console = original  # type: ignore[misc]
    return code, out.getvalue()
