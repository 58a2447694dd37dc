"""A second Docker engine, in its own network namespace, holding this checkout's bed images.

It is what a CI job sees of GitLab's `docker:dind` or any remote DOCKER_HOST: the engine
answers on a socket, but a port it publishes is NOT on this host's 127.0.0.1, and nothing
in it reaches a registry or a package index (its images are loaded, not built). Containers
on a network there reach each other by name as usual.

In a test module:

    from tests.integration.remote_engine import remote_engine  # noqa: F401  (the fixture)

    def test_gate_on_a_remote_engine(remote_engine: RemoteEngine) -> None:
        done = bed_cli(["run", "--gate", "core"], cwd, env=remote_engine.env())

Without pytest: ``with RemoteEngine(Path("/tmp/x")) as engine: engine.load([...])``.
The mechanics live in scripts/remote-engine.sh (start / load / stop).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import docker
import pytest

from bed.config.settings import DEFAULT_BASE_IMAGE, Config
from bed.engine.docker import connect
from bed.images.base import OFFLINE_BASE
from bed.images.build import ImageRef, Recipe, expected_tags
from bed.images.specs import SPECS

from .conftest import REPO as SOURCE

SCRIPT = SOURCE / "scripts" / "remote-engine.sh"


@dataclasses.dataclass
class RemoteEngine:
    directory: Path  # its socket, data and logs; removed when it stops
    timings: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def docker_host(self) -> str:
        return f"unix://{self.directory / 'docker.sock'}"

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) pointed at this engine."""
        return {**(os.environ if base is None else base), "DOCKER_HOST": self.docker_host}

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.docker_host, timeout=120)

    def start(self) -> RemoteEngine:
        self._script("start", what="start")
        return self

    def load(self, images: list[str]) -> None:
        """Copy ``images`` from the engine of this process's DOCKER_HOST into this one."""
        self._script("load", *images, what="load", timeout=900)

    def stop(self) -> None:
        self._script("stop", what="stop")

    def _script(self, command: str, *args: str, what: str, timeout: float = 180) -> None:
        started = time.monotonic()
        done = subprocess.run([str(SCRIPT), command, str(self.directory), *args], capture_output=True, text=True,
                              timeout=timeout, check=False, stdin=subprocess.DEVNULL)
        self.timings[what] = time.monotonic() - started
        if done.returncode != 0:
            raise RuntimeError(f"remote engine: `{SCRIPT.name} {command}` exited {done.returncode} after "
                               f"{self.timings[what]:.1f}s: {done.stderr.strip()[-1500:]}")

    def __enter__(self) -> RemoteEngine:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def bed_image_names(client: docker.DockerClient, config: Config, images: dict[str, ImageRef]) -> list[str]:
    """The base bed builds FROM plus every bed image by its content-hash tag. With the base's
    id the same, the content hashes come out the same there, so bed finds its images and
    builds nothing (a build would fail: no package index in the namespace)."""
    base = config.base_image
    if not client.images.list(name=base) and base == DEFAULT_BASE_IMAGE:
        base = OFFLINE_BASE
    return [base, *(images[spec.name].tag for spec in SPECS)]


@pytest.fixture(scope="session")
def remote_engine(client: docker.DockerClient, images: dict[str, ImageRef]) -> Iterator[RemoteEngine]:
    config = Config.from_env({}, root=SOURCE)
    # Short and under /tmp: a unix socket path must fit in 107 bytes.
    with RemoteEngine(Path(tempfile.mkdtemp(prefix="bed-remote-", dir="/tmp"))) as engine:
        engine.load(bed_image_names(client, config, images))
        remote = engine.client()
        try:
            for spec in SPECS:  # compose/bed.yaml names them :current
                remote.images.get(images[spec.name].tag).tag(spec.repository, "current")
            there = connect({"DOCKER_HOST": engine.docker_host})
            assert expected_tags(there, Recipe.of(config)) == \
                {s.name: images[s.name].tag for s in SPECS}, (
                "the remote engine would not find this checkout's images")
        finally:
            remote.close()
        yield engine
