"""What bed asks of a container engine, as one small Protocol and the plain data it trades in.

The docker adapter (``bed.engine.docker``) is the only implementation that talks to a real
engine; ``bed.engine.fake`` is an in-memory one for the unit tests. Everything else in bed
sees only this module, so no other module imports docker or catches its errors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Protocol


@dataclasses.dataclass(frozen=True)
class ContainerSpec:
    """Everything needed to create and start one container."""

    name: str
    image: str
    labels: Mapping[str, str]
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None  # None: the image's; () clears it
    network: str | None = None  # None: no network at all (loopback only)
    aliases: tuple[str, ...] = ()
    publish: Mapping[int, int | None] = dataclasses.field(default_factory=dict)  # port -> host port (None: any)
    memory: str | None = None  # docker syntax; also the swap limit (no swap: over it is an OOM kill)
    nano_cpus: int | None = None
    cpu_shares: int | None = None  # relative weight under contention (docker's default: 1024)
    pids_limit: int = 1024
    init: bool = True  # a PID-1 Python ignores SIGTERM; an init process makes stops prompt
    working_dir: str | None = None
    files: tuple[tuple[str, bytes], ...] = ()  # (path in the container, content): copied in before the start


@dataclasses.dataclass(frozen=True)
class State:
    """A container's state as bed reads it."""

    status: str  # created, running, paused, restarting, exited, dead, removed
    exit_code: int | None = None
    oom_killed: bool = False

    @property
    def ended(self) -> bool:
        return self.status in ("exited", "dead", "removed") or self.oom_killed

    def describe(self) -> str:
        """As a user reads it: "exited (code 137, OOM-killed)", "paused", "removed"."""
        if self.status in ("exited", "dead"):
            oom = ", OOM-killed" if self.oom_killed else ""
            return f"{self.status} (code {self.exit_code}{oom})"
        return self.status


GONE = State("removed")


@dataclasses.dataclass(frozen=True)
class ContainerInfo:
    id: str
    name: str
    labels: Mapping[str, str]


@dataclasses.dataclass(frozen=True)
class NetworkInfo:
    name: str
    labels: Mapping[str, str]


@dataclasses.dataclass(frozen=True)
class ImageInfo:
    id: str
    tags: tuple[str, ...]
    size_mb: float
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)
    created: float = 0.0  # seconds since the epoch


@dataclasses.dataclass(frozen=True)
class EngineInfo:
    version: str
    api_version: str
    cpus: int
    host: str  # DOCKER_HOST as given, or the default socket
    name: str  # the engine host's name
    root_dir: str
    # The engine is this machine's: what it publishes on 127.0.0.1 is this machine's loopback (the
    # default socket). Any other host (tcp://, ssh://, another socket: a namespaced or CI engine) is not.
    local: bool = True


@dataclasses.dataclass(frozen=True)
class ExecResult:
    exit_code: int
    output: str


class Engine(Protocol):
    """Networks, containers, images and labels: all bed needs of Docker."""

    def info(self) -> EngineInfo: ...

    # networks
    def create_network(self, name: str, labels: Mapping[str, str]) -> None: ...

    def remove_network(self, name: str) -> bool: ...

    def networks(self, labels: Mapping[str, str]) -> list[NetworkInfo]: ...

    # containers
    def run(self, spec: ContainerSpec) -> str:
        """Create the container, copy its files in, start it; its id. Raises StackError."""
        ...

    def state(self, ref: str) -> State:
        """GONE when the container no longer exists."""
        ...

    def logs(self, ref: str, tail: int, since: float | None = None) -> str:
        """Its last ``tail`` lines; with ``since`` (a unix time), only those written from then on."""
        ...

    def follow(self, ref: str) -> Iterator[bytes]:
        """The container's output as it comes, until it ends."""
        ...

    def wait(self, ref: str, timeout: float | None) -> int | None:
        """Its exit code; None when ``timeout`` passed first. Raises ContainerGone."""
        ...

    def exec(self, ref: str, argv: list[str]) -> ExecResult: ...

    def exec_create(self, ref: str, argv: list[str], env: Mapping[str, str], workdir: str | None) -> str:
        """A command made ready to run in a running container, not started: its exec id."""
        ...

    def exec_follow(self, exec_id: str) -> Iterator[bytes]:
        """Start it; its output (stdout and stderr) as it comes, until it ends."""
        ...

    def exec_exit(self, exec_id: str) -> int | None:
        """Its exit code; None while it runs (or when the engine cannot say)."""
        ...

    def put_files(self, ref: str, files: tuple[tuple[str, bytes], ...]) -> None:
        """Copy files (absolute path, content) into a running container. Raises StackError."""
        ...

    def read_file(self, ref: str, path: str) -> bytes | None:
        """A file's content from the container (also a stopped one); None when it is absent."""
        ...

    def kill(self, ref: str) -> None: ...

    def remove(self, ref: str) -> bool:
        """Force-remove it; False when it was gone already."""
        ...

    def containers(self, labels: Mapping[str, str]) -> list[ContainerInfo]: ...

    def published_port(self, ref: str, port: int) -> int: ...

    # images
    def image(self, ref: str) -> ImageInfo | None: ...

    def build(self, context: bytes, tag: str, buildargs: Mapping[str, str],
              labels: Mapping[str, str]) -> Iterator[str]:
        """Build from a tar context; yields the build's output lines. Raises ImageError."""
        ...

    def images(self, label: str, *, dangling: bool = False) -> list[ImageInfo]:
        """The images carrying ``label`` (any value); with ``dangling``, only those with no tag
        and no child (what a failed build leaves)."""
        ...

    def remove_image(self, ref: str) -> bool:
        """Remove it, and the untagged parents only it used; False when it is gone or in use."""
        ...

    def used_images(self) -> set[str]:
        """The ids of the images every container on the engine (running or not) was created from."""
        ...

    def pull(self, ref: str) -> ImageInfo: ...

    def import_rootfs(self, tar_path: str, repository: str, tag: str) -> None: ...

    def tag(self, image_id: str, repository: str, tag: str) -> None: ...

    def run_once(self, image: str, argv: list[str], labels: Mapping[str, str],
                 entrypoint: list[str] | None = None) -> ExecResult:
        """Run a throwaway container with no network to its end; its exit code and output
        (127 when the entrypoint is not in the image)."""
        ...
