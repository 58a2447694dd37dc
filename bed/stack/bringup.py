"""The one bring-up sequence: the probe, the shim and the proxy, started together, waited for
from inside the bed network. `bed run`, `bed up`, `bed repro` and `bed bench` all use it.

A setup failure (a taken port, a service that crashes or never answers within the wait budget)
is a StackError: the run ends with its documented exit code, never a SKIP.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..config.agent import Agent
from ..config.bases import NETWORK_BASE
from ..config.router import RouterPlan, groups
from ..config.settings import Config
from ..engine.labels import KEEP, PROJECT, ROLE, RUN
from ..engine.protocol import ContainerSpec, Engine, ExecResult
from ..errors import EngineError, PortInUseError, StackError
from ..images.build import ImageRef
from ..model.containers import ROUTER_PATH, VENV_PYTHON
from . import wait
from .owner import Service, Stack
from .services import IDLE, MEMORY, PIDS, PROBE_ALIAS, PROXY, SHIM, ServiceSpec, upstream


@dataclasses.dataclass(frozen=True)
class Plan:
    """What to bring up, and how."""

    images: Mapping[str, ImageRef]
    router: RouterPlan
    master_key: str
    group: str  # the shim lists this group and the generated config's others
    wait_budget_s: float
    shim_host_port: int | None = None  # the user's MINI_AGENT_API_BASE port: published there
    publish: bool = False  # publish the proxy and shim on loopback (bed up, bench): for people, not for bed
    local_engine: bool = True  # the port pre-check looks at this machine's loopback
    agent: Agent | None = None  # your agent where the shim would stand
    provider_env: Mapping[str, str] = dataclasses.field(default_factory=dict)  # live keys: the proxy's alone

    @classmethod
    def of(cls, config: Config, images: Mapping[str, ImageRef], router: RouterPlan, master_key: str,
           **kwargs: Any) -> Plan:
        return cls(images=images, router=router, master_key=master_key, group=config.group,
                   wait_budget_s=config.wait_budget_s, shim_host_port=config.bases.host_port, agent=config.agent,
                   **kwargs)


@dataclasses.dataclass(frozen=True)
class Services:
    probe: Service
    shim: Service
    proxy: Service

    def by_key(self) -> dict[str, Service]:
        return {"shim": self.shim, "proxy": self.proxy}


def bring_up(stack: Stack, plan: Plan) -> Services:
    """Start the probe, the shim and the proxy concurrently and wait until both serve."""
    return ready(stack, plan, start(stack, plan))


def start(stack: Stack, plan: Plan) -> dict[str, Service]:
    """Start the probe, the shim and the proxy concurrently; nobody waits for them here."""
    if plan.shim_host_port is not None and plan.local_engine and not loopback_port_free(plan.shim_host_port):
        raise _port_taken(stack.engine, plan.shim_host_port)
    if plan.agent is not None and stack.engine.image(plan.agent.image) is None:
        stack.engine.pull(plan.agent.image)  # an IMAGE_ERROR naming it when it cannot be had
    starts: dict[str, Callable[[], Service]] = {
        "probe": lambda: stack.start("probe", "probe", _probe_spec(stack, plan)),
        "shim": lambda: stack.start(SHIM.alias, SHIM.key, _shim_spec(stack, plan)),
        "proxy": lambda: stack.start(PROXY.alias, PROXY.key, proxy_spec(stack, plan)),
    }
    return _together(starts)


def ready(stack: Stack, plan: Plan, started: Mapping[str, Service]) -> Services:
    """The services ``start`` started, once both serve (each within the wait budget)."""
    probe = started["probe"]
    waits = {key: (lambda key=key, spec=spec: _wait(stack, probe, started[key], spec, plan.wait_budget_s))
             for key, spec in (("shim", upstream(plan.agent)), ("proxy", PROXY))}
    ready = _together(waits)
    services = Services(probe, ready["shim"], ready["proxy"])
    stack.services.update(services.by_key())
    return services


def restart(stack: Stack, probe: Service, old: Service, key: str, plan: Plan) -> Service:
    """One service of a kept stack, started again from ``plan`` (a new image or router config)."""
    stack.engine.remove(old.id)
    spec, start = (upstream(plan.agent), _shim_spec) if key == "shim" else (PROXY, proxy_spec)
    service = stack.start(spec.alias, spec.key, start(stack, plan))
    return _wait(stack, probe, service, spec, plan.wait_budget_s)


def _together(jobs: Mapping[str, Callable[[], Service]]) -> dict[str, Service]:
    """Run the jobs at once; the first error (in the given order) is raised after all ended.

    Not a `with` block: on SIGINT the main thread must not wait for the pool; the stack's
    closing event ends every wait within one probe slice.
    """
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs))
    try:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        done: dict[str, Service] = {}
        errors: list[BaseException] = []
        for name, future in futures.items():
            try:
                done[name] = future.result()
            except (StackError, EngineError) as exc:
                errors.append(exc)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if errors:
        raise errors[0]
    return done


def _wait(stack: Stack, probe: Service, service: Service, spec: ServiceSpec, budget_s: float) -> Service:
    url = spec.network_url(spec.health)
    engine = stack.engine
    console = stack.console
    console.step(f"waiting for {service.name} at {url} from the bed network (budget {budget_s:g} s)")

    def from_network(target: str, seconds: float) -> ExecResult:
        return engine.exec(probe.id, wait.probe_argv(VENV_PYTHON, target, seconds))

    def on_its_loopback() -> bool:
        local = f"http://127.0.0.1:{spec.port}{spec.health}"
        try:
            return engine.exec(service.id, wait.probe_argv(VENV_PYTHON, local, 1.0)).exit_code == 0
        except EngineError:
            return False

    with console.progress(f"waiting for {service.name}"):
        service.ready_s = wait.wait_healthy(service, from_network, url, budget_s, cancel=stack.closing,
                                            inside=on_its_loopback)
    console.step(f"{service.name} healthy after {service.ready_s:.1f} s")
    return service


def _base(stack: Stack, image: str, *, env: Mapping[str, str] | None = None) -> ContainerSpec:
    assert stack.network is not None, "create_network() first"
    return ContainerSpec(name="", image=image, labels={}, env=dict(env or {}), network=stack.network,
                         memory=MEMORY, pids_limit=PIDS)


def _probe_spec(stack: Stack, plan: Plan) -> ContainerSpec:
    return dataclasses.replace(_base(stack, plan.images["python"].tag), command=IDLE, aliases=(PROBE_ALIAS,),
                               memory="64m")


def _shim_spec(stack: Stack, plan: Plan) -> ContainerSpec:
    spec = upstream(plan.agent)
    publish = {spec.port: plan.shim_host_port} if plan.shim_host_port is not None or plan.publish else {}
    if plan.agent is not None:  # your agent, as its image starts it
        return dataclasses.replace(_base(stack, plan.agent.image), aliases=(spec.alias,), publish=publish)
    env = {**dict(SHIM.env), "MINI_AGENT_MODELS": ",".join(groups(plan.group))}
    return dataclasses.replace(_base(stack, plan.images[SHIM.image].tag, env=env), aliases=(SHIM.alias,),
                               publish=publish)


def proxy_spec(stack: Stack, plan: Plan) -> ContainerSpec:
    # The environment is the container's, so it is set before the proxy imports litellm (the
    # seed's "env before import" rule): the provider module reads the one base from it.
    env = {**dict(PROXY.env), "LITELLM_MASTER_KEY": plan.master_key, "CODEX_AGENT_API_BASE": NETWORK_BASE,
           **plan.provider_env}
    if plan.provider_env:  # live provider calls: LiteLLM as in production, tokenizers from the hub too
        env["HF_HUB_OFFLINE"] = "0"
    image = plan.images[PROXY.image]
    spec = dataclasses.replace(_base(stack, image.tag, env=env), aliases=(PROXY.alias,),
                               publish={PROXY.port: None} if plan.publish else {}, files=proxy_files(plan.router))
    if image.command:  # a gateway image used as is: its entrypoint (migrations, ...) replaced
        spec = dataclasses.replace(spec, entrypoint=(), command=image.command)
    return spec


def proxy_files(router: RouterPlan) -> tuple[tuple[str, bytes], ...]:
    """What the proxy reads at boot: the router config, and next to it (LiteLLM loads them from its
    config's folder) bed's provider modules and the ones the user's config names."""
    folder = ROUTER_PATH.rsplit("/", 1)[0]
    modules = {**providers(), **dict(router.modules)}
    return ((ROUTER_PATH, router.text.encode()), *((f"{folder}/{n}", data) for n, data in modules.items()))


def providers() -> dict[str, bytes]:
    """bed's proxy-side provider modules (the seed's codex-agent): bed/stack/providers/*.py."""
    folder = Path(__file__).resolve().parent / "providers"
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.py"))}


def loopback_port_free(port: int) -> bool:
    """Can something bind 127.0.0.1:port right now (what publishing the shim there needs)?"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_taken(engine: Engine, port: int) -> PortInUseError:
    holder = kept_stack_on(engine, port)
    if holder is not None:
        hint = (f"a stack kept by `bed up` (run {holder}) publishes the shim there: `bed down` ends it; or "
                "unset MINI_AGENT_API_BASE (your shell may still hold `bed up`'s export lines).")
    else:
        hint = (f"stop what listens there (ss -ltnp 'sport = :{port}'), or choose another port in "
                "MINI_AGENT_API_BASE, or unset it to let bed run the shim unpublished.")
    return PortInUseError(f"port {port} on 127.0.0.1 (from MINI_AGENT_API_BASE) is already taken.", hint=hint)


def kept_stack_on(engine: Engine, port: int) -> str | None:
    """The run id of a kept bed stack whose shim is published on ``port``, if there is one."""
    for info in engine.containers({PROJECT: "bed", KEEP: "1", ROLE: SHIM.key}):
        try:
            if engine.published_port(info.id, SHIM.port) == port:
                return info.labels.get(RUN)
        except (StackError, EngineError):
            continue
    return None
