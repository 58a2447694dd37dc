"""The stack: the run's network and containers, and the one owner that tears them down.

Containers start through testcontainers (Ryuk disabled: it cannot be pulled here, so bed
cleans up by label itself). Each gets the run's labels, an init process, memory and pid
limits, and ports published on 127.0.0.1 only. ``close()`` removes everything the stack
created, whatever happened before; `bed down` and `bed gc` find leftovers by label.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import functools
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.exceptions import ContainerStartException
from testcontainers.core.network import Network

from . import _signals, _wait
from ._config import Config
from ._console import Console
from ._engine import LABEL_RUN, labels
from ._errors import PortInUseError, StackError
from ._images import ImageRef
from ._router import fallback_group
from ._services import LIMITS, PROXY, ROUTER_PATH, SHIM, ServiceSpec

START_SETTLE_S = 15.0  # the longest close() waits for a container start already in flight


class _Container(DockerContainer):
    """A testcontainers container that publishes its ports on loopback only."""

    def _configure(self) -> None:
        # testcontainers publishes on every interface; tests must only ever talk to loopback.
        # docker-py takes (address, port) for a binding; testcontainers' annotation is narrower.
        self.ports = {port: ("127.0.0.1", host) for port, host in self.ports.items()}  # type: ignore[misc]


@dataclasses.dataclass
class Service:
    """A started container: the wait's view of it (state, log tail) and its published ports."""

    name: str
    role: str
    container: DockerContainer
    ready_s: float = 0.0

    @property
    def raw(self) -> docker.models.containers.Container:
        return self.container.get_wrapped_container()

    def created(self) -> docker.models.containers.Container | None:
        """The engine's container, or None when its start never got that far."""
        try:
            return self.container.get_wrapped_container()
        except ContainerStartException:
            return None

    def state(self) -> dict[str, object]:
        try:
            self.raw.reload()
        except docker.errors.NotFound:
            return {"Status": "removed"}
        return dict(self.raw.attrs.get("State", {}))

    def log_tail(self, lines: int) -> str:
        try:
            return str(self.raw.logs(tail=lines).decode("utf-8", "replace")).rstrip()
        except (docker.errors.APIError, requests.RequestException):
            return "(no logs: the container is gone)"

    def host_port(self, port: int) -> int:
        self.raw.reload()
        bindings = self.raw.attrs["NetworkSettings"]["Ports"].get(f"{port}/tcp") or []
        if not bindings:
            raise StackError(f"{self.name} has no published port for {port}.",
                             hint="this is a bug in bed; please report it with the run's log.")
        return int(bindings[0]["HostPort"])

    def url(self, port: int, path: str = "") -> str:
        return f"http://127.0.0.1:{self.host_port(port)}{path}"


class Stack:
    """Owns every resource of one run. Use as a context manager; ``close()`` is idempotent."""

    def __init__(self, client: docker.DockerClient, config: Config, images: dict[str, ImageRef],
                 console: Console, master_key: str) -> None:
        self.client = client
        self.config = config
        self.images = images
        self.console = console
        self.master_key = master_key
        self.services: dict[str, Service] = {}
        self._network: Network | None = None
        self._owned: list[Service] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()  # set once by close(): ends every wait, refuses new starts
        self._names: dict[str, int] = {}
        self._starting = 0  # starts in flight; close() lets them land before it sweeps
        self._settled = threading.Condition(self._lock)
        testcontainers_config.ryuk_disabled = True  # set per run, not at import: see module docstring

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.config.keep:
            self.close()

    @property
    def network_name(self) -> str:
        return f"bed-{self.config.run_id}"

    def _labels(self, role: str) -> dict[str, str]:
        return {**labels(self.config.run_id, keep=self.config.keep), "bed.role": role, "bed.pid": str(os.getpid())}

    def create_network(self) -> None:
        network = Network(docker_network_kw={"labels": self._labels("network"), "driver": "bridge"})
        network.name = self.network_name  # a readable, per-run name instead of a bare uuid
        try:
            network.create()
        except docker.errors.APIError as exc:
            raise StackError(f"cannot create network {self.network_name}: {exc.explanation}.",
                             hint="`bed gc` removes networks left by killed runs; docker has a network limit.") from exc
        self._network = network

    def start_services(self, router_yaml: str) -> None:
        """Start the shim and the proxy concurrently and wait until both are healthy."""
        self._check_port_free()
        jobs: dict[str, Callable[[], Service]] = {
            "shim": self._start_shim,
            "proxy": functools.partial(self._start_proxy, router_yaml),
        }
        # Not a `with` block: on SIGINT the main thread must not wait for the waits to finish;
        # close() sets the cancel event and they end within one poll.
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs))
        try:
            futures = {name: pool.submit(job) for name, job in jobs.items()}
            errors = []
            for name, future in futures.items():
                try:
                    self.services[name] = future.result()
                except StackError as exc:
                    errors.append(exc)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        if errors:
            raise errors[0]

    def _start_shim(self) -> Service:
        env = {"MINI_AGENT_MODELS": f"{self.config.group},{fallback_group(self.config.group)}"}
        return self._start_service(SHIM, env, host_port=self.config.bases.host_port)

    def _start_proxy(self, router_yaml: str) -> Service:
        env = {"LITELLM_MASTER_KEY": self.master_key}
        return self._start_service(PROXY, env, files=[(router_yaml.encode(), ROUTER_PATH)])

    def _start_service(self, spec: ServiceSpec, env: dict[str, str], *, host_port: int | None = None,
                       files: list[tuple[bytes, str]] | None = None) -> Service:
        service = self.start(spec.alias, spec.key, self.images[spec.image].tag, env={**dict(spec.env), **env},
                              ports={spec.port: host_port}, aliases=[spec.alias], files=files)
        return self._wait(service, service.url(spec.port, spec.health))

    def _wait(self, service: Service, url: str) -> Service:
        self.console.step(f"waiting for {service.name} at {url} (budget {self.config.wait_budget_s:.0f} s)")
        with self.console.progress(f"waiting for {service.name}"):
            service.ready_s = _wait.wait_healthy(service, url, self.config.wait_budget_s, cancel=self._closing)
        self.console.step(f"{service.name} healthy after {service.ready_s:.1f} s")
        return service

    def start_runner(self, role: str, command: list[str], env: dict[str, str], *, networked: bool,
                     suite: Path | None = None) -> Service:
        """A runner container for one tier: on the bed network, or with no network at all.

        ``suite``: a project's own tests, mounted read-only at /bed/suite (the working directory).
        """
        return self.start(f"runner-{role}", "runner", self.images["runner"].tag, env=env, command=command,
                          networked=networked, memory=self.config.runner_memory, suite=suite)

    def start(self, name: str, role: str, image: str, *, env: dict[str, str],
              ports: dict[int, int | None] | None = None, aliases: list[str] | None = None,
              files: list[tuple[bytes, str]] | None = None, command: list[str] | None = None,
              networked: bool = True, memory: str | None = None, cpus: float | None = None,
              suite: Path | None = None) -> Service:
        """Start one container of this run (labelled, limited, loopback ports) and own it."""
        full_name = self._unique(f"bed-{self.config.run_id}-{name}")
        container = _Container(image, name=full_name, env=env)
        if command:
            container.with_command(command)
        for port, host in (ports or {}).items():
            container.with_bind_ports(port, host)
        kwargs: dict[str, Any] = {**LIMITS, "labels": self._labels(role)}
        if cpus:
            kwargs["nano_cpus"] = int(cpus * 1e9)
        if suite is not None:
            container.with_volume_mapping(str(suite), "/bed/suite", "ro")
            kwargs["working_dir"] = "/bed/suite"
        if memory:
            kwargs["mem_limit"] = memory
            kwargs["memswap_limit"] = memory  # no swap: over the limit is an OOM kill, not a crawl
        if networked:
            assert self._network is not None, "create_network() first"
            container.with_network(self._network).with_network_aliases(*(aliases or [name]))
        else:
            kwargs["network"] = "none"  # hermetic: no interface but loopback
        container.with_kwargs(**kwargs)
        for data, dest in files or []:
            container.with_copy_into_container(data, dest)
        service = Service(name=full_name, role=role, container=container)
        self.console.step(f"starting {full_name} ({image})")
        # Atomic under SIGINT/SIGTERM: a container is either owned (and so removed by close())
        # or never made; a signal that comes meanwhile is raised when the start is done.
        with _signals.shielded():
            with self._lock:
                if self._closing.is_set():
                    raise StackError("the run is shutting down; not starting more containers.")
                self._owned.append(service)
                self._starting += 1
            try:
                container.start()
            except docker.errors.APIError as exc:
                raise _start_error(full_name, exc) from exc
            finally:
                with self._lock:
                    self._starting -= 1
                    self._settled.notify_all()
        return service

    def _unique(self, name: str) -> str:
        """``name``, or ``name-2``, ``name-3``... when this run already used it (a re-run)."""
        with self._lock:
            count = self._names.get(name, 0) + 1
            self._names[name] = count
        return name if count == 1 else f"{name}-{count}"

    def _check_port_free(self) -> None:
        port = self.config.bases.host_port
        if port is not None and not loopback_port_free(port):
            raise PortInUseError(
                    f"port {port} on 127.0.0.1 (from {self.config.bases.source}) is already taken.",
                hint=f"stop what listens there (ss -ltnp 'sport = :{port}'), or choose another port "
                     "in MINI_AGENT_API_BASE, or unset it to let bed pick a free one.",
            )

    def close(self) -> float:
        """Remove every container and the network of this run; seconds it took.

        Shielded from SIGINT/SIGTERM, and it also sweeps by the run's label, so a container
        whose start was interrupted half-way (created, never handed back) goes too.
        """
        started = time.monotonic()
        if self._closing.is_set():  # closed already (an explicit close, then the with-block's exit)
            return 0.0
        self._closing.set()
        with _signals.shielded():
            with self._lock:
                # A start in flight (another thread) lands first, so the sweep below sees it.
                self._settled.wait_for(lambda: self._starting == 0, timeout=START_SETTLE_S)
                owned, self._owned = self._owned, []
            raws = [r for r in (s.created() for s in owned) if r is not None]
            with contextlib.suppress(docker.errors.APIError, requests.RequestException):
                labelled = self.client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={self.config.run_id}"})
                known = {r.id for r in raws}
                raws += [c for c in labelled if c.id not in known]
            with concurrent.futures.ThreadPoolExecutor(max_workers=max(len(raws), 1)) as pool:
                list(pool.map(_remove, raws))
            self._remove_network()
        return time.monotonic() - started

    def _remove_network(self) -> None:
        networks = self.client.networks.list(filters={"label": f"{LABEL_RUN}={self.config.run_id}"})
        for network in networks:
            try:
                network.remove()
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                self.console.step(f"could not remove network {network.name}: {exc.explanation}; `bed gc` will")
        self._network = None


def loopback_port_free(port: int) -> bool:
    """Can something bind 127.0.0.1:port right now (what publishing the shim there needs)?"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _remove(raw: docker.models.containers.Container) -> None:
    # Already gone, or going: fine; `bed gc` sweeps whatever is left by label.
    with contextlib.suppress(docker.errors.APIError, requests.RequestException):
        raw.remove(force=True, v=True)


def _start_error(name: str, exc: docker.errors.APIError) -> StackError:
    text = str(exc.explanation or exc)
    if "port is already allocated" in text or "address already in use" in text:
        return PortInUseError(f"{name} cannot publish its port: {text}.",
                              hint="free the port, or choose another in MINI_AGENT_API_BASE.")
    if "No such image" in text or "not found" in text:
        return StackError(f"{name}: image missing ({text}).", hint="run `bed images` (make images) to build it.")
    return StackError(f"the engine refused to start {name}: {text}.", hint="check `docker info` and free memory.")
