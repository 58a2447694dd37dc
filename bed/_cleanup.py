"""Finding and removing what runs left behind: `bed down` (kept stacks) and `bed gc` (orphans)."""

from __future__ import annotations

import os

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


def remove(client: docker.DockerClient, *, kept: bool, orphans: bool, run_id: str | None = None) -> dict[str, int]:
    """Remove bed's containers and networks: kept stacks, orphans of dead runs, or one run.

    A resource is an orphan when the process that created it (label bed.pid) no longer
    runs on this host: a run killed by SIGKILL or a power loss.
    """
    selector = [f"{LABEL_PROJECT}=bed"] + ([f"{LABEL_RUN}={run_id}"] if run_id else [])
    doomed_runs: set[str] = set()
    containers = client.containers.list(all=True, filters={"label": selector})
    for c in containers:
        labels = c.labels
        is_kept = labels.get(LABEL_KEEP) == "1"
        if run_id or (kept and is_kept) or (orphans and not is_kept and not _pid_alive(labels.get("bed.pid", ""))):
            doomed_runs.add(labels.get(LABEL_RUN, ""))
    removed = {"containers": 0, "networks": 0}
    for c in containers:
        if c.labels.get(LABEL_RUN, "") in doomed_runs:
            try:
                c.remove(force=True, v=True)
                removed["containers"] += 1
            except (docker.errors.APIError, requests.RequestException):
                pass
    for n in client.networks.list(filters={"label": selector}):
        labels = n.attrs.get("Labels") or {}
        run = labels.get(LABEL_RUN, "")
        orphan = orphans and labels.get(LABEL_KEEP) != "1" and not _pid_alive(labels.get("bed.pid", ""))
        if run in doomed_runs or orphan or run_id:
            try:
                n.remove()
                removed["networks"] += 1
            except (docker.errors.APIError, requests.RequestException):
                pass
    return removed

