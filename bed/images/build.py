"""The bed images: content-hash tags, builds through the engine, an offline base.

An image's tag is a hash of everything that goes into it (its build context, the CA bundle,
and the id of the image it is built FROM), so a tag that exists is up to date and the build
is skipped. When the base image can be neither found nor pulled (no registry, as on our CI
machines), bed bootstraps a Debian bookworm base with debootstrap (``bed.images.base``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from ..config import clients
from ..config.clients import AgentVersions
from ..config.gateway import PINNED_GATEWAY, Gateway
from ..config.paths import read_bounded
from ..config.settings import MAX_CA_BUNDLE, Config
from ..console import Console
from ..engine.labels import IMAGE
from ..engine.protocol import Engine, ImageInfo
from ..errors import ImageError
from ..model.containers import PROXY_PORT, ROUTER_PATH
from . import gateway, npm
from .base import base_image, known_base
from .specs import SPECS, ImageSpec

HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
PACKAGE = Path(__file__).resolve().parents[1]  # the bed package: every build context is read from here
_SKIPPED = ("__pycache__",)


@dataclasses.dataclass(frozen=True)
class ImageRef:
    name: str
    tag: str
    id: str
    size_mb: float
    built: bool
    command: tuple[str, ...] = ()  # start it with this (entrypoint cleared): a gateway image used as is
    gateway: Gateway | None = None  # the proxy image: what it holds (a fork's commit and dirtiness)

    def to_dict(self) -> dict[str, object]:
        return {"tag": self.tag, "id": self.id, "size_mb": self.size_mb, "built": self.built}


@dataclasses.dataclass(frozen=True)
class Recipe:
    """What the images are built from: the base image's name, and the CA bundle for pip."""

    base_image: str
    ca_bundle: Path | None = None
    gateway: Gateway = PINNED_GATEWAY
    requirements: tuple[str, ...] = ()  # your suite's packages: a runner of its own
    # Tag each image `:current` too (the stable names compose/bed.yaml runs). A compare leg does
    # not: its gateway is not the project's, and compose must keep running the project's.
    current: bool = True
    agents: bool = True  # the agents image (1.9 GB, its own build): only when the agents tier runs
    agent_versions: AgentVersions = dataclasses.field(default_factory=clients.default)  # what the clients image holds

    @classmethod
    def of(cls, config: Config) -> Recipe:
        return cls(config.base_image, config.ca_bundle, config.gateway, config.requirements,
                   current=config.outputs_dir is None, agents="agents" in config.tiers,
                   agent_versions=config.agent_versions)

    def generated(self, registry: npm.Registry | None) -> dict[str, dict[str, bytes]]:
        """The files of each image's context that come from this recipe, not from bed's package: the
        clients image's agents.json (versions the lock lacks are looked up in ``registry``)."""
        if not self.agents:
            return {}
        return {"clients": {"agents.json": npm.plan(npm.resolve(self.agent_versions, registry))}}

    def ca(self) -> bytes:
        if self.ca_bundle is not None:  # checked when the config was read; read the same careful way again
            return read_bounded(self.ca_bundle, MAX_CA_BUNDLE, "CA bundle (BED_CA_BUNDLE)",
                                hint="point it at a PEM bundle, or unset it to use the host's.")
        if HOST_CA_BUNDLE.is_file():
            return HOST_CA_BUNDLE.read_bytes()
        import certifi  # httpx depends on it; a host without a system bundle still has this

        return Path(certifi.where()).read_bytes()


_GUARD = threading.Lock()
_BUILDING: dict[str, threading.Lock] = {}


@contextlib.contextmanager
def _one_builder(tag: str) -> Iterator[None]:
    """One build of a tag at a time in this process: compare legs run side by side, and two
    gateways share the python and shim images (the second finds the first's image instead of
    building it again)."""
    with _GUARD:
        lock = _BUILDING.setdefault(tag, threading.Lock())
    with lock:
        yield


def ensure_images(engine: Engine, recipe: Recipe, console: Console,
                  registry: npm.Registry | None = None) -> dict[str, ImageRef]:
    """Every bed image, built only where its content hash has no image yet. An agent version the
    lock does not pin is looked up in the npm registry first (a version npm lacks stops here)."""
    generated = recipe.generated(registry or npm.NpmRegistry())
    with _one_builder(f"base {recipe.base_image}"):
        base_name, base_id = base_image(engine, recipe.base_image, console)
    ca = recipe.ca()
    plan = gateway.plan(recipe.gateway, PACKAGE)
    console.step(f"gateway under test: {plan.gateway.describe()}")
    build = _Build(engine, recipe, plan, ca, base_name, base_id, console, generated)
    refs: dict[str, ImageRef] = {}
    beside: dict[str, _Background] = {}
    for spec in SPECS:
        if spec.name in ("clients", "agents") and not recipe.agents:
            continue
        for name in (spec.base_from, *(name for _, name in spec.args)):
            if name in beside:  # built on its own thread: this one needs it now
                refs[name] = beside.pop(name).result()
        if spec.name == "litellm" and plan.gateway.kind == "image":
            refs.update(_existing_gateway(engine, plan.gateway, refs["python"], ca, console))
        elif spec.beside:
            beside[spec.name] = _Background(functools.partial(build.image, spec, dict(refs)))
        else:
            refs[spec.name] = build.image(spec, refs)
    for name, background in beside.items():
        refs[name] = background.result()
    if recipe.requirements:
        refs.update(_suite_layers(engine, refs, recipe.requirements, console))
    return refs


@dataclasses.dataclass(frozen=True)
class _Build:
    """What every spec's image is built with, in one run of ensure_images."""

    engine: Engine
    recipe: Recipe
    plan: gateway.BuildPlan
    ca: bytes
    base_name: str
    base_id: str
    console: Console
    generated: Mapping[str, Mapping[str, bytes]] = dataclasses.field(default_factory=dict)

    def image(self, spec: ImageSpec, refs: Mapping[str, ImageRef]) -> ImageRef:
        """The spec's image (its tag hashes its context, its parent's id and its args' ids), built
        only when the engine has none."""
        parent_ref = refs.get("adapter") if spec.name == "runner" and "adapter" in refs else \
            refs.get(spec.base_from or "")
        parent, parent_id = (parent_ref.tag, parent_ref.id) if parent_ref else (self.base_name, self.base_id)
        args = {"BASE_IMAGE": parent, **{arg: refs[name].tag for arg, name in spec.args}}
        litellm = spec.name == "litellm"
        context = self.plan.context if litellm else build_context(spec, self.ca,
                                                                  extra=self.generated.get(spec.name, {}))
        tag = f"{spec.repository}:{digest(context, _ids(parent_id, spec, refs))}"
        image, built = _ensure(self.engine, tag, context, args, self.console, f"building {tag} (FROM {parent})",
                               self.plan.explain if litellm else None)
        if self.recipe.current:
            self.engine.tag(image.id, spec.repository, "current")  # the stable name compose/bed.yaml uses
        return ImageRef(spec.name, tag, image.id, image.size_mb, built, gateway=self.plan.gateway if litellm else None)


class _Background:
    """One image built on a daemon thread: a Ctrl-C does not wait for it (the engine drops a build
    whose client went away), and its error is raised where its image is needed."""

    def __init__(self, work: Callable[[], ImageRef]) -> None:
        self._result: ImageRef | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), name="bed-build", daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], ImageRef]) -> None:
        try:
            self._result = work()
        except BaseException as exc:  # handed to the thread that waits for it
            self._error = exc

    def result(self) -> ImageRef:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def suite_tag(runner: ImageRef, requirements: tuple[str, ...]) -> tuple[str, dict[str, bytes]]:
    """The tag of a runner plus a suite's packages (the requirements and the runner's id), and its context."""
    context = {"Dockerfile": (PACKAGE / "images/context/suite/Dockerfile").read_bytes(),
               "requirements.txt": ("\n".join(requirements) + "\n").encode()}
    repository = "bed-suite" if runner.name == "runner" else f"bed-suite-{runner.name}"
    return f"{repository}:{digest(context, runner.id)}", context


def _suite_layers(engine: Engine, refs: Mapping[str, ImageRef], requirements: tuple[str, ...],
                  console: Console) -> dict[str, ImageRef]:
    """Each runner there is (bed's, the agents image) with your suite's packages, under its name; the
    runner itself under ``<name>-base``."""
    layered: dict[str, ImageRef] = {}
    for name in ("runner", "agents"):
        if name in refs:
            layered[f"{name}-base"] = refs[name]
            layered[name] = _with_suite(engine, refs[name], requirements, console)
    return layered


def _with_suite(engine: Engine, runner: ImageRef, requirements: tuple[str, ...], console: Console) -> ImageRef:
    """A runner plus your suite's packages, content-hashed (the requirements and the runner's id)."""
    tag, context = suite_tag(runner, requirements)
    image, built = _ensure(engine, tag, context, {"BASE_IMAGE": runner.tag}, console,
                           f"building {tag} (FROM {runner.tag}): {len(requirements)} package(s) your suite needs")
    return ImageRef(runner.name, tag, image.id, image.size_mb, built)


def _ensure(engine: Engine, tag: str, context: Mapping[str, bytes], args: Mapping[str, str], console: Console,
            saying: str, explain: Callable[[list[str]], ImageError | None] | None = None) -> tuple[ImageInfo, bool]:
    """The image of a content-hash tag, built (saying so) only when the engine has none; and
    whether it was built. One builder per tag at a time (compare's legs build side by side)."""
    with _one_builder(tag):
        image = engine.image(tag)
        if image is not None:
            return image, False
        console.step(saying)
        return _build(engine, tag, context, args, console, explain), True


def _existing_gateway(engine: Engine, wanted: Gateway, python: ImageRef, ca: bytes,
                      console: Console) -> dict[str, ImageRef]:
    """A gateway image used as is: the proxy runs it (its entrypoint replaced), and an adapter
    built FROM it is the runner's base, so the smokes import the very litellm the proxy runs."""
    facts = gateway.probe_image(engine, wanted.value)
    found = engine.image(wanted.value)
    assert found is not None  # probe_image pulled it when it was missing
    described = dataclasses.replace(wanted, base=facts.litellm)
    console.step(f"{wanted.value}: litellm {facts.litellm} at {facts.python} (Python {facts.version})")
    context = {"Dockerfile": gateway.runner_adapter(facts, wanted.value), "ca.crt": ca}
    tag = f"bed-adapter:{digest(context, found.id)}"
    adapter = engine.image(tag)
    if adapter is None:
        console.step(f"building {tag} (FROM {wanted.value})")
        adapter = _build(engine, tag, context, {"BASE_IMAGE": found.id}, console, None)
    command = tuple(gateway.proxy_command(facts, ROUTER_PATH, PROXY_PORT))
    return {"litellm": ImageRef("litellm", wanted.value, found.id, found.size_mb, False, command, described),
            "adapter": ImageRef("adapter", tag, adapter.id, adapter.size_mb, False)}


def expected_tags(engine: Engine, recipe: Recipe) -> dict[str, str]:
    """The tags a run would use, as far as they can be known without building anything."""
    base_id = known_base(engine, recipe.base_image)
    if base_id is None:
        return {}
    ca = recipe.ca()
    plan = gateway.plan(recipe.gateway, PACKAGE)
    try:
        generated = recipe.generated(None)
    except ImageError:  # a version to look up in the registry: known once `bed images` has resolved it
        generated = {}
    tags: dict[str, str] = {}
    ids: dict[str, str] = {}
    for spec in SPECS:
        parent_id = ids.get(spec.base_from) if spec.base_from else base_id
        if parent_id is None or any(name not in ids for _, name in spec.args):
            break  # what it is built from is not built, so its tag cannot be known yet
        if spec.name == "litellm" and plan.gateway.kind == "image":
            break  # the user's image and its adapter: `bed images` shows them
        if spec.generated and spec.name not in generated:
            continue  # not part of this recipe (no agents tier), or not known without the registry
        arg_ids = {name: ImageRef(name, "", ids[name], 0, False) for _, name in spec.args}
        context = plan.context if spec.name == "litellm" else build_context(spec, ca,
                                                                            extra=generated.get(spec.name, {}))
        tags[spec.name] = f"{spec.repository}:{digest(context, _ids(parent_id, spec, arg_ids))}"
        image = engine.image(tags[spec.name])
        if image is not None:
            ids[spec.name] = image.id
    return tags


def recorded(engine: Engine, images: Mapping[str, Mapping[str, str]]) -> dict[str, ImageRef] | None:
    """A report's images, when every one is still on this engine (by id); else None."""
    refs: dict[str, ImageRef] = {}
    for name, image in images.items():
        found = engine.image(image["id"])
        if found is None:
            return None
        refs[name] = ImageRef(name, image["tag"], found.id, found.size_mb, built=False)
    return refs


def _ids(parent_id: str, spec: ImageSpec, refs: Mapping[str, ImageRef]) -> str:
    """What the tag hashes besides the context: the parent's id and every other image it uses."""
    return "+".join([parent_id, *(refs[name].id for _, name in spec.args)])


def build_context(spec: ImageSpec, ca: bytes, root: Path = PACKAGE,
                  extra: Mapping[str, bytes] | None = None) -> dict[str, bytes]:
    """The build context as {path: content}, pycache and editor debris left out; ``extra``: the
    spec's generated files (from the run's recipe)."""
    missing = sorted(set(spec.generated) - set(extra or {}))
    if missing:
        raise ImageError(f"the {spec.name} image needs {', '.join(missing)}, which this run did not generate.",
                         hint="this is a bug in bed; run `bed images` again with -v and report it.")
    files: dict[str, bytes] = dict(extra or {})
    for source, dest in spec.files:
        base = root / source
        if not base.exists():
            raise ImageError(f"{base} is missing, so the {spec.name} image cannot be built.",
                             hint="reinstall bed (pip install --force-reinstall bed); its package data is incomplete.")
        if base.is_file():
            files[dest] = base.read_bytes()
            continue
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            rel = path.relative_to(base)
            if any(part in _SKIPPED for part in rel.parts) or path.suffix in (".pyc", ".swp") \
                    or rel.name.startswith(".#"):
                continue
            files[str(Path(dest) / rel)] = path.read_bytes()
    if spec.with_ca:
        files["ca.crt"] = ca
    return files


def labelled(context: Mapping[str, bytes], source: str) -> dict[str, bytes]:
    """The context with bed's image label set right after each FROM, so every step's image carries
    it: a build that fails leaves its last step as an untagged image, and `bed gc` finds it by that
    label (the label given to the build lands on the final image only). The tag still hashes the
    context as written."""
    lines = context["Dockerfile"].decode().splitlines()
    label = f"LABEL {IMAGE}={json.dumps(source)}"
    out = [x for line in lines for x in ((line, label) if line.strip().upper().startswith("FROM ") else (line,))]
    return {**context, "Dockerfile": ("\n".join(out) + "\n").encode()}


def digest(context: Mapping[str, bytes], parent_id: str) -> str:
    h = hashlib.sha256(parent_id.encode())
    for name in sorted(context):
        h.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(context[name]).digest())
    return h.hexdigest()[:12]


def tar(context: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in sorted(context):
            info = tarfile.TarInfo(name)
            info.size = len(context[name])
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(context[name]))
    return buffer.getvalue()


def _build(engine: Engine, tag: str, context: Mapping[str, bytes], args: Mapping[str, str], console: Console,
           explain: Callable[[list[str]], ImageError | None] | None) -> ImageInfo:
    """Build it, streaming its output; ``explain`` may turn a failure's last lines into a better error."""
    source = tag.split(":")[0].removeprefix("bed-")
    tail: list[str] = []
    try:
        # Not bed.project: containers inherit image labels, and that one marks what a run started.
        for line in engine.build(tar(labelled(context, source)), tag, args, {IMAGE: source}):
            tail = [*tail, line][-12:]
            console.stream(f"build {source}", line)
    except ImageError as exc:
        better = explain(tail) if explain is not None else None
        if better is not None:
            raise better from None
        exc.details = exc.details or "\n".join(tail)
        raise
    image = engine.image(tag)
    if image is None:
        raise ImageError(f"the build of {tag} reported success but the image is missing.",
                         hint="run `bed images` again; check `docker images bed-*`.")
    return image
