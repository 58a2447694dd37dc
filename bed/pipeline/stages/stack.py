"""The stack stage: the run's network and its services, owned by one ``Stack`` that the run's
owner tears down on every way out (unless the stack is kept).

A fresh run starts the shim and the proxy here and does not wait for them: the proxy's boot is
a run's longest path, so the tiers stage overlaps it with the hermetic tiers and the runners'
imports, and waits for the services only where a tier needs them. A reused run attaches to the
stack `bed up` kept: a changed image or router config restarts that service, the shim is reset,
and the kept warm runners serve the tiers.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping

from ...engine.protocol import Engine
from ...policy import release
from ...stack import bringup, kept
from ...stack.bringup import Plan, Services
from ...stack.owner import Service, Stack
from ...tiers import catalog, command
from .images import Built
from .prepare import Inputs, Prepared


@dataclasses.dataclass(frozen=True)
class Running:
    stack: Stack
    plan: Plan
    booting: Mapping[str, Service] | None = None  # a fresh run's services, started, not yet waited for
    attached: kept.Attached | None = None  # `--reuse`: the kept stack, brought in line

    @property
    def reused_from(self) -> str:
        return self.attached.run_id if self.attached is not None else ""

    @property
    def warm(self) -> Mapping[str, Service]:
        """The kept stack's warm runners, by kind; none for a fresh run."""
        return self.attached.warm if self.attached is not None else {}


def up(inputs: Inputs, prepared: Prepared, built: Built, owner: contextlib.ExitStack) -> Running:
    config = inputs.config
    stack = Stack(built.engine, config.run_id, inputs.console, keep=config.keep)
    if not config.keep:
        owner.callback(stack.close)
    if inputs.observer is not None:
        inputs.observer.stack(stack)
    plan = plan_of(inputs, prepared, built)
    if prepared.kept is not None:  # the run's runners join the kept stack's network; the stack stays
        stack.network = prepared.kept.network
        return Running(stack, plan, attached=_attach(inputs, prepared, built, plan))
    stack.create_network()
    needs_services = any(n in config.tiers for n in ("nd", "agents")) or \
        ("release" in config.tiers and config.live_providers)
    return Running(stack, plan, booting=bringup.start(stack, plan) if needs_services else None)


def plan_of(inputs: Inputs, prepared: Prepared, built: Built) -> Plan:
    config = inputs.config
    return Plan.of(config, built.images, prepared.router, prepared.master_key,
                   local_engine=built.engine.info().local, publish=inputs.publish,
                   provider_env=release.keys(prepared.smokes, inputs.environ, live=config.live_providers))


def _attach(inputs: Inputs, prepared: Prepared, built: Built, plan: Plan) -> kept.Attached:
    """The kept stack's shim and proxy (`--reuse`), brought in line with this run."""
    assert prepared.kept is not None
    attached = kept.attach(built.engine, inputs.config, prepared.kept, plan, inputs.console)
    restarted = attached.restarted
    inputs.console.step(f"reusing the stack kept by `bed up` (run {attached.run_id})"
                        + (f"; restarted: {', '.join(restarted)}" if restarted else "; nothing changed")
                        + f"; warm runners: {', '.join(sorted(attached.warm)) or 'none'}")
    return attached


def down(inputs: Inputs, built: Built, running: Running, services: Services | None) -> None:
    """Everything the run started is removed; a kept run (`bed repro --keep`) leaves a shell to exec into."""
    if not inputs.config.keep:
        running.stack.close()
        return
    shell = start_shell(running.stack, built.ctx, built.images["runner"].tag)
    inputs.console.step(f"kept: a shell in the runner: docker exec -it {shell.name} bash "
                        f"(then: /opt/venv/bin/python -m pytest nd -x); `bed down --run {inputs.config.run_id}` "
                        "removes it all")


def start_shell(stack: Stack, ctx: command.Context, image: str) -> Service:
    """An idle runner on the bed network, with the ND tier's environment, to exec into."""
    spec = command.container_spec(catalog.TIERS["nd"], ctx, stack.network)
    return stack.start("runner-shell", "runner", dataclasses.replace(spec, image=image, command=None))


def engine_of(running: Running) -> Engine:
    return running.stack.engine
