"""The locks (`make lock`, scripts/lock.sh): every pin carries its hashes, every install of a lock
checks them, and a hash that does not match makes pip and uv refuse the install, loudly.

The refusals are shown offline: a wheel built here, served from a folder (--no-index), installed
with the flags bed's installs use. tests/integration/test_locks.py does the same against the real
index: `make venv` and an image build with a tampered lock.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "bed" / "images" / "context"
HOST_LOCKS = (REPO / "requirements.lock", REPO / "requirements-dev.lock")
IMAGE_LOCKS = (IMAGES / "litellm" / "requirements.lock", IMAGES / "litellm" / "build-tools.lock",
               IMAGES / "shim" / "requirements.lock", IMAGES / "runner" / "requirements.lock")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def entries(lock: Path) -> dict[str, tuple[str, list[str]]]:
    """{name: (version, [sha256 ...])} of a hashed requirements file."""
    found: dict[str, tuple[str, list[str]]] = {}
    name = ""
    for line in lock.read_text().splitlines():
        pin = PIN.match(line)
        if pin:
            name = pin.group(1).lower().replace("_", "-")
            found[name] = (pin.group(2), [])
        elif line.strip().startswith("--hash=sha256:") and name:
            found[name][1].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
        elif line and not line.lstrip().startswith("#"):
            raise AssertionError(f"{lock.name}: a line that is neither a pin, a hash nor a comment: {line!r}")
    return found


@pytest.mark.parametrize("lock", HOST_LOCKS + IMAGE_LOCKS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_pin_of_every_lock_carries_its_hashes(lock: Path) -> None:
    pins = entries(lock)
    assert pins, f"{lock} pins nothing"
    for name, (_, hashes) in pins.items():
        assert hashes, f"{lock.name}: {name} has no hash"
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name
    text = lock.read_text()
    assert text.startswith("# bed lock: "), "the header says what it is and how it is installed"
    assert not re.search(r"(/tmp/|/work/|/home/|/root/)", text), "a lock names its inputs by file name: a re-lock " \
                                                                 "elsewhere must not change it"


def test_the_dev_lock_holds_the_runtime_locks_very_pins_and_constraints_txt_mirrors_it() -> None:
    runtime, dev = (entries(lock) for lock in HOST_LOCKS)
    assert {n: v for n, (v, _) in runtime.items()} == {n: dev[n][0] for n in runtime}
    assert {"setuptools", "docker", "testcontainers", "httpx", "pyyaml"} <= set(runtime)  # runtime + build backend
    assert {"pytest", "mypy", "uv", "jsonschema"} <= set(dev)
    assert "matplotlib" not in dev
    constraints = {m.group(1).lower(): m.group(2) for line in (REPO / "constraints.txt").read_text().splitlines()
                   if (m := PIN.match(line))}
    assert constraints == {n: v for n, (v, _) in dev.items()}


def test_the_runner_lock_adds_only_what_the_gateways_venv_lacks() -> None:
    gateway = entries(IMAGES / "litellm" / "requirements.lock")
    runner = entries(IMAGES / "runner" / "requirements.lock")
    assert {"pytest", "pytest-xdist", "anthropic"} <= set(runner)
    assert not set(runner) & set(gateway), "a package of the gateway's venv would be replaced in the runner"
    assert gateway["litellm"][0] == _pinned()
    assert entries(IMAGES / "litellm" / "build-tools.lock")["uv"][0] == re.search(
        r"^UV_VERSION=([0-9.]+)", (IMAGES / "litellm" / "install.sh").read_text(), re.M).group(1)  # type: ignore[union-attr]


def _pinned() -> str:
    from bed.config.gateway import PINNED

    return PINNED


@pytest.mark.parametrize(("path", "install"), [
    ("Makefile", "pip install -q --require-hashes -r requirements.lock"),
    ("Makefile", "pip install -q --require-hashes -r requirements-dev.lock"),
    ("images/shim/Dockerfile", "pip install --require-hashes -r /tmp/requirements.lock"),
    ("images/runner/Dockerfile", "pip install --require-hashes -r /tmp/runner-requirements.lock"),
    ("images/litellm/install.sh", '--require-hashes --target /tmp/uv -r "$here/build-tools.lock"'),
    ("images/litellm/install.sh", 'requirements="$here/requirements.lock" hashes=--require-hashes'),
    ("scripts/ensure-compose.sh", 'pip install -q --require-hashes -r "$entry"'),
])
def test_every_install_of_a_lock_requires_its_hashes(path: str, install: str) -> None:
    assert install in (REPO / path).read_text()


def test_no_install_of_ours_goes_around_the_locks() -> None:
    for path in ("Makefile", "scripts/ensure-compose.sh", *(str(p.relative_to(REPO)) for p in IMAGES.glob("*/*"))):
        text = (REPO / path).read_text(errors="replace")
        for line in re.findall(r"^.*\b(?:pip|uv pip) install\b.*$", text, re.M):
            if "suite-requirements" in line or "mutmut" in line:  # your suite's packages; `make mutate`'s tool
                continue
            assert "--require-hashes" in line or "$hashes" in line or "--no-deps" in line, f"{path}: {line.strip()}"


# ---- a tampered hash, refused --------------------------------------------------------------------


def wheel(folder: Path, name: str = "bed_tamper_probe", version: str = "1.0") -> Path:
    """A minimal valid wheel of one module, built here (nothing is downloaded)."""
    dist = f"{name}-{version}.dist-info"
    files = {f"{name}.py": b"VALUE = 1\n",
             f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
             f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: bed-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = "".join(f"{path},sha256={_b64(hashlib.sha256(data).digest())},{len(data)}\n"
                     for path, data in files.items())
    files[f"{dist}/RECORD"] = (record + f"{dist}/RECORD,,\n").encode()
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return path


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def lock_for(built: Path, folder: Path, *, tampered: bool) -> Path:
    digest = hashlib.sha256(built.read_bytes()).hexdigest()
    if tampered:
        digest = ("0" if digest[0] != "0" else "1") + digest[1:]
    lock = folder / ("tampered.lock" if tampered else "good.lock")
    lock.write_text(f"bed-tamper-probe==1.0 \\\n    --hash=sha256:{digest}\n")
    return lock


@pytest.mark.parametrize("tampered", [False, True], ids=["good", "tampered"])
def test_pip_with_require_hashes_refuses_a_tampered_lock(tmp_path: Path, tampered: bool) -> None:
    built = wheel(tmp_path)
    lock = lock_for(built, tmp_path, tampered=tampered)
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--require-hashes", "--no-index", "--find-links",
                           str(tmp_path), "--target", str(tmp_path / "site"), "--no-cache-dir", "-r", str(lock)],
                          capture_output=True, text=True, timeout=120, check=False)
    if not tampered:
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "site" / "bed_tamper_probe.py").is_file()
        return
    assert done.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE" in done.stderr
    assert "bed-tamper-probe==1.0" in done.stderr
    assert not (tmp_path / "site" / "bed_tamper_probe.py").exists()


@pytest.mark.parametrize("tampered", [False, True], ids=["good", "tampered"])
def test_uv_with_require_hashes_refuses_a_tampered_lock(tmp_path: Path, tampered: bool) -> None:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent))
    assert uv, "uv is in the dev extra (requirements-dev.lock)"
    built = wheel(tmp_path)
    lock = lock_for(built, tmp_path, tampered=tampered)
    done = subprocess.run([uv, "pip", "install", "--require-hashes", "--no-index", "--find-links", str(tmp_path),
                           "--target", str(tmp_path / "site"), "--no-cache", "-r", str(lock)],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": str(tmp_path)})
    if not tampered:
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "site" / "bed_tamper_probe.py").is_file()
        return
    assert done.returncode != 0
    assert "Hash mismatch" in done.stderr
    assert "bed-tamper-probe" in done.stderr
    assert not (tmp_path / "site" / "bed_tamper_probe.py").exists()
