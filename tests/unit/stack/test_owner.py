"""The stack owner: everything it started goes, on every way out, also when a signal arrives mid-start."""

from __future__ import annotations

import io
import os
import signal
import threading
import time

import pytest

from bed import signals
from bed.console import Console
from bed.engine.fake import FakeEngine
from bed.engine.labels import RUN
from bed.engine.protocol import ContainerSpec
from bed.errors import Interrupted, StackError
from bed.stack.owner import Stack


def _spec() -> ContainerSpec:
    return ContainerSpec(name="", image="img", labels={})


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine(images=("img",))


def test_close_removes_what_it_started_and_what_carries_its_label(engine: FakeEngine) -> None:
    with Stack(engine, "run00001", Console(out=io.StringIO())) as stack:
        stack.create_network()
        first = stack.start("a", "x", _spec())
        stack.start("a", "x", _spec())  # a second start of the same name gets a unique name
        engine.run(ContainerSpec(name="stray", image="img", labels={RUN: "run00001"}))  # created, never handed back
        names = sorted(engine.containers_named())
        assert names == ["bed-run00001-a", "bed-run00001-a-2", "stray"]
        assert engine.table[first.id].spec.labels["bed.role"] == "x"
    assert engine.table == {}
    assert engine.network_labels == {}


def test_a_kept_stack_stays_and_carries_the_keep_label(engine: FakeEngine) -> None:
    with Stack(engine, "run00002", Console(out=io.StringIO()), keep=True) as stack:
        service = stack.start("a", "x", _spec())
    assert engine.table[service.id].spec.labels["bed.keep"] == "1"


def test_no_start_after_close(engine: FakeEngine) -> None:
    stack = Stack(engine, "run00003", Console(out=io.StringIO()))
    stack.close()
    with pytest.raises(StackError, match="shutting down"):
        stack.start("a", "x", _spec())


def test_a_signal_during_a_start_in_a_worker_thread_waits_for_the_start(engine: FakeEngine) -> None:
    # Python runs signal handlers on the main thread; a start in a worker thread must still be
    # atomic: the container is owned, and the signal is raised in the main thread afterwards.
    stack = Stack(engine, "run00004", Console(out=io.StringIO()))
    started = threading.Event()
    release = threading.Event()

    def slow_start() -> None:
        with signals.shielded():
            started.set()
            release.wait(5)
            stack.start("slow", "x", _spec())

    with signals.interruptible():
        worker = threading.Thread(target=slow_start)
        worker.start()
        started.wait(5)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)  # the handler ran: the signal is held, not raised
        release.set()
        with pytest.raises(Interrupted) as caught:  # noqa: PT012 - it arrives while the worker ends
            worker.join(5)
            time.sleep(1)  # re-delivered to this (main) thread when the worker's shield ends
        assert caught.value.signum == signal.SIGINT
    assert engine.containers_named() == ["bed-run00004-slow"]  # it was made, so it is owned ...
    stack.close()
    assert engine.table == {}  # ... and removed
