"""What the stack is made of, as data: one description read by the Stack and by `bed compose`.

Because both read these specs, compose/bed.yaml is generated, and a unit test fails when
the committed file differs from what this module renders.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ._bases import SHIM_ALIAS, SHIM_PORT

ROUTER_PATH = "/etc/bed/router.yaml"
# Every container: an init process (a PID-1 Python ignores SIGTERM, so stops would hang),
# bounded memory and pids.
LIMITS: dict[str, Any] = {"init": True, "mem_limit": "2g", "pids_limit": 1024}


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
PROXY = ServiceSpec("proxy", "litellm", "litellm", 4000, "/health/liveliness",
                    (("LITELLM_LOCAL_MODEL_COST_MAP", "True"),))
SERVICES = (SHIM, PROXY)
