"""`bed down` and `bed gc` on the fake engine: whole runs go, live and foreign runs never."""

from __future__ import annotations

from bed.engine.fake import FakeEngine
from bed.engine.labels import Identity, run_labels
from bed.engine.protocol import ContainerSpec
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
