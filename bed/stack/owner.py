"""The owner of one run's network and containers, and the one place they are torn down.

Every container the run starts goes through ``Stack.start``: it gets the run's labels (run id,
role, the creating process's identity), a unique name, and is owned before the engine makes it.
``close()`` removes everything the stack created, whatever happened before, and then sweeps by
the run's label for anything a start left half-made.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import threading
from collections.abc import Mapping

from .. import signals
from ..console import Console
from ..engine.labels import RUN, Identity, here, run_labels
from ..engine.protocol import ContainerSpec, Engine, State
from ..errors import StackError

START_SETTLE_S = 15.0  # the longest close() waits for a container start already in flight


@dataclasses.dataclass
class Service:
    """A started container: what a wait or a watch needs of it."""

    name: str
    role: str
    id: str
    engine: Engine
    ready_s: float = 0.0

    def state(self) -> State:
        return self.engine.state(self.id)

    def log_tail(self, lines: int, since: float | None = None) -> str:
        return self.engine.logs(self.id, lines, since)


class Stack:
    """Owns every resource of one run. Use as a context manager; ``close()`` is idempotent."""

    def __init__(self, engine: Engine, run_id: str, console: Console, *, keep: bool = False,
                 identity: Identity | None = None) -> None:
        self.engine = engine
        self.run_id = run_id
        self.console = console
        self.keep = keep
        self.identity = identity or here()
        self.services: dict[str, Service] = {}
        self.network: str | None = None
        self._owned: list[str] = []  # container names, owned before they exist
        self._names: dict[str, int] = {}
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._starting = 0  # starts in flight; close() lets them land before it sweeps
        self.closing = threading.Event()  # set once by close(): ends every wait, refuses new starts

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.keep:
            self.close()

    @property
    def network_name(self) -> str:
        return f"bed-{self.run_id}"

    def labels(self, role: str) -> dict[str, str]:
        return run_labels(self.run_id, role, keep=self.keep, identity=self.identity)

    def create_network(self) -> str:
        self.engine.create_network(self.network_name, self.labels("network"))
        self.network = self.network_name
        return self.network

    def start(self, name: str, role: str, spec: ContainerSpec) -> Service:
        """Start one container of this run, under a unique name, labelled and owned."""
        full = self._unique(f"bed-{self.run_id}-{name}")
        labels: Mapping[str, str] = {**self.labels(role), **spec.labels}
        spec = dataclasses.replace(spec, name=full, labels=labels)
        self.console.step(f"starting {full} ({spec.image})")
        # Atomic under SIGINT/SIGTERM: a container is either owned (and so removed by close())
        # or never made; a signal that comes meanwhile is raised when the start is done.
        with signals.shielded():
            with self._lock:
                if self.closing.is_set():
                    raise StackError("the run is shutting down; not starting more containers.")
                self._owned.append(full)
                self._starting += 1
            try:
                ref = self.engine.run(spec)
            finally:
                with self._lock:
                    self._starting -= 1
                    self._settled.notify_all()
        return Service(full, role, ref, self.engine)

    def _unique(self, name: str) -> str:
        """``name``, or ``name-2``, ``name-3``... when this run already used it (a re-run)."""
        with self._lock:
            count = self._names.get(name, 0) + 1
            self._names[name] = count
        return name if count == 1 else f"{name}-{count}"

    def close(self) -> None:
        """Remove every container and the network of this run.

        Shielded from SIGINT/SIGTERM, and it also sweeps by the run's label, so a container
        whose start was interrupted half-way (created, never handed back) goes too.
        """
        if self.closing.is_set():  # closed already (an explicit close, then the with-block's exit)
            return
        self.closing.set()
        with signals.shielded():
            with self._lock:
                # A start in flight (another thread) lands first, so the sweep below sees it.
                self._settled.wait_for(lambda: self._starting == 0, timeout=START_SETTLE_S)
                owned, self._owned = self._owned, []
            labelled = [c.id for c in self.engine.containers({RUN: self.run_id})]
            doomed = list(dict.fromkeys([*owned, *labelled]))
            with concurrent.futures.ThreadPoolExecutor(max_workers=max(len(doomed), 1)) as pool:
                list(pool.map(self.engine.remove, doomed))
            for network in self.engine.networks({RUN: self.run_id}):
                if not self.engine.remove_network(network.name):
                    self.console.step(f"could not remove network {network.name}; `bed gc` will")
            self.network = None
