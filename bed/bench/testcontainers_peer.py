"""The "plain testcontainers" peer of `bed bench peers`: the stack as a testcontainers user writes it.

What a team without bed would write: a ``Network``, the shim and the proxy as ``DockerContainer``s
started one after the other, each with testcontainers' own ``HttpWaitStrategy`` at its DEFAULTS
(poll every ``TC_POOLING_INTERVAL`` = 1 s, give up after ``TC_MAX_TRIES`` x that = 120 s) on a
published port, then the ND runner, waited for; everything stopped and removed at the end.

This module is deliberately NOT bed's engine seam (bed/engine/): it measures testcontainers as
it is, so it imports testcontainers itself and uses none of bed's stack code. It gets plain data
(image tags, environments, files, labels) and returns timings. Three settings are made, for the
duration of one round only, on testcontainers' process-wide configuration:

    ryuk_disabled             Ryuk's image cannot be pulled on registry-less machines (the same as
                              TESTCONTAINERS_RYUK_DISABLED=true); this module removes what it made
    tc_host_override          127.0.0.1 (TESTCONTAINERS_HOST_OVERRIDE): these hosts have /.dockerenv,
    connection_mode_override  and docker_host mode, so testcontainers waits on the published
                              loopback port instead of guessing a bridge gateway address

Ports are published on 127.0.0.1 only (``_configure``, the hook testcontainers gives subclasses).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping

from testcontainers.core.config import ConnectionMode, testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network
from testcontainers.core.wait_strategies import HttpWaitStrategy


@dataclasses.dataclass(frozen=True)
class Service:
    alias: str  # its name on the network
    image: str
    port: int
    health: str  # the path HttpWaitStrategy polls
    env: Mapping[str, str]
    files: tuple[tuple[str, bytes], ...] = ()  # copied in before it starts


@dataclasses.dataclass(frozen=True)
class Plan:
    services: tuple[Service, ...]  # started in this order, each waited for before the next
    runner_image: str
    runner_env: Mapping[str, str]
    runner_argv: tuple[str, ...]
    labels: Mapping[str, str]  # on every container and the network: `bed gc` finds a killed round's
    name: str  # prefix of the container names
    tests_budget_s: float
    docker_env: Mapping[str, str]  # DOCKER_HOST and friends, as bed itself was given them


@dataclasses.dataclass(frozen=True)
class Timing:
    up_s: float  # network create -> every service healthy
    tests_s: float  # runner start -> runner exited
    teardown_s: float  # everything removed
    exit_code: int | None  # None: it ran out of its budget
    output: str  # the runner's stdout
    error: str = ""  # what went wrong, when the round did not get as far as the tests' end


class _Loopback(DockerContainer):
    """A DockerContainer that publishes on loopback only (the project's network rule)."""

    def _configure(self) -> None:
        self.ports = {port: ("127.0.0.1", host) for port, host in self.ports.items()}  # type: ignore[misc]


@contextlib.contextmanager
def _configured() -> Iterator[None]:
    config = testcontainers_config
    saved = (config.ryuk_disabled, config.tc_host_override, config.connection_mode_override)
    config.ryuk_disabled = True
    config.tc_host_override = "127.0.0.1"
    config.connection_mode_override = ConnectionMode.docker_host
    try:
        yield
    finally:
        config.ryuk_disabled, config.tc_host_override, config.connection_mode_override = saved


def run_once(plan: Plan, clock: Callable[[], float] = time.monotonic) -> Timing:
    """One round: up, the tests, down. Failures come back as ``Timing.error``; nothing is left."""
    client = {"environment": dict(plan.docker_env)}
    up = tests = teardown = 0.0
    code: int | None = None
    output = ""
    try:
        with _configured(), contextlib.ExitStack() as owned:
            started = clock()
            network = Network(docker_client_kw=client, docker_network_kw={"labels": dict(plan.labels)}).create()
            owned.callback(network.remove)
            for service in plan.services:
                container = _service(service, network, plan, client)
                owned.callback(container.stop)  # before start: a start whose wait times out is removed too
                container.start()
            up = clock() - started
            started = clock()
            runner = (DockerContainer(plan.runner_image, docker_client_kw=client, name=f"{plan.name}-runner")
                      .with_command(list(plan.runner_argv)).with_envs(**plan.runner_env).with_network(network)
                      .with_kwargs(labels=dict(plan.labels)))
            owned.callback(runner.stop)
            runner.start()
            code = _wait(runner, plan.tests_budget_s)
            output = runner.get_logs()[0].decode("utf-8", "replace")
            tests = clock() - started
            started = clock()
            owned.close()
            teardown = clock() - started
    except Exception as exc:  # testcontainers' and docker's errors: this is the peer's boundary
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return Timing(up, tests, teardown, code, output, f"{type(exc).__name__}: {first[:300]}")
    return Timing(up, tests, teardown, code, output)


def _service(service: Service, network: Network, plan: Plan, client: Mapping[str, object]) -> DockerContainer:
    container = (_Loopback(service.image, docker_client_kw=dict(client), name=f"{plan.name}-{service.alias}")
                 .with_envs(**service.env).with_exposed_ports(service.port)
                 .with_network(network).with_network_aliases(service.alias)
                 .with_kwargs(labels=dict(plan.labels))
                 .waiting_for(HttpWaitStrategy(service.port, service.health)))  # its defaults, unchanged
    for path, data in service.files:
        container.with_copy_into_container(data, path)
    return container


def _wait(runner: DockerContainer, budget_s: float) -> int | None:
    """The runner's exit code; None when it outlived its budget. ``DockerContainer.wait`` has no
    timeout: it waits in a thread, which ends when the owner force-removes the runner."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(runner.wait).result(timeout=budget_s)
    except concurrent.futures.TimeoutError:
        return None
    finally:
        pool.shutdown(wait=False)
