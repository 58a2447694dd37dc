"""The real engine: the docker SDK (and testcontainers for starting containers) behind bed's Engine.

This is the only module that imports docker or testcontainers, and the one place their errors
become bed's (``_mapped``, the way httpx maps its transports' exceptions). docker-py talks to the
engine through requests, which it depends on (so requests stays installed), but bed does not
import it: every requests error is an OSError (``RequestException`` subclasses ``IOError``), so
catching OSError catches a lost or timed-out engine connection.
Ryuk, testcontainers' reaper, cannot be pulled on registry-less machines, so it is disabled
per container start and bed cleans up by label itself.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
from collections.abc import Iterator, Mapping
from typing import Any, NoReturn

import docker
import docker.errors
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer

from ..errors import BedError, ContainerGone, EngineError, ImageError, PortInUseError, StackError
from .protocol import ContainerInfo, ContainerSpec, EngineInfo, ExecResult, ImageInfo, NetworkInfo, State

DEFAULT_HOST = "unix:///var/run/docker.sock"
_TRANSPORT = (OSError,)  # requests' errors (docker's transport) included: see the docstring


def is_local(host: str) -> bool:
    """Whether DOCKER_HOST names this machine's own engine (its published ports are on our loopback)."""
    return host in ("", DEFAULT_HOST, "unix:///run/docker.sock")


def connect(environ: Mapping[str, str]) -> DockerEngine:
    """An engine that answered a ping, or an EngineError that says how to start one."""
    where = environ.get("DOCKER_HOST") or DEFAULT_HOST
    try:
        client = docker.from_env(environment=dict(environ), timeout=60)
        client.ping()
    except (docker.errors.DockerException, *_TRANSPORT) as exc:
        raise EngineError(
            f"no Docker engine answers at {where} ({_reason(exc)}).",
            hint="start one (sudo dockerd, or Docker Desktop), or set DOCKER_HOST; `bed doctor` checks it.",
        ) from None
    return DockerEngine(client, where, environ)


@contextlib.contextmanager
def _mapped(what: str, ref: str = "", *, refused: type[BedError] = EngineError,
            hint: str = "check `docker info`; restart the engine if it is wedged.") -> Iterator[None]:
    """docker's errors and its transport's, raised inside, come out as bed's: a refusal as ``refused``."""
    try:
        yield
    except docker.errors.NotFound as exc:
        raise ContainerGone(f"{ref or what}: no longer on the engine ({_reason(exc)}).",
                            hint="something removed it (a `bed gc` from another shell?); run again.") from None
    except docker.errors.APIError as exc:
        raise refused(f"the engine refused to {what}: {_explain(exc)}.", hint=hint) from None
    except (docker.errors.DockerException, *_TRANSPORT) as exc:
        raise EngineError(f"lost the engine while trying to {what} ({_reason(exc)}).",
                          hint="check that the engine still runs (`docker info`).") from None


class _Container(DockerContainer):
    """A testcontainers container that publishes its ports on loopback only."""

    def _configure(self) -> None:
        # testcontainers publishes on every interface; bed publishes on loopback only.
        self.ports = {port: ("127.0.0.1", host) for port, host in self.ports.items()}  # type: ignore[misc]


class DockerEngine:
    """bed's Engine over one docker SDK client."""

    def __init__(self, client: docker.DockerClient, host: str, environ: Mapping[str, str]) -> None:
        self._client = client
        self._host = host
        self._environ = dict(environ)

    # --- the engine ---------------------------------------------------------------------------

    def info(self) -> EngineInfo:
        with _mapped("describe itself"):
            version = self._client.version()
            info = self._client.info()
        return EngineInfo(version=str(version.get("Version", "?")), api_version=str(version.get("ApiVersion", "?")),
                          cpus=int(info.get("NCPU", 1)), host=self._host, name=str(info.get("Name", "")),
                          root_dir=str(info.get("DockerRootDir", "")), local=is_local(self._host))

    # --- networks -----------------------------------------------------------------------------

    def create_network(self, name: str, labels: Mapping[str, str]) -> None:
        with _mapped(f"create network {name}", refused=StackError,
                     hint="`bed gc` removes networks of dead runs; docker has a network limit."):
            self._client.networks.create(name, driver="bridge", labels=dict(labels))

    def remove_network(self, name: str) -> bool:
        try:
            self._client.networks.get(name).remove()
        except docker.errors.NotFound:
            return False
        except (docker.errors.APIError, *_TRANSPORT):
            return False  # still in use, or refused: the next sweep (`bed gc`) retries
        return True

    def networks(self, labels: Mapping[str, str]) -> list[NetworkInfo]:
        with _mapped("list networks"):
            found = self._client.networks.list(filters={"label": _filters(labels)})
        return [NetworkInfo(n.name, dict(n.attrs.get("Labels") or {})) for n in found]

    # --- containers ---------------------------------------------------------------------------

    def run(self, spec: ContainerSpec) -> str:
        testcontainers_config.ryuk_disabled = True  # set per start, never at import: see the docstring
        container = _Container(spec.image, name=spec.name, env=dict(spec.env),
                               docker_client_kw={"environment": self._environ})
        if spec.command is not None:
            container.with_command(list(spec.command))
        for port, host in spec.publish.items():
            container.with_bind_ports(port, host)
        kwargs: dict[str, Any] = {"labels": dict(spec.labels), "init": spec.init, "pids_limit": spec.pids_limit}
        if spec.memory:
            kwargs.update(mem_limit=spec.memory, memswap_limit=spec.memory)
        if spec.nano_cpus:
            kwargs["nano_cpus"] = spec.nano_cpus
        if spec.cpu_shares:
            kwargs["cpu_shares"] = spec.cpu_shares
        if spec.working_dir:
            kwargs["working_dir"] = spec.working_dir
        if spec.entrypoint is not None:
            kwargs["entrypoint"] = list(spec.entrypoint)
        if spec.network is None:
            kwargs["network"] = "none"
        elif spec.network != "bridge":  # the default network has no aliases
            container.with_network(_Named(spec.network)).with_network_aliases(*spec.aliases)  # type: ignore[arg-type]
        container.with_kwargs(**kwargs)
        for path, data in spec.files:
            container.with_copy_into_container(data, path)
        try:
            container.start()
        except docker.errors.APIError as exc:
            raise _start_error(spec, exc) from None
        except (docker.errors.DockerException, *_TRANSPORT) as exc:
            raise EngineError(f"lost the engine while starting {spec.name} ({_reason(exc)}).",
                              hint="check that the engine still runs (`docker info`).") from None
        return str(container.get_wrapped_container().id)

    def state(self, ref: str) -> State:
        try:
            raw = self._client.api.inspect_container(ref)
        except docker.errors.NotFound:
            return State("removed")
        except (docker.errors.APIError, *_TRANSPORT) as exc:
            raise EngineError(f"the engine did not say how {ref} is ({_reason(exc)}).",
                              hint="check that the engine still runs (`docker info`).") from None
        state = raw.get("State") or {}
        status = str(state.get("Status", "unknown"))
        code = state.get("ExitCode")
        return State(status, int(code) if code is not None and status in ("exited", "dead") else None,
                     bool(state.get("OOMKilled")))

    def logs(self, ref: str, tail: int, since: float | None = None) -> str:
        try:
            return str(self._client.api.logs(ref, tail=tail, since=since).decode("utf-8", "replace")).rstrip()
        except (docker.errors.APIError, *_TRANSPORT):
            return "(no logs: the container is gone)"

    def follow(self, ref: str) -> Iterator[bytes]:
        try:
            yield from self._client.api.logs(ref, stream=True, follow=True)
        except (docker.errors.APIError, *_TRANSPORT):
            return

    def wait(self, ref: str, timeout: float | None) -> int | None:
        try:
            done = self._client.api.wait(ref, timeout=timeout)
        except docker.errors.NotFound:
            raise ContainerGone(f"{ref} was removed while bed waited for it.",
                                hint="something removed it (a `bed gc` from another shell?); run again.") from None
        except docker.errors.APIError as exc:  # before OSError: docker's APIError is a requests error too
            _raise_engine(f"wait for {ref}", exc)
        except OSError:  # the wait's read timed out (or its connection dropped): not over yet
            if self.state(ref).status == "removed":
                raise ContainerGone(f"{ref} was removed while bed waited for it.",
                                    hint="something removed it (a `bed gc` from another shell?); run again.") from None
            return None
        return int(done["StatusCode"])

    def exec(self, ref: str, argv: list[str]) -> ExecResult:
        with _mapped(f"run a command in {ref}", ref):
            code, output = self._client.containers.get(ref).exec_run(argv)
        return ExecResult(int(code if code is not None else -1), (output or b"").decode("utf-8", "replace"))

    def exec_create(self, ref: str, argv: list[str], env: Mapping[str, str], workdir: str | None) -> str:
        with _mapped(f"run a command in {ref}", ref):
            made = self._client.api.exec_create(ref, argv, environment=dict(env), workdir=workdir)
        return str(made["Id"])

    def exec_follow(self, exec_id: str) -> Iterator[bytes]:
        try:
            yield from self._client.api.exec_start(exec_id, stream=True)
        except (docker.errors.APIError, *_TRANSPORT):
            return

    def exec_exit(self, exec_id: str) -> int | None:
        try:
            found = self._client.api.exec_inspect(exec_id)
        except (docker.errors.APIError, *_TRANSPORT):
            return None
        code = found.get("ExitCode")
        return None if found.get("Running") or code is None else int(code)

    def put_files(self, ref: str, files: tuple[tuple[str, bytes], ...]) -> None:
        with _mapped(f"copy files into {ref}", ref, refused=StackError):
            self._client.api.put_archive(ref, "/", _tar(files))

    def read_file(self, ref: str, path: str) -> bytes | None:
        try:
            stream, _ = self._client.api.get_archive(ref, path)
            data = b"".join(stream)
        except docker.errors.NotFound:
            return None
        except (docker.errors.APIError, *_TRANSPORT):
            return None
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            member = tar.next()
            extracted = tar.extractfile(member) if member else None
            return extracted.read() if extracted else None

    def kill(self, ref: str) -> None:
        with contextlib.suppress(docker.errors.APIError, *_TRANSPORT):
            self._client.api.kill(ref)

    def remove(self, ref: str) -> bool:
        try:
            self._client.api.remove_container(ref, force=True, v=True)
        except docker.errors.NotFound:
            return False
        except (docker.errors.APIError, *_TRANSPORT):
            return False  # already being removed, or refused: the next sweep retries
        return True

    def containers(self, labels: Mapping[str, str]) -> list[ContainerInfo]:
        with _mapped("list containers"):
            found = self._client.api.containers(all=True, filters={"label": _filters(labels)})
        return [ContainerInfo(str(c["Id"]), str((c.get("Names") or ["?"])[0]).lstrip("/"), dict(c.get("Labels") or {}))
                for c in found]

    def published_port(self, ref: str, port: int) -> int:
        with _mapped(f"read the ports of {ref}", ref):
            raw = self._client.api.inspect_container(ref)
        bindings = (raw.get("NetworkSettings", {}).get("Ports") or {}).get(f"{port}/tcp") or []
        if not bindings:
            raise StackError(f"{ref} has no published port for {port}.",
                             hint="this is a bug in bed; please report it with the run's log.")
        return int(bindings[0]["HostPort"])

    # --- images -------------------------------------------------------------------------------

    def image(self, ref: str) -> ImageInfo | None:
        try:
            with _mapped(f"look up image {ref}", refused=ImageError):
                image = self._client.images.get(ref)
        except ContainerGone:  # ImageNotFound is a NotFound: the image is simply not here
            return None
        return ImageInfo(str(image.id), tuple(image.tags), round(float(image.attrs.get("Size", 0)) / 1e6, 1))

    def build(self, context: bytes, tag: str, buildargs: Mapping[str, str],
              labels: Mapping[str, str]) -> Iterator[str]:
        try:
            stream = self._client.api.build(fileobj=io.BytesIO(context), custom_context=True, tag=tag, rm=True,
                                            forcerm=True, decode=True, buildargs=dict(buildargs),
                                            labels=dict(labels))
            for chunk in stream:
                if "error" in chunk:
                    raise ImageError(f"building {tag} failed: {str(chunk['error']).strip()}",
                                     hint="the build output above shows the failing step; if pip could not "
                                          "reach the package index, pass your CA bundle with BED_CA_BUNDLE.")
                for line in str(chunk.get("stream", "")).splitlines():
                    if line.strip():
                        yield line.rstrip()
        except (docker.errors.APIError, *_TRANSPORT) as exc:
            raise ImageError(f"the engine failed while building {tag}: {_reason(exc)}.",
                             hint="check free disk space and `docker info`.") from None

    def images(self, label: str, *, dangling: bool = False) -> list[ImageInfo]:
        filters: dict[str, object] = {"label": [label], **({"dangling": True} if dangling else {})}
        with _mapped("list images"):
            found = self._client.api.images(filters=filters)
        return [ImageInfo(str(i["Id"]), tuple(t for t in i.get("RepoTags") or () if t != "<none>:<none>"),
                          round(float(i.get("Size", 0)) / 1e6, 1), dict(i.get("Labels") or {}),
                          float(i.get("Created", 0))) for i in found]

    def remove_image(self, ref: str) -> bool:
        try:
            self._client.api.remove_image(ref)
        except docker.errors.NotFound:
            return False
        except (docker.errors.APIError, *_TRANSPORT):
            return False  # in use by a container, or a child of another image: it stays
        return True

    def used_images(self) -> set[str]:
        with _mapped("list containers"):
            found = self._client.api.containers(all=True)
        return {str(c.get("ImageID", "")) for c in found} - {""}

    def pull(self, ref: str) -> ImageInfo:
        try:
            image = self._client.images.pull(ref)
        except (docker.errors.APIError, *_TRANSPORT) as exc:
            raise ImageError(f"cannot pull {ref} ({_reason(exc)[:120]}).",
                             hint="`docker load` it, or check the registry.") from None
        return ImageInfo(str(image.id), tuple(image.tags), round(float(image.attrs.get("Size", 0)) / 1e6, 1))

    def import_rootfs(self, tar_path: str, repository: str, tag: str) -> None:
        with _mapped(f"import {repository}:{tag}"):
            self._client.api.import_image_from_file(tar_path, repository=repository, tag=tag)

    def tag(self, image_id: str, repository: str, tag: str) -> None:
        with _mapped(f"tag {image_id[:19]} as {repository}:{tag}"):
            self._client.api.tag(image_id, repository, tag)

    def run_once(self, image: str, argv: list[str], labels: Mapping[str, str],
                 entrypoint: list[str] | None = None) -> ExecResult:
        created = None
        try:
            # Created, started and removed by hand: docker-py's run(remove=True) leaves a container
            # behind when the start fails (an entrypoint that is not in the image).
            created = self._client.containers.create(image, argv, network_mode="none", labels=dict(labels),
                                                     entrypoint=entrypoint)
            created.start()
            code = int(created.wait(timeout=300)["StatusCode"])
            return ExecResult(code, created.logs(stdout=True, stderr=True).decode("utf-8", "replace"))
        except docker.errors.ImageNotFound:
            raise ImageError(f"image {image} is not on this engine.", hint="build it first (`bed images`).") from None
        except docker.errors.APIError as exc:
            if "not found" in _explain(exc) or "no such file" in _explain(exc).lower():
                return ExecResult(127, _explain(exc))  # that entrypoint is not in the image
            raise EngineError(f"the engine could not run a container of {image}: {_reason(exc)}.",
                              hint="read the engine's log; check free memory and the storage driver.") from None
        except _TRANSPORT as exc:
            raise EngineError(f"the engine could not run a container of {image}: {_reason(exc)}.",
                              hint="read the engine's log; check free memory and the storage driver.") from None
        finally:
            if created is not None:
                with contextlib.suppress(docker.errors.APIError, *_TRANSPORT):
                    created.remove(force=True)


class _Named:
    """What testcontainers needs of a network: its name (bed creates and removes networks itself)."""

    def __init__(self, name: str) -> None:
        self.name = name


def _filters(labels: Mapping[str, str]) -> list[str]:
    return [f"{k}={v}" if v else k for k, v in labels.items()]


def _start_error(spec: ContainerSpec, exc: docker.errors.APIError) -> StackError:
    text = _explain(exc)
    if "port is already allocated" in text or "address already in use" in text:
        return PortInUseError(f"{spec.name} cannot publish its port: {text}.",
                              hint="free the port, or choose another in MINI_AGENT_API_BASE.")
    if "No such image" in text or "not found" in text:
        return StackError(f"{spec.name}: image missing ({text}).", hint="run `bed images` to build it.")
    if "Minimum memory limit" in text:
        return StackError(f"{spec.name}: the engine refused its memory limit {spec.memory} ({text}).",
                          hint="raise BED_RUNNER_MEMORY (at least 6m; 2g is the default).")
    return StackError(f"the engine refused to start {spec.name}: {text}.", hint="check `docker info` and free memory.")


def _raise_engine(what: str, exc: docker.errors.APIError) -> NoReturn:
    raise EngineError(f"the engine refused to {what}: {_explain(exc)}.",
                      hint="check `docker info`; restart the engine if it is wedged.") from None


def _explain(exc: docker.errors.APIError) -> str:
    return str(exc.explanation or exc).strip()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


def _tar(files: tuple[tuple[str, bytes], ...]) -> bytes:
    """A tar of the files at their absolute paths (read and writable by everyone, like a copy)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for path, data in files:
            member = tarfile.TarInfo(path.lstrip("/"))
            member.size, member.mode = len(data), 0o644
            tar.addfile(member, io.BytesIO(data))
    return out.getvalue()
