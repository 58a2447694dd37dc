"""Finding and removing what runs left behind: `bed down` (kept stacks) and `bed gc` (orphans)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import docker
import docker.errors
import requests

from ._engine import LABEL_KEEP, LABEL_PROJECT, LABEL_RUN


def _pid_alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


SWEEPS = 3  # a killed process may leave a create request the engine completes a moment later
SWEEP_PAUSE_S = 0.5


def remove(client: docker.DockerClient, *, kept: bool, orphans: bool, run_id: str | None = None) -> dict[str, int]:
    """Remove bed's containers and networks: kept stacks, orphans of dead runs, or one run.

    A resource is an orphan when the process that created it (label bed.pid) no longer
    runs on this host: a run killed by SIGKILL or a power loss. It sweeps again until a pass
    finds nothing more of the runs it removes.
    """
    selector = [f"{LABEL_PROJECT}=bed"] + ([f"{LABEL_RUN}={run_id}"] if run_id else [])
    removed = {"containers": 0, "networks": 0}
    doomed: set[str] = set()
    for sweep in range(SWEEPS):
        if sweep:
            time.sleep(SWEEP_PAUSE_S)
        containers = client.containers.list(all=True, filters={"label": selector})
        doomed |= {c.labels.get(LABEL_RUN, "") for c in containers if _doomed(c.labels, kept, orphans, run_id)}
        gone = sum(_quietly(c.remove, force=True, v=True) for c in containers
                   if c.labels.get(LABEL_RUN, "") in doomed)
        networks = [n for n in client.networks.list(filters={"label": selector})
                    if _doomed(n.attrs.get("Labels") or {}, kept, orphans, run_id)
                    or (n.attrs.get("Labels") or {}).get(LABEL_RUN, "") in doomed]
        removed["containers"] += gone
        removed["networks"] += sum(_quietly(n.remove) for n in networks)
        if not gone and not networks:
            break
    return removed


def _doomed(labels: dict[str, str], kept: bool, orphans: bool, run_id: str | None) -> bool:
    is_kept = labels.get(LABEL_KEEP) == "1"
    return bool(run_id or (kept and is_kept) or (orphans and not is_kept and not _pid_alive(labels.get("bed.pid", ""))))


def _quietly(action: Callable[..., object], **kwargs: object) -> bool:
    """True when the engine did it; gone already, or refused: False (the next sweep retries)."""
    try:
        action(**kwargs)
    except (docker.errors.APIError, requests.RequestException):
        return False
    return True
