"""The bed images: content-hash tags, builds through the Docker SDK, an offline base.

An image's tag is a hash of everything that goes into it (its build context, the CA
bundle, and the id of the image it is built FROM), so a tag that exists is up to date
and the build is skipped. When the base image can be neither found nor pulled (no
registry, as on our CI machines), bed bootstraps a Debian bookworm base with debootstrap.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import requests

from ._config import DEFAULT_BASE_IMAGE, Config
from ._console import Console
from ._engine import LABEL_PROJECT
from ._errors import ImageError

OFFLINE_BASE = "bed-base:bookworm"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    name: str
    files: tuple[tuple[str, str], ...]  # (path under the project root, path in the context)
    base_from: str | None = None  # another spec's name; None: the configured base image
    with_ca: bool = True

    @property
    def repository(self) -> str:
        return f"bed-{self.name}"


SPECS = (  # in build order: each one's base_from is built before it
    ImageSpec("python", (("images/python", "."),)),
    ImageSpec("shim", (("images/shim", "."), ("bed/shim", "bed_shim")), base_from="python", with_ca=False),
    ImageSpec("litellm", (("images/litellm", "."),), base_from="python", with_ca=False),
    ImageSpec("runner", (("images/runner", "."), ("tests/tiers", "tiers"), ("bed/_shards.py", "tiers/bed_shards.py")),
              base_from="litellm", with_ca=False),
    ImageSpec("agents", (("images/agents", "."),), base_from="runner", with_ca=False),
)


@dataclasses.dataclass(frozen=True)
class ImageRef:
    name: str
    tag: str
    id: str
    size_mb: float
    built: bool


def ensure_images(client: docker.DockerClient, config: Config, console: Console) -> dict[str, ImageRef]:
    """Every bed image, built only where its content hash has no image yet."""
    base_name, base_id = _base_image(client, config, console)
    ca = _ca_bytes(config)
    refs: dict[str, ImageRef] = {}
    for spec in SPECS:
        parent = refs[spec.base_from].tag if spec.base_from else base_name
        parent_id = refs[spec.base_from].id if spec.base_from else base_id
        tag, context = _tagged(config, spec, parent_id, ca)
        image = find_image(client, tag)
        if image is None:
            console.step(f"building {tag} (FROM {parent})")
            _build(client, tag, context, parent, console)
            image = find_image(client, tag)
            if image is None:
                raise ImageError(f"the build of {tag} reported success but the image is missing.",
                                 hint="run `bed images` again; check `docker images bed-*`.")
            refs[spec.name] = image_ref(spec.name, tag, image, built=True)
        else:
            refs[spec.name] = image_ref(spec.name, tag, image, built=False)
        _tag_current(image, spec)
    return refs


def expected_tags(client: docker.DockerClient, config: Config) -> dict[str, str]:
    """The tags a run would use, as far as they can be known without building anything."""
    base = find_image(client, config.base_image)
    if base is None and config.base_image == DEFAULT_BASE_IMAGE:
        base = find_image(client, OFFLINE_BASE)
    if base is None:
        return {}
    ca = _ca_bytes(config)
    tags: dict[str, str] = {}
    ids: dict[str, str] = {}
    for spec in SPECS:
        parent_id = ids.get(spec.base_from) if spec.base_from else str(base.id)
        if parent_id is None:  # its parent is not built, so its tag cannot be known yet
            break
        tags[spec.name], _ = _tagged(config, spec, parent_id, ca)
        image = find_image(client, tags[spec.name])
        if image is not None:
            ids[spec.name] = str(image.id)
    return tags


def _tagged(config: Config, spec: ImageSpec, parent_id: str, ca: bytes) -> tuple[str, dict[str, bytes]]:
    context = _context(config.source, spec, ca)
    return f"{spec.repository}:{_digest(context, parent_id)}", context


def _tag_current(image: docker.models.images.Image, spec: ImageSpec) -> None:
    """Also tag it ``:current``, the stable name compose/bed.yaml uses."""
    if f"{spec.repository}:current" not in image.tags:
        image.tag(spec.repository, "current")


def image_ref(name: str, tag: str, image: docker.models.images.Image, *, built: bool) -> ImageRef:
    """What a run records of an image: its tag, id and size."""
    size = float(image.attrs.get("Size", 0)) / 1e6
    return ImageRef(name=name, tag=tag, id=str(image.id), size_mb=round(size, 1), built=built)


def find_image(client: docker.DockerClient, name: str) -> docker.models.images.Image | None:
    """The image, or None when the engine does not have it."""
    try:
        return client.images.get(name)
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.APIError as exc:
        raise ImageError(f"the engine failed to look up image {name}: {exc.explanation}.",
                         hint="check `docker info`; restart the engine if it is wedged.") from exc


def _base_image(client: docker.DockerClient, config: Config, console: Console) -> tuple[str, str]:
    """The base image's name and id: found locally, pulled, or bootstrapped offline."""
    name = config.base_image
    image = find_image(client, name)
    if image is not None:
        return name, str(image.id)
    if name == DEFAULT_BASE_IMAGE:
        offline = find_image(client, OFFLINE_BASE)
        if offline is not None:
            return OFFLINE_BASE, str(offline.id)
    console.step(f"pulling base image {name}")
    try:
        return name, str(client.images.pull(name).id)
    except (docker.errors.APIError, requests.RequestException) as exc:
        why = getattr(exc, "explanation", None) or str(exc)
    if name != DEFAULT_BASE_IMAGE:
        raise ImageError(f"base image {name} is not on this engine and cannot be pulled ({why[:120]}).",
                         hint=f"`docker load` it, or unset BED_BASE_IMAGE to use {DEFAULT_BASE_IMAGE} "
                              "(bootstrapped offline when no registry answers).")
    console.banner("NO REGISTRY: bootstrapping an offline Debian base", [
        f"could not pull {name}: {why[:100]}",
        f"building {OFFLINE_BASE} with debootstrap from the host's Debian mirror (about 30 s, once)",
    ])
    return OFFLINE_BASE, bootstrap_base(client, console)


def bootstrap_base(client: docker.DockerClient, console: Console) -> str:
    """Build ``bed-base:bookworm`` offline: debootstrap a minbase rootfs, then docker import."""
    tool = shutil.which("debootstrap")
    if tool is None:
        raise ImageError("no base image can be pulled and debootstrap is not installed to build one.",
                         hint="apt-get install -y debootstrap (then re-run), or `docker load` a Debian "
                              "bookworm image and set BED_BASE_IMAGE to it.")
    if os.geteuid() != 0:
        raise ImageError("no base image can be pulled and debootstrap needs root to build one.",
                         hint="run `sudo .venv/bin/python -m bed images` once, or `docker load` a Debian "
                              "bookworm image and set BED_BASE_IMAGE to it.")
    mirror = apt_mirror()
    with tempfile.TemporaryDirectory(prefix="bed-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        argv = [tool, "--variant=minbase", "--include=python3,python3-venv", "bookworm", str(rootfs), mirror]
        console.step(f"$ {' '.join(argv)}")
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = " | ".join(done.stdout.strip().splitlines()[-3:] + done.stderr.strip().splitlines()[-3:])
            raise ImageError(f"debootstrap from {mirror} failed (exit {done.returncode}): {tail[:300]}.",
                             hint="check that the mirror answers (apt-get update), or `docker load` a "
                                  "Debian bookworm image and set BED_BASE_IMAGE.")
        archive = Path(tmp) / "rootfs.tar"
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(archive), "."], check=True)
        repository, tag = OFFLINE_BASE.split(":")
        client.api.import_image_from_file(str(archive), repository=repository, tag=tag)
    image = find_image(client, OFFLINE_BASE)
    if image is None:
        raise ImageError(f"docker import of {OFFLINE_BASE} did not produce an image.",
                         hint="check the engine's log and free disk space.")
    console.step(f"bootstrapped {OFFLINE_BASE} ({float(image.attrs.get('Size', 0)) / 1e6:.0f} MB)")
    return str(image.id)


def apt_mirror(sources: tuple[Path, ...] = (Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list"))) -> str:
    """The host's Debian mirror, from its apt sources (deb822 or one-line form)."""
    files: list[Path] = []
    for source in sources:
        if source.is_dir():
            files += sorted(source.glob("*.sources")) + sorted(source.glob("*.list"))
        elif source.is_file():
            files.append(source)
    for file in files:
        for match in re.finditer(r"^(?:URIs:\s*|deb\s+(?:\[[^\]]*\]\s+)?)(\S+)", file.read_text(), re.MULTILINE):
            uri = match.group(1)
            if uri.startswith("http") and "security" not in uri:
                return uri
    return "http://deb.debian.org/debian"


def _ca_bytes(config: Config) -> bytes:
    """The CA bundle pip uses inside builds: BED_CA_BUNDLE, the host's, or certifi's."""
    if config.ca_bundle is not None:
        return config.ca_bundle.read_bytes()
    if HOST_CA_BUNDLE.is_file():
        return HOST_CA_BUNDLE.read_bytes()
    import certifi  # docker's requests brings it; a host without a system bundle still has this

    return Path(certifi.where()).read_bytes()


def _context(root: Path, spec: ImageSpec, ca: bytes) -> dict[str, bytes]:
    """The build context as {path: content}, pycache and editor debris left out."""
    files: dict[str, bytes] = {}
    for source, dest in spec.files:
        base = root / source
        if not base.exists():
            raise ImageError(f"{base} is missing, so the {spec.name} image cannot be built.",
                             hint="run bed from the project's root (a full checkout).")
        if base.is_file():
            files[dest] = base.read_bytes()
            continue
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            rel = path.relative_to(base)
            if "__pycache__" in rel.parts or path.suffix in (".pyc", ".swp") or rel.name.startswith(".#"):
                continue
            files[str(Path(dest) / rel)] = path.read_bytes()
    if spec.with_ca:
        files["ca.crt"] = ca
    return files


def _digest(context: dict[str, bytes], parent_id: str) -> str:
    h = hashlib.sha256(parent_id.encode())
    for name in sorted(context):
        h.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(context[name]).digest())
    return h.hexdigest()[:12]


def _tar(context: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in sorted(context):
            info = tarfile.TarInfo(name)
            info.size = len(context[name])
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(context[name]))
    buffer.seek(0)
    return buffer


def _build(client: docker.DockerClient, tag: str, context: dict[str, bytes], parent: str, console: Console) -> None:
    source = tag.split(":")[0].removeprefix("bed-")
    tail: list[str] = []
    try:
        for line in _build_lines(client, tag, context, parent):
            tail = [*tail, line][-8:]
            console.stream(f"build {source}", line)
    except docker.errors.BuildError as exc:
        raise ImageError(
            f"building {tag} failed: {exc.msg}",
            hint="if pip could not reach the package index, pass your CA bundle with BED_CA_BUNDLE; "
                 "the build output above shows the failing step.",
            details="\n".join(tail),
        ) from exc
    except (docker.errors.APIError, requests.RequestException) as exc:
        raise ImageError(f"the engine failed while building {tag}: {exc}.",
                         hint="check free disk space and `docker info`.") from exc


def _build_lines(client: docker.DockerClient, tag: str, context: dict[str, bytes], parent: str) -> Iterator[str]:
    stream = client.api.build(
        fileobj=_tar(context), custom_context=True, tag=tag, rm=True, forcerm=True, decode=True,
        buildargs={"BASE_IMAGE": parent}, labels={LABEL_PROJECT: "bed"},
    )
    for chunk in stream:
        if "error" in chunk:
            raise docker.errors.BuildError(str(chunk["error"]).strip(), [])
        for line in str(chunk.get("stream", "")).splitlines():
            if line.strip():
                yield line.rstrip()
