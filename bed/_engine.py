"""The Docker engine: one client per run, and docker-py's errors translated at this boundary."""

from __future__ import annotations

from collections.abc import Mapping

import docker
import docker.errors
import requests

from ._errors import EngineError

LABEL_PROJECT = "bed.project"
LABEL_RUN = "bed.run"
LABEL_KEEP = "bed.keep"


def connect(environ: Mapping[str, str]) -> docker.DockerClient:
    """A client whose engine answered a ping, or an EngineError that says how to start one."""
    where = environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        client = docker.from_env(environment=dict(environ), timeout=60)
        client.ping()
    except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
        raise EngineError(
            f"no Docker engine answers at {where} ({_reason(exc)}).",
            hint="start one (sudo dockerd, or Docker Desktop), or set DOCKER_HOST; `bed doctor` checks it.",
        ) from exc
    return client


def labels(run_id: str, *, keep: bool = False) -> dict[str, str]:
    """The labels on everything a run creates: what `bed down` and `bed gc` look for."""
    out = {LABEL_PROJECT: "bed", LABEL_RUN: run_id}
    if keep:
        out[LABEL_KEEP] = "1"
    return out


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
