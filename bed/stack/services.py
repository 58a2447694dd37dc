"""What the stack is made of, as data: read by the bring-up and by `bed compose`.

Because both read these specs, compose/bed.yaml is generated, and a unit test fails when
the committed file differs from what ``bed.stack.compose`` renders.
"""

from __future__ import annotations

import dataclasses

from ..config.agent import Agent
from ..config.bases import SHIM_ALIAS, SHIM_PORT
from ..model.containers import PROXY_PORT, VENV_PYTHON

MEMORY = "2g"
PIDS = 1024
# The runners yield the cores to the shim and the proxy when both want them: the proxy's boot and
# its answers are on every served tier's critical path; the hermetic tiers have slack (slowed,
# they still end long before the served tiers). `bed bench`, 2 benches each: at 256 the proxy was
# healthy in the gate after 4.3-4.7 s and the gate took 11.1-11.4 s; at 64, 4.0-4.1 s and 10.8-11.1 s
# (bare boot 4.6 s). The dev loop does not move either way. README: "How fast".
RUNNER_CPU_SHARES = 64


@dataclasses.dataclass(frozen=True)
class ServiceSpec:
    key: str  # "shim" / "proxy": how bed and READINESS_EXPECT name it
    alias: str  # its name on the bed network (and the compose service name)
    image: str  # the ImageSpec it runs
    port: int
    health: str  # the path a wait polls
    env: tuple[tuple[str, str], ...] = ()

    def network_url(self, path: str = "") -> str:
        return f"http://{self.alias}:{self.port}{path}"


SHIM_SEED = "bed"  # the shim's answers are a function of the request and this seed
SHIM = ServiceSpec("shim", SHIM_ALIAS, "shim", SHIM_PORT, "/health", (("MINI_AGENT_SEED", SHIM_SEED),))
# HF_HUB_OFFLINE: for a llama-named model (Groq's, say) LiteLLM fetches a tokenizer from the Hugging
# Face hub to count tokens; with no internet that is 5 retries and 30 s of one request's time, once
# per proxy. Offline, it falls back to tiktoken at once. A live run turns it back on (bringup).
PROXY = ServiceSpec("proxy", "litellm", "litellm", PROXY_PORT, "/health/liveliness",
                    (("LITELLM_LOCAL_MODEL_COST_MAP", "True"), ("HF_HUB_OFFLINE", "1")))
SERVICES = (SHIM, PROXY)


def upstream(agent: Agent | None) -> ServiceSpec:
    """What stands where the shim does: the shim, or your agent (same alias, its port and health)."""
    if agent is None:
        return SHIM
    return ServiceSpec("shim", SHIM_ALIAS, agent.image, agent.port, agent.health)

# The probe: an idle container on the bed network that health waits exec into, so every wait
# looks from inside the network (as the runner will) and never through a published port.
PROBE_ALIAS = "bed-probe"
IDLE = (VENV_PYTHON, "-c", "import signal; signal.pause()")
