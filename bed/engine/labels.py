"""The labels on everything a run creates, and the identity of the process that created it.

`bed down` finds kept stacks by label and `bed gc` finds orphans by label. Whether a run is
dead is decided by ``bed.policy.gc`` from the identity recorded here: the machine, the PID
namespace, the PID and the process's start time. A PID alone proves nothing when CI jobs in
other PID namespaces (or other machines) share one engine.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Mapping
from pathlib import Path

PROJECT = "bed.project"
RUN = "bed.run"
KEEP = "bed.keep"
ROLE = "bed.role"
MACHINE = "bed.machine"
PIDNS = "bed.pidns"
PID = "bed.pid"
STARTED = "bed.started"  # the creating process's start time, in clock ticks since boot


@dataclasses.dataclass(frozen=True)
class Identity:
    machine: str
    pidns: str
    pid: int
    started: str

    def labels(self) -> dict[str, str]:
        return {MACHINE: self.machine, PIDNS: self.pidns, PID: str(self.pid), STARTED: self.started}

    @classmethod
    def from_labels(cls, labels: Mapping[str, str]) -> Identity | None:
        try:
            return cls(labels[MACHINE], labels[PIDNS], int(labels[PID]), labels[STARTED])
        except (KeyError, ValueError):
            return None


def here() -> Identity:
    """This process: machine id (or host name), PID namespace, PID and start time."""
    return Identity(machine_id(), pid_namespace(), os.getpid(), process_started(os.getpid()) or "")


def machine_id() -> str:
    for path in (Path("/etc/machine-id"), Path("/var/lib/dbus/machine-id")):
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text:
            return f"{text}@{socket.gethostname()}"
    return socket.gethostname()


def pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return "unknown"


def process_started(pid: int) -> str | None:
    """The start time of a process of this PID namespace, or None when there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; the fields after its ')' are fixed.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def run_labels(run_id: str, role: str, *, keep: bool, identity: Identity) -> dict[str, str]:
    out = {PROJECT: "bed", RUN: run_id, ROLE: role, **identity.labels()}
    if keep:
        out[KEEP] = "1"
    return out
