"""The timed gate runs behind `bed bench` and `bed bench reuse`: phases collected per run, and a run
that is not READY never passes as a measurement."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from bed.bench.core import WALL, invalid, timed_gates
from bed.config.settings import Config
from bed.console import Console
from bed.engine.fake import FakeEngine
from bed.model.results import CheckResult, RunResult, Status
from bed.pipeline.stages.prepare import Inputs


def _gate(verdicts: list[bool]) -> tuple[list[Inputs], Callable[[Inputs], RunResult]]:
    seen: list[Inputs] = []
    ready = iter(verdicts)

    def gate(state: Inputs) -> RunResult:
        seen.append(state)
        ok = next(ready)
        check = CheckResult("all_smokes_nd", "nd", Status.PASSED if ok else Status.FAILED, 1.5, tests=3,
                            failures=0 if ok else 1)
        return RunResult(state.config.run_id, "core", ok, False, (check,), {}, {}, {"stack up": 2.0}, {})
    return seen, gate


def test_each_run_gets_its_own_config_and_every_phase_is_recorded(tmp_path: Path) -> None:
    seen, gate = _gate([True, True, True])
    out = io.StringIO()
    phases, not_ready = timed_gates(lambda: Config.from_env({}, root=tmp_path), {}, FakeEngine(), Console(out=out), 3,
                                    gate)
    assert len({s.config.run_id for s in seen}) == 3  # a fresh run id each time
    assert all(s.gate == "core" for s in seen)
    assert phases["stack up"] == [2.0, 2.0, 2.0]
    assert phases["tier all_smokes_nd"] == [1.5, 1.5, 1.5]
    assert len(phases[WALL]) == 3
    assert not_ready == []
    assert not invalid(not_ready, Console(out=out))
    assert "BENCH INVALID" not in out.getvalue()


def test_a_run_that_is_not_ready_is_named_and_the_bench_is_invalid(tmp_path: Path) -> None:
    _, gate = _gate([True, False, True])
    out = io.StringIO()
    _, not_ready = timed_gates(lambda: Config.from_env({}, root=tmp_path), {}, FakeEngine(), Console(out=out), 3,
                               gate)
    assert len(not_ready) == 1
    assert not_ready[0].startswith("run 2: NOT READY")
    assert invalid(not_ready, Console(out=out))
    assert "BENCH INVALID" in out.getvalue()
