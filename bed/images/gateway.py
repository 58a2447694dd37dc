"""The proxy image of the gateway under test: its build context (a release from the committed
lock or resolved at build time, or a fork laid over its release), what a failed build says, the
recorded dependencies, and an existing image's facts (its interpreter with litellm, the adapter
that makes it the runner's base, the proxy's command in it).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..config.gateway import PINNED, Gateway, checkout
from ..engine.labels import PROJECT
from ..engine.protocol import Engine
from ..errors import ImageError

IMAGE_DIR = "images/context/litellm"
FREEZE_PATH = "/etc/bed/litellm.freeze"  # in the proxy image: what install.sh installed
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


# ---- the proxy image's build context -------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BuildPlan:
    gateway: Gateway  # complete: a fork's commit and dirtiness are known
    context: dict[str, bytes]  # the litellm image's build context ({} for an existing image)

    def explain(self, lines: list[str]) -> ImageError | None:
        """A failed build of this gateway, explained from its last output lines."""
        return build_failure(self.gateway, lines)


def plan(gateway: Gateway, source: Path) -> BuildPlan:
    """The build context of the proxy image for a release or a fork (an image needs none).

    Everything that decides the image is in the context, so its hash (with the parent's id)
    is the image's tag: the Dockerfile, the scripts, the lock or the release's requirement,
    a fork's files and the labels that name the fork's commit.
    """
    if gateway.kind == "image":
        return BuildPlan(gateway, {})
    image_dir = source / IMAGE_DIR
    dockerfile = _read(image_dir / "Dockerfile")
    context: dict[str, bytes] = {
        "gateway/install.sh": _read(image_dir / "install.sh"),
        "gateway/build-tools.lock": _read(image_dir / "build-tools.lock"),  # uv, with its hashes
        "gateway/overlay.sh": _read(image_dir / "overlay.sh"),
        "gateway/strip.sh": _read(image_dir / "strip.sh"),
        "gateway/prune.sh": _read(image_dir / "prune.sh"),
        "gateway/compile.sh": _read(image_dir / "compile.sh"),
    }
    done = gateway
    if gateway.kind == "path":
        tree = checkout(gateway)
        done = tree.gateway
        root = Path(gateway.value)
        for name in tree.files:
            context[f"fork/{name}"] = (root / name).read_bytes()
        dockerfile += b"\n" + _read(image_dir / "fork.Dockerfile") + _labels(done)
    if done.release == PINNED:
        context["gateway/requirements.lock"] = _read(image_dir / "requirements.lock")
    else:
        # What the lock adds to LiteLLM (scripts/lock.sh) goes with every release, so legs compare alike:
        # without google-auth a release's vertex_ai adapter fails on import ("No module named 'google'").
        context["gateway/requirements.in"] = f"litellm[proxy]=={done.release}\ngoogle-auth\n".encode()
    context["Dockerfile"] = dockerfile
    return BuildPlan(done, context)


def _labels(gateway: Gateway) -> bytes:
    labels = {"bed.gateway.kind": gateway.kind, "bed.gateway.path": gateway.value,
              "bed.gateway.commit": gateway.commit, "bed.gateway.dirty": str(gateway.dirty).lower(),
              "bed.gateway.base": gateway.base}
    return ("LABEL " + " ".join(f"{k}={json.dumps(v)}" for k, v in labels.items()) + "\n").encode()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImageError(f"{path} is missing ({exc.strerror}), so the proxy image cannot be built.",
                         hint="run bed from the project's root (a full checkout).") from None


# ---- a failed build, read --------------------------------------------------------------------

_UV_MISSING = (
    # uv: "Because litellm-proxy was not found in the package registry and litellm[proxy]>=1.110.2
    # depends on litellm-proxy==1.110.2, ..."
    re.compile(r"was not found in the package registry and \S+ depends on (?P<req>[^\s,]+)"),
    # uv: "Because there is no version of litellm-proxy-extras==0.4.113 and ..."
    re.compile(r"there is no version of (?P<req>[^\s,]+)"),
    # uv: "Because only litellm<=1.110.2 is available and you require litellm==9.9.9, ..."
    re.compile(r"is available and you require (?P<req>[^\s,]+)"),
    # pip: "Could not find a version that satisfies the requirement litellm-proxy==1.110.2 (from ...)"
    re.compile(r"satisfies the requirement (?P<req>[^\s,]+)"),
)
_NETWORK = re.compile(r"(Failed to fetch|invalid peer certificate|UnknownIssuer|certificate verify failed|"
                      r"dns error|Could not connect|Connection refused|timed out)", re.IGNORECASE)


def unresolvable(lines: Iterable[str]) -> str | None:
    """The requirement uv (or pip) could not resolve, named in a failed build's output."""
    text = _ANSI.sub("", "\n".join(lines))
    for pattern in _UV_MISSING:
        found = pattern.search(text)
        if found:
            return found.group("req").rstrip(".")
    return None


def build_failure(gateway: Gateway, lines: Iterable[str]) -> ImageError | None:
    """An IMAGE_ERROR that names why the gateway could not be installed, when the output says so."""
    shown = list(lines)
    requirement = unresolvable(shown)
    if requirement is not None:
        what = gateway.describe() if gateway.kind == "path" else f"litellm[proxy]=={gateway.release}"
        if gateway.kind == "path":
            hint = (f"name a published release to build the fork on: {{ path = \"{gateway.value}\", "
                    f"base = \"{PINNED}\" }}.")
        else:
            hint = f"choose a release whose proxy extra resolves (the pinned {PINNED} does), or build your own image."
        return ImageError(f"{what} cannot be installed: {requirement} cannot be resolved from the package index.",
                          hint=hint, details="\n".join(_ANSI.sub("", s) for s in shown[-8:]))
    if any(_NETWORK.search(s) for s in shown):
        return ImageError(f"the build of {gateway.describe()} could not reach the package index.",
                          hint="pass your CA bundle with BED_CA_BUNDLE (corporate TLS proxy), or check the network.",
                          details="\n".join(_ANSI.sub("", s) for s in shown[-8:]))
    return None


# ---- an image's recorded dependencies ------------------------------------------------------------


def parse_freeze(text: str) -> dict[str, str]:
    """``name==version`` lines (uv/pip freeze) as {normalised name: version}; ``@`` URLs kept whole."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            name, sep, version = line.partition(" @ ")
        found[re.sub(r"[-_.]+", "-", name.strip()).lower()] = version.strip()
    return found


def diff_freezes(old: Mapping[str, str], new: Mapping[str, str]) -> dict[str, tuple[str | None, str | None]]:
    """Every distribution whose version differs between two gateways: {name: (old, new)}."""
    return {name: (old.get(name), new.get(name)) for name in sorted({*old, *new}) if old.get(name) != new.get(name)}


# ---- an existing image --------------------------------------------------------------------------

# Run with each candidate interpreter (network none) until one imports litellm.
PROBE = (
    "import importlib.util as u, json, sys\n"
    "facts = {'python': sys.executable, 'prefix': sys.prefix, 'base_prefix': sys.base_prefix,\n"
    "         'version': '%d.%d.%d' % sys.version_info[:3], 'pip': u.find_spec('pip') is not None,\n"
    "         'ensurepip': u.find_spec('ensurepip') is not None}\n"
    "try:\n"
    "    from importlib.metadata import version\n"
    "    facts['litellm'] = version('litellm')\n"
    "    facts['litellm_file'] = u.find_spec('litellm').origin\n"
    "except Exception as exc:\n"
    "    facts['error'] = '%s: %s' % (type(exc).__name__, exc)\n"
    "print('BED-PROBE ' + json.dumps(facts))\n"
)
CANDIDATES = ("python3", "python", "/opt/venv/bin/python", "/app/.venv/bin/python", "/usr/local/bin/python3",
              "/usr/bin/python3")


@dataclasses.dataclass(frozen=True)
class ImageFacts:
    python: str  # the interpreter that imports litellm
    prefix: str
    base_prefix: str
    version: str  # Python's
    litellm: str
    pip: bool
    ensurepip: bool

    @property
    def in_venv(self) -> bool:
        return self.prefix != self.base_prefix


def parse_probe(output: str) -> ImageFacts | str:
    """The probe's line as facts, or the reason this interpreter will not do."""
    line = next((s for s in output.splitlines() if s.startswith("BED-PROBE ")), None)
    if line is None:
        return "it printed no probe line"
    data = json.loads(line.removeprefix("BED-PROBE "))
    if "litellm" not in data:
        return f"{data['python']} cannot import litellm ({data.get('error', 'unknown error')})"
    return ImageFacts(python=data["python"], prefix=data["prefix"], base_prefix=data["base_prefix"],
                      version=data["version"], litellm=data["litellm"], pip=data["pip"],
                      ensurepip=data["ensurepip"])


def runner_adapter(facts: ImageFacts, ref: str) -> bytes:
    """A Dockerfile that makes an existing image a base for bed's runner image.

    The runner runs ``/opt/venv/bin/python -m pytest`` and installs pytest with
    ``/opt/venv/bin/python -m pip``: this points /opt/venv at the interpreter that imports the
    image's litellm (the venv itself, or a bin/python link to a system interpreter), so the
    smokes import the very litellm the proxy runs. A RUN in exec form needs no shell.
    """
    if not (facts.pip or facts.ensurepip):
        raise ImageError(f"{ref} has litellm {facts.litellm} at {facts.python}, but neither pip nor ensurepip "
                         "to add the runner's pytest.",
                         hint="add pip to the image (python -m ensurepip), or test a release or a checkout instead.")
    if facts.in_venv:
        link = f"import os; os.path.exists('/opt/venv') or os.symlink({facts.prefix!r}, '/opt/venv')"
    else:
        link = ("import os; os.makedirs('/opt/venv/bin', exist_ok=True); "
                f"os.path.exists('/opt/venv/bin/python') or os.symlink({facts.python!r}, '/opt/venv/bin/python')")
    steps = [
        "ARG BASE_IMAGE",
        "FROM ${BASE_IMAGE}",
        "USER root",
        "COPY ca.crt /etc/bed/ca.crt",
        "ENV PIP_CERT=/etc/bed/ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1 "
        "LITELLM_LOCAL_MODEL_COST_MAP=True",
        f"RUN {json.dumps([facts.python, '-c', link])}",
    ]
    if not facts.pip:
        steps.append(f"RUN {json.dumps([facts.python, '-m', 'ensurepip'])}")
    steps.append("ENTRYPOINT []")
    return ("\n".join(steps) + "\n").encode()


def proxy_command(facts: ImageFacts, config_path: str, port: int) -> list[str]:
    """The proxy's command in an existing image: its own interpreter, bed's config and port.

    The image's entrypoint is replaced: official images start with database migrations that
    need a database bed does not run.
    """
    # 0.0.0.0 inside the container: the proxy must answer on the bed network; bed publishes
    # its port on the host's loopback only.
    return [facts.python, "-m", "litellm.proxy.proxy_cli", "--config", config_path,
            "--host", "0.0.0.0", "--port", str(port), "--num_workers", "1"]  # noqa: S104


def probe_image(engine: Engine, ref: str) -> ImageFacts:
    """The interpreter in ``ref`` that has litellm, found by running each candidate (no network)."""
    if engine.image(ref) is None:
        engine.pull(ref)
    tried: list[str] = []
    for candidate in CANDIDATES:
        done = engine.run_once(ref, ["-c", PROBE], {PROJECT: "bed"}, entrypoint=[candidate])
        if done.exit_code != 0:
            tried.append(f"{candidate}: exit {done.exit_code}")
            continue
        facts = parse_probe(done.output)
        if isinstance(facts, ImageFacts):
            return facts
        tried.append(f"{candidate}: {facts}")
    raise ImageError(f"no Python interpreter in {ref} imports litellm ({'; '.join(tried)[:400]}).",
                     hint="the image must hold litellm in a python3 on its PATH (or /opt/venv, /app/.venv).")
