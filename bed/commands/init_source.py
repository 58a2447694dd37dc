"""Where the running bed was installed from, and the pip requirement that installs the same bed in CI.

`bed init` writes a CI install step; a step that names a release the package index does not
have turns the first push red. So it installs the bed the user has, found from how pip (or
pipx, or uv) installed it, as PEP 610's ``direct_url.json`` records it:

    a VCS URL         ``bed-readiness @ git+https://host/bed.git@<commit>`` (the exact commit)
    an archive URL    ``bed-readiness @ https://host/bed_readiness-0.2.0-py3-none-any.whl``
    a local wheel     vendored into the repository (``.bed/<wheel>``), installed from there
    a local checkout  (``pip install -e .``, say) a wheel built from it, vendored the same way
    nothing recorded  the package index: ``bed-readiness==<version>``, from ``PIP_INDEX_URL``
                      when set; the index is asked whether it has that version (a warning when not)

``--install`` overrides all of it: a wheel file (vendored), a checkout folder (built, vendored)
or any pip requirement (used as given).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import httpx
import tenacity

from ..errors import ConfigError
from ..redact import USERINFO

DIST = "bed-readiness"
VENDOR = ".bed"  # where a vendored wheel goes, inside the repository
DEFAULT_INDEX = "https://pypi.org/simple"
LOOKUP_TIMEOUT_S = 5.0
LOOKUP_TRIES = 3
BUILD_TIMEOUT_S = 300


@dataclasses.dataclass(frozen=True)
class Install:
    """How CI installs bed: a pip requirement, how it was found, and what must come with it."""

    requirement: str  # what `pip install` gets: a path in the repository, a URL, or name==version
    how: str  # how it was found, as a person reads it
    wheel: Path | None = None  # a wheel file to copy into the repository (at ``requirement``)
    index_url: str | None = None  # a package index other than PyPI (PIP_INDEX_URL in CI)
    warning: str = ""  # why the first push may still fail; "" when nothing is known against it
    built: bool = False  # ``wheel`` was built into a temporary folder of its own (``discard`` removes it)

    def discard(self) -> None:
        """Remove the temporary folder of a wheel bed init built (once it is copied, or not needed)."""
        if self.built and self.wheel is not None:
            shutil.rmtree(self.wheel.parent, ignore_errors=True)


class Distribution(Protocol):
    """What detection reads of an installed distribution (importlib.metadata's has it)."""

    @property
    def version(self) -> str: ...

    def read_text(self, filename: str) -> str | None: ...


Builder = Callable[[Path, Path], Path]  # (checkout, into folder) -> the wheel built
Lookup = Callable[[str, str, str], bool | None]  # (index, name, version) -> has it? None: cannot tell


def detect(environ: Mapping[str, str], *, dist: Distribution | None = None, build: Builder | None = None,
           lookup: Lookup | None = None) -> Install:
    """The install of the running bed, as CI should repeat it."""
    build = build or functools.partial(build_wheel, environ=environ)
    if dist is None:
        try:
            dist = importlib.metadata.distribution(DIST)
        except importlib.metadata.PackageNotFoundError:  # run from a source tree on sys.path, not installed
            return from_checkout(Path(__file__).resolve().parents[2], "bed runs from a source tree", build)
    raw = dist.read_text("direct_url.json")
    if not raw:
        return from_index(dist.version, environ, lookup or index_has)
    try:
        direct = json.loads(raw)
        url = str(direct["url"])
    except (ValueError, KeyError, TypeError):
        return from_index(dist.version, environ, lookup or index_has,
                          note="its direct_url.json is unreadable, so the index is assumed")
    return from_direct(direct, url, dist.version, environ, build, lookup)


def from_direct(direct: Mapping[str, Any], url: str, version: str, environ: Mapping[str, str],
                build: Builder, lookup: Lookup | None) -> Install:
    """PEP 610: a VCS URL, an archive URL (remote or a local file), or a local folder."""
    vcs = direct.get("vcs_info")
    if isinstance(vcs, Mapping):
        commit = vcs.get("commit_id") or vcs.get("requested_revision")
        pinned = f"{vcs.get('vcs', 'git')}+{url}" + (f"@{commit}" if commit else "")
        return Install(f"{DIST} @ {pinned}{_subdirectory(direct)}", f"installed from {vcs.get('vcs', 'git')}, "
                       f"pinned to {'commit ' + str(commit)[:12] if commit else 'its default branch'}")
    parts = urlsplit(url)
    local = Path(unquote(parts.path)) if parts.scheme == "file" else None
    if local is None:
        return Install(f"{DIST} @ {url}", "installed from that URL")
    if "dir_info" in direct:
        editable = " (editable)" if direct["dir_info"].get("editable") else ""
        how = f"installed from the checkout {local}{editable}"
        if not local.is_dir():
            return _lost(version, environ, lookup, f"{how}, which is gone")
        return from_checkout(local, how, build)
    if local.suffix == ".whl" and local.is_file():
        return vendored(local, f"installed from the wheel {local}")
    return _lost(version, environ, lookup, f"installed from {local}, which is not a wheel file here")


def _lost(version: str, environ: Mapping[str, str], lookup: Lookup | None, why: str) -> Install:
    found = from_index(version, environ, lookup or index_has, note=why)
    return dataclasses.replace(found, warning=found.warning or (
        f"bed was {why}; CI will look for {DIST}=={version} on the index instead"))


def _subdirectory(direct: Mapping[str, Any]) -> str:
    sub = direct.get("subdirectory")
    return f"#subdirectory={sub}" if sub else ""


def vendored(wheel: Path, how: str) -> Install:
    return Install(f"./{VENDOR}/{wheel.name}", f"{how}; vendored into {VENDOR}/", wheel=wheel)


def from_checkout(source: Path, how: str, build: Builder) -> Install:
    """A wheel built from a checkout (CI cannot see a folder on this machine), to vendor."""
    into = Path(tempfile.mkdtemp(prefix="bed-init-wheel-"))
    try:
        wheel = build(source, into)
    except BaseException:
        shutil.rmtree(into, ignore_errors=True)
        raise
    return dataclasses.replace(vendored(wheel, f"{how}: a wheel built from it"), built=True)


def from_index(version: str, environ: Mapping[str, str], lookup: Lookup, note: str = "") -> Install:
    """``bed-readiness==version`` from the index pip uses here; the index is asked whether it has it."""
    index = (environ.get("PIP_INDEX_URL") or "").strip()
    warning = ""
    if index and USERINFO.search(index):
        warning = ("PIP_INDEX_URL holds credentials, which bed init does not write into CI files: set "
                   "PIP_INDEX_URL as a CI secret")
        index = USERINFO.sub("", index)
    where = index or DEFAULT_INDEX
    has = lookup(where, DIST, version)
    if has is False:
        warning = warning or (f"{where} has no {DIST} {version}: the CI install would fail; install bed from a wheel "
                              "or a URL CI can reach and pass it with --install")
    elif has is None and not warning:
        warning = f"could not ask {where} whether it has {DIST} {version}"
    how = "installed from a package index" + (f" ({note})" if note else "")
    return Install(f"{DIST}=={version}", how, index_url=index or None, warning=warning)


def given(value: str, root: Path, environ: Mapping[str, str], *, build: Builder | None = None) -> Install:
    """``--install VALUE``: a wheel file (vendored unless already in the repository), a checkout
    folder (a wheel built from it and vendored), or a pip requirement used as it is."""
    build = build or functools.partial(build_wheel, environ=environ)
    value = value.strip()
    if not value:
        raise ConfigError("--install is empty.", hint=f"give a wheel file, a URL or a requirement ({DIST}==X.Y.Z).")
    path = Path(value).expanduser()
    if path.suffix == ".whl" and path.is_file():
        path = path.resolve()
        if path.is_relative_to(root):
            return Install(f"./{path.relative_to(root).as_posix()}", "named with --install: a wheel in the repository")
        return vendored(path, "named with --install: a wheel file")
    if path.is_dir() and (path / "pyproject.toml").is_file():
        return from_checkout(path.resolve(), f"named with --install: the checkout {path}", build)
    if value.endswith(".whl") and "://" not in value:
        raise ConfigError(f"--install {value}: no such wheel file.", hint="give the path of a bed wheel you built.")
    return Install(value, "named with --install")


# --- the two outside calls: pip to build a wheel, the index to look a release up ------------------

def build_wheel(source: Path, into: Path, environ: Mapping[str, str]) -> Path:
    """``pip wheel --no-deps`` of a checkout, with the pip of the running Python (and the
    environment bed was given: pip's index, proxy and certificate settings)."""
    argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
            "--wheel-dir", str(into), str(source)]
    # A fixed date in the zip entries: the same checkout builds the same bytes, so a second
    # `bed init` finds the vendored wheel unchanged instead of a "new" build of the same code.
    env = {**environ, "SOURCE_DATE_EPOCH": environ.get("SOURCE_DATE_EPOCH", "315532800")}
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"cannot build a wheel of {source} ({exc}).", hint=_BUILD_HINT) from None
    wheels = sorted(into.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        last = [ln for ln in (done.stderr + done.stdout).splitlines() if ln.strip()][-1:] or ["no output"]
        raise ConfigError(f"cannot build a wheel of {source}: pip exited {done.returncode} ({last[0].strip()}).",
                          hint=_BUILD_HINT)
    return wheels[0]


_BUILD_HINT = ("build one yourself (pip wheel --no-deps -w dist .) and pass --install dist/<the wheel>, or pass "
               "--install with a URL CI can reach")


class _Transient(Exception):
    """An index answer worth asking again (5xx)."""


def index_has(index: str, name: str, version: str, *, transport: httpx.BaseTransport | None = None) -> bool | None:
    """Does the index (PEP 503 simple API) list a file of ``name`` ``version``? None: it did not answer.

    Asked at most LOOKUP_TRIES times (tenacity), only again on a transport error or a 5xx."""
    url = f"{index.rstrip('/')}/{_normalised(name)}/"

    @tenacity.retry(retry=tenacity.retry_if_exception_type((httpx.TransportError, _Transient)),
                    stop=tenacity.stop_after_attempt(LOOKUP_TRIES), wait=tenacity.wait_exponential(0.2, max=2),
                    reraise=True)
    def ask(client: httpx.Client) -> httpx.Response:
        answer = client.get(url, headers={"Accept": "application/vnd.pypi.simple.v1+json, text/html;q=0.1"})
        if answer.status_code >= 500:
            raise _Transient(str(answer.status_code))
        return answer

    try:
        with httpx.Client(timeout=LOOKUP_TIMEOUT_S, follow_redirects=True, transport=transport) as client:
            answer = ask(client)
    except (httpx.HTTPError, _Transient):
        return None
    if answer.status_code == 404:
        return False
    if answer.status_code != 200:
        return None
    return any(_names(file, name, version) for file in _files(answer))


def _files(answer: httpx.Response) -> list[str]:
    """The file names an index page lists: PEP 691 JSON, else PEP 503 HTML's anchor texts."""
    if "json" in answer.headers.get("content-type", ""):
        try:
            return [str(f.get("filename", "")) for f in answer.json().get("files", []) if isinstance(f, dict)]
        except (ValueError, AttributeError):
            return []
    return re.findall(r">\s*([^<>]+?)\s*</a>", answer.text)


def _names(file: str, name: str, version: str) -> bool:
    """Is ``file`` a wheel or an sdist of ``name`` ``version``?"""
    if file.endswith(".whl"):
        parts = file[:-4].split("-")
        found = parts[:2] if len(parts) >= 5 else []
    else:
        stem = re.sub(r"\.(tar\.gz|zip|tar\.bz2)$", "", file)
        found = stem.rsplit("-", 1) if stem != file else []
    return len(found) == 2 and _normalised(found[0]) == _normalised(name) and found[1] == version


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
