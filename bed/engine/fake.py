"""An in-memory Engine for unit tests: containers run small scripted programs, nothing else.

Like httpx's MockTransport, this is a public test double on bed's seam. A test says what a
container does by name (``engine.on("runner-nd", program)``) and can break things on
purpose (``engine.crash("mini-agent", 3)``, ``engine.pause(...)``); the pipeline under test
cannot tell it from Docker, apart from speed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping

from ..errors import ContainerGone, ImageError, PortInUseError, StackError
from .protocol import (
    GONE,
    ContainerInfo,
    ContainerSpec,
    EngineInfo,
    ExecResult,
    ImageInfo,
    NetworkInfo,
    State,
)


@dataclasses.dataclass
class Program:
    """What a fake container does.

    exit_code None: it runs until killed (a service, or a tier that hangs). ``on_start`` runs
    when the container starts (to crash a dependency mid-tier, say); ``files`` are what the
    container leaves behind (a tier's records); ``output`` is its log.
    """

    exit_code: int | None = None
    output: str = ""
    files: Mapping[str, bytes] = dataclasses.field(default_factory=dict)
    on_start: Callable[[], None] | None = None
    healthy: bool = True  # answers its health probe


Behaviour = Callable[[ContainerSpec], Program]
# What a command run in a container does, from its argv and environment (a warm runner's session).
ExecBehaviour = Callable[[list[str], Mapping[str, str]], Program]


@dataclasses.dataclass
class FakeExec:
    ref: str
    argv: list[str]
    env: Mapping[str, str]
    workdir: str | None
    program: Program | None = None
    exit_code: int | None = None
    done: threading.Event = dataclasses.field(default_factory=threading.Event)


@dataclasses.dataclass
class FakeContainer:
    id: str
    spec: ContainerSpec
    program: Program
    state: State
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    ports: dict[int, int] = dataclasses.field(default_factory=dict)
    written: dict[str, bytes] = dataclasses.field(default_factory=dict)  # put_files, and what execs left
    logged: list[tuple[float, str]] = dataclasses.field(default_factory=list)  # (when, line) besides its output
    created: float = dataclasses.field(default_factory=time.time)  # its program's output is written then


class FakeEngine:
    def __init__(self, *, cpus: int = 2, images: tuple[str, ...] = ()) -> None:
        self.cpus = cpus
        self.local = True  # its published ports count as this machine's (the kept shim's reset tries them)
        self.table: dict[str, FakeContainer] = {}
        self.network_labels: dict[str, dict[str, str]] = {}
        self.stored: dict[str, ImageInfo] = {}  # every image, by each tag and by id
        self.calls: list[str] = []
        self.builds: list[str] = []
        self._behaviours: list[tuple[str, Behaviour]] = []
        self._lock = threading.Lock()
        self._ports = 40000
        self.fail_start: dict[str, Exception] = {}  # name fragment -> error raised by run()
        self.fail_build: dict[str, str] = {}  # tag fragment -> why its build fails (after a step ran)
        self.contexts: dict[str, bytes] = {}  # tag -> the build context it was built from
        self.execs: dict[str, FakeExec] = {}
        self._exec_behaviours: list[tuple[str, ExecBehaviour]] = []
        for ref in images:
            self.add_image(ref)

    # --- scripting ----------------------------------------------------------------------------

    def on(self, fragment: str, program: Program | Behaviour) -> None:
        """Containers whose name contains ``fragment`` run ``program`` (the last match wins)."""
        behaviour: Behaviour = program if callable(program) else (lambda spec, p=program: p)  # type: ignore[misc]
        self._behaviours.append((fragment, behaviour))

    def on_exec(self, fragment: str, behaviour: ExecBehaviour) -> None:
        """Commands run (exec_create) in containers whose name contains ``fragment`` do this; a
        program with exit_code None runs until a ``bed_warm stop`` for its token."""
        self._exec_behaviours.append((fragment, behaviour))

    def named(self, fragment: str) -> FakeContainer:
        found = [c for c in self.table.values() if fragment in c.spec.name]
        if not found:
            raise KeyError(fragment)
        return found[-1]

    def crash(self, fragment: str, code: int = 1, *, oom: bool = False) -> None:
        self._end(self.named(fragment), State("exited", code, oom))

    def log(self, fragment: str, line: str) -> None:
        """A line the container writes now (a service's access log while a tier runs, say)."""
        self.named(fragment).logged.append((time.time(), line))

    def pause(self, fragment: str) -> None:
        self.named(fragment).state = State("paused")

    def add_image(self, ref: str, size_mb: float = 100.0, *, labels: Mapping[str, str] | None = None,
                  created: float | None = None) -> ImageInfo:
        """An image tagged ``ref``; ``ref`` "sha256:..." alone is an untagged (dangling) one."""
        digest = ref if ref.startswith("sha256:") else "sha256:" + hashlib.sha256(ref.encode()).hexdigest()
        tags = () if ref.startswith("sha256:") else (ref,)
        info = ImageInfo(digest, tags, size_mb, dict(labels or {}), time.time() if created is None else created)
        self.stored[ref] = info
        self.stored[info.id] = info
        return info

    # --- Engine ---------------------------------------------------------------------------------

    def info(self) -> EngineInfo:
        return EngineInfo("fake", "1.41", self.cpus, "fake://", "fake", "/nonexistent", local=self.local)

    def create_network(self, name: str, labels: Mapping[str, str]) -> None:
        self.calls.append(f"network+ {name}")
        self.network_labels[name] = dict(labels)

    def remove_network(self, name: str) -> bool:
        self.calls.append(f"network- {name}")
        return self.network_labels.pop(name, None) is not None

    def networks(self, labels: Mapping[str, str]) -> list[NetworkInfo]:
        return [NetworkInfo(n, dict(lab)) for n, lab in self.network_labels.items() if _match(lab, labels)]

    def run(self, spec: ContainerSpec) -> str:
        self.calls.append(f"run {spec.name}")
        for fragment, error in self.fail_start.items():
            if fragment in spec.name:
                raise error
        if spec.image not in self.stored:
            raise StackError(f"{spec.name}: image missing ({spec.image}).", hint="run `bed images` to build it.")
        if any(c.spec.name == spec.name for c in self.table.values()):
            raise StackError(f"the engine refused to start {spec.name}: the name is in use.", hint="")
        ports = self._publish(spec)
        program = Program()
        for fragment, behaviour in self._behaviours:
            if fragment in spec.name:
                program = behaviour(spec)
        container = FakeContainer(f"c{len(self.table):04d}-{spec.name}", spec, program, State("running"),
                                  ports=ports)
        self.table[container.id] = container
        if program.on_start is not None:
            program.on_start()
        if program.exit_code is not None:
            self._end(container, State("exited", program.exit_code))
        return container.id

    def _publish(self, spec: ContainerSpec) -> dict[int, int]:
        """Host ports for what the spec publishes: the one it names, or the next free one."""
        with self._lock:
            taken = {p for c in self.table.values() for p in c.ports.values()}
            ports = {}
            for port, host in spec.publish.items():
                if host is not None and host in taken:
                    raise PortInUseError(f"{spec.name} cannot publish its port: port is already allocated.",
                                         hint="free the port.")
                self._ports += 1
                ports[port] = host or self._ports
            return ports

    def _end(self, container: FakeContainer, state: State) -> None:
        container.state = state
        container.done.set()

    def _get(self, ref: str) -> FakeContainer:
        container = self.table.get(ref)
        if container is None:
            raise ContainerGone(f"{ref}: no longer on the engine.", hint="")
        return container

    def state(self, ref: str) -> State:
        container = self.table.get(ref)
        return container.state if container else GONE

    def logs(self, ref: str, tail: int, since: float | None = None) -> str:
        container = self.table.get(ref)
        if container is None:
            return "(gone)"
        lines = container.program.output.splitlines() if since is None or container.created >= since else []
        lines += [line for when, line in container.logged if since is None or when >= since]
        return "\n".join(lines[-tail:])

    def follow(self, ref: str) -> Iterator[bytes]:
        container = self.table.get(ref)
        if container is None:
            return
        for line in container.program.output.splitlines():
            yield line.encode() + b"\n"
        container.done.wait(timeout=30)

    def wait(self, ref: str, timeout: float | None) -> int | None:
        container = self._get(ref)
        if not container.done.wait(timeout=timeout if timeout is not None else 30):
            return None
        if ref not in self.table:
            raise ContainerGone(f"{ref} was removed while bed waited for it.", hint="")
        return container.state.exit_code

    def exec(self, ref: str, argv: list[str]) -> ExecResult:
        self._get(ref)
        if "bed_warm" in argv and "stop" in argv:
            return self._stop_session(ref, argv)
        if any("/_bed/reset" in a for a in argv):  # a kept shim's reset between runs
            return ExecResult(0, "")
        url = next((a for a in argv if a.startswith("http://")), "")
        target = next((c for c in self.table.values()
                       if any(f"//{alias}:" in url for alias in c.spec.aliases)), None)
        if target is None or target.state.status != "running" or not target.program.healthy:
            time.sleep(0.02)  # a real probe slice takes time; do not let a wait spin
            return ExecResult(1, f"no answer from {url}")
        return ExecResult(0, f"healthy {url}")

    def _stop_session(self, ref: str, argv: list[str]) -> ExecResult:
        """`bed_warm stop TOKEN`: the warm session TOKEN is killed."""
        self.calls.append(f"exec {self._get(ref).spec.name} {' '.join(argv)}")
        for run in self.execs.values():
            if run.ref == ref and argv[-1] in run.argv and not run.done.is_set():
                run.exit_code = 137
                run.done.set()
        return ExecResult(0, "")

    def exec_create(self, ref: str, argv: list[str], env: Mapping[str, str], workdir: str | None) -> str:
        container = self._get(ref)
        if container.state.status != "running":
            raise StackError(f"the engine refused to run a command in {ref}: it is not running.", hint="")
        exec_id = f"x{len(self.execs):04d}"
        self.calls.append(f"exec {container.spec.name} {' '.join(argv)}")
        self.execs[exec_id] = FakeExec(ref, list(argv), dict(env), workdir)
        return exec_id

    def exec_follow(self, exec_id: str) -> Iterator[bytes]:
        run = self.execs[exec_id]
        container = self._get(run.ref)
        program = Program(exit_code=0)
        for fragment, behaviour in self._exec_behaviours:
            if fragment in container.spec.name:
                program = behaviour(run.argv, run.env)
        run.program = program
        if program.on_start is not None:
            program.on_start()
        container.written.update(program.files)
        for line in program.output.splitlines():
            yield line.encode() + b"\n"
        if program.exit_code is None:
            run.done.wait(timeout=30)  # until stopped
        else:
            run.exit_code = program.exit_code
        run.done.set()

    def exec_exit(self, exec_id: str) -> int | None:
        run = self.execs[exec_id]
        return run.exit_code if run.done.is_set() else None

    def put_files(self, ref: str, files: tuple[tuple[str, bytes], ...]) -> None:
        self._get(ref).written.update(dict(files))

    def read_file(self, ref: str, path: str) -> bytes | None:
        container = self.table.get(ref)
        if container is None:
            return None
        return container.written.get(path, container.program.files.get(path))

    def kill(self, ref: str) -> None:
        container = self.table.get(ref)
        if container is not None and container.state.status in ("running", "paused"):
            self._end(container, State("exited", 137))

    def remove(self, ref: str) -> bool:
        self.calls.append(f"remove {ref}")
        container = self.table.pop(ref, None)
        if container is None:
            return False
        container.done.set()
        return True

    def containers_named(self) -> list[str]:
        return [c.spec.name for c in self.table.values()]

    def containers(self, labels: Mapping[str, str]) -> list[ContainerInfo]:
        return [ContainerInfo(c.id, c.spec.name, dict(c.spec.labels)) for c in list(self.table.values())
                if _match(c.spec.labels, labels)]

    def published_port(self, ref: str, port: int) -> int:
        return self._get(ref).ports[port]

    def image(self, ref: str) -> ImageInfo | None:
        return self.stored.get(ref)

    def build(self, context: bytes, tag: str, buildargs: Mapping[str, str],
              labels: Mapping[str, str]) -> Iterator[str]:
        self.builds.append(tag)
        self.contexts[tag] = context
        parent = buildargs.get("BASE_IMAGE")
        if parent is not None and parent not in self.stored:
            raise ImageError(f"building {tag} failed: no such image {parent}", hint="")
        yield f"Step 1/1 : FROM {parent}"
        failing = next((f for f in self.fail_build if f in tag), None)
        if failing is not None:  # the steps that ran are left as an untagged image, labelled as its Dockerfile says
            self.add_image("sha256:" + hashlib.sha256(b"failed " + tag.encode()).hexdigest(), 689.0,
                           labels=_labels_in(context))
            raise ImageError(f"building {tag} failed: {self.fail_build[failing]}", hint="")
        self.add_image(tag, labels=labels)
        yield f"Successfully tagged {tag}"

    def images(self, label: str, *, dangling: bool = False) -> list[ImageInfo]:
        found = {i.id: dataclasses.replace(i, tags=tuple(self._tags_of(i.id))) for i in self.stored.values()
                 if label in i.labels}
        return [i for i in found.values() if not (dangling and i.tags)]

    def remove_image(self, ref: str) -> bool:
        info = self.stored.get(ref)
        if info is None or info.id in self.used_images():
            return False
        self.calls.append(f"rmi {ref}")
        for key in [k for k, v in self.stored.items() if v.id == info.id]:
            del self.stored[key]
        return True

    def used_images(self) -> set[str]:
        return {self.stored[c.spec.image].id for c in self.table.values() if c.spec.image in self.stored}

    def _tags_of(self, image_id: str) -> list[str]:
        return [k for k, v in self.stored.items() if v.id == image_id and k != image_id]

    def pull(self, ref: str) -> ImageInfo:
        raise ImageError(f"cannot pull {ref} (no registry in the fake engine).", hint="")

    def import_rootfs(self, tar_path: str, repository: str, tag: str) -> None:
        self.add_image(f"{repository}:{tag}")

    def tag(self, image_id: str, repository: str, tag: str) -> None:
        info = self.stored[image_id]
        self.stored[f"{repository}:{tag}"] = info

    def run_once(self, image: str, argv: list[str], labels: Mapping[str, str],
                 entrypoint: list[str] | None = None) -> ExecResult:
        if image not in self.stored:
            raise ImageError(f"image {image} is not on this engine.", hint="")
        return self.once(image, [*(entrypoint or []), *argv])

    def once(self, image: str, argv: list[str]) -> ExecResult:
        """What a throwaway container prints; a test replaces it (the probe of a gateway image)."""
        return ExecResult(0, "")


def _match(have: Mapping[str, str], want: Mapping[str, str]) -> bool:
    return all((k in have) if not v else have.get(k) == v for k, v in want.items())


def _labels_in(context: bytes) -> dict[str, str]:
    """The LABELs of a context's Dockerfile: what an image of its first steps carries."""
    import io
    import json
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(context)) as tar:
        member = tar.extractfile("Dockerfile")
        text = member.read().decode() if member else ""
    labels: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("LABEL "):
            for pair in line[6:].split():
                key, _, value = pair.partition("=")
                labels[key] = json.loads(value) if value.startswith('"') else value
    return labels
