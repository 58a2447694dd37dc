"""The gateway under test: which LiteLLM the proxy and the runner run.

A gateway is one of (``litellm`` in ``[tool.bed]``, or ``BED_LITELLM``):

    "1.106.12"                       a PyPI release of litellm[proxy]
    { path = "../litellm" }          a local checkout of a fork (optionally base = "1.108.7")
    { image = "registry/gw:tag" }    an existing image, used as is

In the environment the same three read ``1.106.12``, ``path:../litellm`` (or any value that
starts with ``.``, ``/`` or ``~``) and ``image:registry/gw:tag``.

The pinned release (PINNED) installs from the committed images/litellm/requirements.lock;
any other release is resolved when its image is built, and the image keeps what it resolved
in /etc/bed/litellm.freeze. A fork's ``litellm/`` package is laid over the wheel of the release
its pyproject names (that wheel brings the compiled Rust bridge, which cannot be built here),
with that release's dependencies. This module owns the parsing, the build context of the
proxy image (a pure function of the inputs, so its hash is the tag), the reading of a failed
build's output, and the facts bed needs from an existing image (those last in bed/images/gateway.py).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError
from ..exec import Exec, Local
from . import paths

PINNED = "1.108.7"  # the release whose resolved dependencies are committed (requirements.lock)
FORK_PACKAGE = "litellm"  # the part of a fork that is built in: its Python package
# A fork's untracked files that git does not ignore are built in too: a module just written
# and imported, but not yet `git add`ed, is part of the tree the developer runs. The report
# says the tree was dirty whenever there are any.
FORK_INCLUDES_UNTRACKED = True

Kind = Literal["release", "path", "image"]
MAX_PYPROJECT = 1024 * 1024  # litellm's own is about 10 KB
_VERSION = re.compile(r"^\d+\.\d+\.\d+(\.\d+)?((a|b|rc|\.post|\.dev)\d+)*$")  # litellm releases are X.Y.Z


@dataclasses.dataclass(frozen=True)
class Gateway:
    """What the user asked for; a fork's commit, dirtiness and version are filled by ``checkout``."""

    kind: Kind
    value: str  # the version, the checkout's absolute path, or the image reference
    base: str = ""  # path: the release whose wheel and dependencies it is laid over ("" = its own version)
    commit: str = ""  # path: HEAD
    dirty: bool = False  # path: `git status --porcelain` was not empty
    untracked: int = 0  # path: untracked files built in (see FORK_INCLUDES_UNTRACKED)

    @property
    def release(self) -> str:
        """The PyPI release whose wheel and dependencies the image installs ("" for an image)."""
        return {"release": self.value, "path": self.base, "image": ""}[self.kind]

    def describe(self) -> str:
        """One line for the console and the report."""
        if self.kind == "release":
            how = "the committed lock" if self.value == PINNED else "resolved when its image is built"
            return f"litellm[proxy]=={self.value} from PyPI ({how})"
        if self.kind == "image":
            return f"the image {self.value}, used as is"
        state = "dirty" if self.dirty else "clean"
        extra = f", {self.untracked} untracked file(s) included" if self.untracked else ""
        commit = self.commit[:12] or "no commit"
        return f"the fork at {self.value} @ {commit} ({state}{extra}), over litellm[proxy]=={self.base}"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def parse(cls, raw: object, *, root: Path, where: str = "BED_LITELLM") -> Gateway:
        """A release string, a ``path:``/``image:`` string, or a one-key mapping; else a ConfigError."""
        if raw is None or raw == "":
            return cls("release", PINNED)
        if isinstance(raw, str):
            return _parse_text(raw.strip(), root, where)
        if isinstance(raw, Mapping):
            return _parse_mapping(raw, root, where)
        raise ConfigError(f"{where} is a {type(raw).__name__}, not a release, a path or an image.",
                          hint=f'write litellm = "{PINNED}", {{ path = "../litellm" }} or {{ image = "repo/gw:tag" }}.')


def _parse_text(text: str, root: Path, where: str) -> Gateway:
    if text.startswith("path:"):
        return _path_gateway(text.removeprefix("path:"), root, where, base="")
    if text.startswith(("/", ".", "~")):
        return _path_gateway(text, root, where, base="")
    if text.startswith("image:"):
        return _image_gateway(text.removeprefix("image:"), where)
    return Gateway("release", _release(text.removeprefix("litellm==").removeprefix("v"), where))


def _parse_mapping(raw: Mapping[Any, Any], root: Path, where: str) -> Gateway:
    keys = set(raw)
    if keys == {"image"}:
        return _image_gateway(_text(raw["image"], where, "image"), where)
    if keys in ({"path"}, {"path", "base"}):
        base = _release(_text(raw["base"], where, "base"), where) if "base" in raw else ""
        return _path_gateway(_text(raw["path"], where, "path"), root, where, base=base)
    if keys == {"release"}:
        return Gateway("release", _release(_text(raw["release"], where, "release"), where))
    shown = ", ".join(sorted(str(k) for k in keys)) or "no keys"
    raise ConfigError(f"{where} has {shown}; it takes exactly one of path, image or release.",
                      hint='write { path = "../litellm" } (base = "1.108.7" optional) or { image = "repo/gw:tag" }.')


def _text(value: object, where: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{key} must be a non-empty string, not {value!r}.",
                          hint=f'quote it: {key} = "..."')
    return value.strip()


def _release(text: str, where: str) -> str:
    if not _VERSION.match(text):
        raise ConfigError(f"{where}={text!r} is not a litellm release.",
                          hint=f'name a release like "{PINNED}", or path:DIR for a checkout, image:REF for an image.')
    return text


def _image_gateway(ref: str, where: str) -> Gateway:
    ref = ref.strip()
    if not ref or any(c.isspace() for c in ref):
        raise ConfigError(f"{where}: image reference {ref!r} is empty or has spaces.",
                          hint="name it like registry.example.com/gw:1.2 (docker images shows what the engine has).")
    return Gateway("image", ref)


def _path_gateway(text: str, root: Path, where: str, *, base: str) -> Gateway:
    path = (root / Path(text.strip()).expanduser()).resolve()
    if not path.is_dir():
        raise ConfigError(f"{where}: {path} is not a folder.",
                          hint="point path at your litellm checkout (relative paths start at the project root).")
    if not (path / FORK_PACKAGE / "__init__.py").is_file():
        raise ConfigError(f"{where}: {path} has no {FORK_PACKAGE}/__init__.py: not a litellm checkout.",
                          hint="point path at the folder that holds pyproject.toml and litellm/.")
    return Gateway("path", str(path), base=base)


# ---- a fork's checkout -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Checkout:
    gateway: Gateway  # with commit, dirty, untracked and base filled in
    files: tuple[str, ...]  # paths under the checkout that are built in, sorted


def checkout(gateway: Gateway) -> Checkout:
    """The files of a fork to build in, and its commit, dirtiness and base release."""
    path = Path(gateway.value)
    if not _git(path, "rev-parse", "--is-inside-work-tree", check=False).strip() == "true":
        raise ConfigError(f"the litellm checkout {path} is not a git work tree.",
                          hint="bed builds a fork's tracked files: run `git init && git add -A && git commit` there.")
    prefix = _git(path, "rev-parse", "--show-prefix").strip()
    if prefix:
        raise ConfigError(f"{path} is inside a git work tree but not at its top ({prefix.rstrip('/')}).",
                          hint="point path at the repository's top folder.")
    commit = _git(path, "rev-parse", "--verify", "-q", "HEAD", check=False).strip()
    status = _git(path, "status", "--porcelain", "--untracked-files=all")
    tracked = _split(_git(path, "ls-files", "-z", "--cached", "--", FORK_PACKAGE))
    untracked = (_split(_git(path, "ls-files", "-z", "--others", "--exclude-standard", "--", FORK_PACKAGE))
                 if FORK_INCLUDES_UNTRACKED else [])
    # A tracked file deleted in the work tree is listed by ls-files but has nothing to build.
    files = tuple(sorted(f for f in {*tracked, *untracked} if (path / f).is_file() and not _debris(f)))
    if not any(f == f"{FORK_PACKAGE}/__init__.py" for f in files):
        raise ConfigError(f"{path}: {FORK_PACKAGE}/__init__.py is not tracked by git.",
                          hint=f"git add {FORK_PACKAGE}/ and commit.")
    base = gateway.base or fork_version(path)
    done = dataclasses.replace(gateway, base=base, commit=commit, dirty=bool(status.strip()),
                               untracked=len([f for f in untracked if f in files]))
    return Checkout(done, files)


def fork_version(path: Path) -> str:
    """The release a fork builds on: its pyproject's version, less any local label (+acme)."""
    pyproject = path / "pyproject.toml"
    hint = 'name the release to build on: { path = "...", base = "1.108.7" }.'
    try:
        data = tomllib.loads(paths.read_text(pyproject, MAX_PYPROJECT, "the fork's pyproject", hint=hint))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot read the fork's version from {pyproject}: {exc}.",
                          hint='name the release to build on: { path = "...", base = "1.108.7" }.') from None
    version = data.get("project", {}).get("version") or data.get("tool", {}).get("poetry", {}).get("version")
    if not isinstance(version, str) or not _VERSION.match(version.split("+")[0]):
        raise ConfigError(f"{pyproject} declares no plain version ({version!r}).",
                          hint='name the release to build on: { path = "...", base = "1.108.7" }.')
    return version.split("+")[0]


def _git(path: Path, *args: str, check: bool = True, run: Exec | None = None) -> str:
    done = (run or Local()).capture(["git", "-C", str(path), *args], ok=(0,) if check else None, error=ConfigError,
                       hint="check that the litellm checkout is a healthy git repository (git status); "
                            "bed needs git (apt-get install -y git) to read it.")
    return done.stdout.decode("utf-8", "surrogateescape")


def _split(nul_separated: str) -> list[str]:
    return [f for f in nul_separated.split("\0") if f]


def _debris(name: str) -> bool:
    return "__pycache__" in name.split("/") or name.endswith((".pyc", ".pyo"))




PINNED_GATEWAY = Gateway("release", PINNED)  # the default: the release bed's committed lock pins
