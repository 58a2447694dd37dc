"""Small builders shared by the unit tests: records as bed's plugin writes them, and a fake stack."""

from __future__ import annotations

import json
from typing import Any

from bed.engine.fake import FakeEngine, Program
from bed.engine.protocol import ContainerSpec
from bed.images.specs import SPECS
from bed.pipeline import tiers


def raw_records(*tests: tuple[str, str], exitstatus: int | None = 0, start: bool = True,
                selection: dict[str, Any] | None = None, collect_errors: tuple[str, ...] = (),
                extra: str = "", properties: dict[str, dict[str, Any]] | None = None) -> bytes:
    """Records as bed's plugin writes them: (nodeid, outcome) per test; ``properties``: a test's
    user properties (on its last phase, as pytest has them by then)."""
    lines: list[dict[str, Any]] = [{"kind": "start", "python": "3.11.2"}] if start else []
    for path in collect_errors:
        lines.append({"kind": "collect_error", "nodeid": path, "location": f"{path}:3", "message": "SyntaxError"})
    if selection is not None:
        lines.append({"kind": "selection", **selection})
    for nodeid, outcome in tests:
        phases = _phases(nodeid, outcome)
        if properties and nodeid in properties:
            phases[-1]["properties"] = properties[nodeid]
        lines += phases
    if exitstatus is not None:
        lines.append({"kind": "finish", "exitstatus": exitstatus})
    return ("\n".join(json.dumps(x) for x in lines) + "\n" + extra).encode()


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
                   files={tiers.COLD.records: raw_records(*tests, exitstatus=status, **kwargs)})


def selected(spec: ContainerSpec) -> list[str]:
    """The node ids a runner was asked to re-run (its select file), or [] for a whole tier."""
    files = dict(spec.files)
    return json.loads(files[tiers.COLD.select]) if tiers.COLD.select in files else []


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
