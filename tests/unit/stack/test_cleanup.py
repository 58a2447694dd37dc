"""`bed down` and `bed gc` on the fake engine: whole runs go, live and foreign runs never."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from bed.engine.fake import FakeEngine
from bed.engine.labels import Identity, run_labels
from bed.engine.protocol import ContainerInfo, ContainerSpec
from bed.stack import cleanup
from bed.stack.cleanup import collect, down, kept_runs

HERE = Identity("m1", "pid:[1]", 100, "5000")
LIVE = {100: "5000"}


def _run(engine: FakeEngine, run_id: str, identity: Identity, *, keep: bool = False) -> None:
    for role in ("shim", "proxy"):
        engine.run(ContainerSpec(name=f"bed-{run_id}-{role}", image="img",
                                 labels=run_labels(run_id, role, keep=keep, identity=identity)))
    engine.create_network(f"bed-{run_id}", run_labels(run_id, "network", keep=keep, identity=identity))


def test_gc_sweeps_dead_runs_only() -> None:
    engine = FakeEngine(images=("img",))
    _run(engine, "live0001", HERE)
    _run(engine, "dead0001", Identity("m1", "pid:[1]", 200, "7000"))
    _run(engine, "ci-job01", Identity("m1", "pid:[9]", 200, "7000"))  # another PID namespace
    _run(engine, "other-m1", Identity("m2", "pid:[1]", 200, "7000"))  # another machine
    _run(engine, "kept0001", Identity("m1", "pid:[1]", 300, "8000"), keep=True)
    removed = collect(engine, kept_too=False, identity=HERE, started_of=LIVE.get)
    assert removed == {"containers": 2, "networks": 1}
    left = {name.split("-")[1] for name in engine.containers_named()}
    assert left == {"live0001", "ci", "other", "kept0001"}
    assert collect(engine, kept_too=True, identity=HERE, started_of=LIVE.get)["containers"] == 2
    assert "bed-kept0001" not in engine.network_labels


def test_down_removes_one_run_and_kept_runs_names_every_kept_stack() -> None:
    engine = FakeEngine(images=("img",))
    _run(engine, "kept0001", HERE, keep=True)
    _run(engine, "kept0002", HERE, keep=True)
    _run(engine, "live0001", HERE)
    assert kept_runs(engine) == ["kept0001", "kept0002"]
    assert down(engine, "kept0001") == {"containers": 2, "networks": 1}
    assert kept_runs(engine) == ["kept0002"]
    assert down(engine, "live0001") == {"containers": 2, "networks": 1}
    assert {name.split("-")[1] for name in engine.containers_named()} == {"kept0002"}


def test_a_container_the_engine_creates_late_is_swept_on_a_later_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    # a killed run's last create request can complete after the first sweep: the sweep repeats
    # (SWEEP_PAUSE_S apart) until a pass finds nothing, at most SWEEPS passes.
    monkeypatch.setattr(cleanup, "SWEEP_PAUSE_S", 0.01)
    engine = FakeEngine(images=("img",))
    _run(engine, "dead0001", HERE)
    lists: list[int] = []
    listed = engine.containers

    def containers(labels: Mapping[str, str]) -> list[ContainerInfo]:
        lists.append(1)
        if len(lists) == 2:  # between the first pass and the second, one more appears
            engine.run(ContainerSpec(name="bed-dead0001-late", image="img",
                                     labels=run_labels("dead0001", "runner", keep=False, identity=HERE)))
        return listed(labels)

    monkeypatch.setattr(engine, "containers", containers)
    assert down(engine, "dead0001") == {"containers": 3, "networks": 1}
    assert len(lists) == 3  # the third pass found nothing and ended it
    assert engine.containers_named() == []
    monkeypatch.setattr(engine, "remove", lambda ref: True)  # an engine that never lets go
    lists.clear()
    _run(engine, "dead0002", HERE)
    down(engine, "dead0002")
    assert len(lists) == cleanup.SWEEPS
