"""Fetch the agent clients' native binaries from the npm registry, as package-lock.json pins them.

npm itself is not needed for this: each client is one platform package whose tarball carries a
static binary, and the lock pins each package's version and integrity hash. So this reads the
lock, downloads each tarball from the registry (through the CA bundle bed gives every build),
checks it against the lock's integrity hash, and extracts the one binary it needs. It replaces
`apt-get install nodejs npm && npm ci`: Debian's npm alone pulls in hundreds of packages, which
took most of this image's build time.

    python3 fetch.py LOCK OUT_DIR      (REGISTRY: another npm registry; default the public one)
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import ssl
import sys
import tarfile
import urllib.request
from pathlib import Path

REGISTRY = os.environ.get("REGISTRY", "https://registry.npmjs.org").rstrip("/")
CA_BUNDLE = "/etc/bed/ca.crt"
# The lock's package entry -> (the binary's path in the tarball, its name on PATH).
BINARIES = {
    "node_modules/@openai/codex-linux-x64": ("package/vendor/x86_64-unknown-linux-musl/bin/codex", "codex"),
    "node_modules/@anthropic-ai/claude-code-linux-x64": ("package/claude", "claude"),
}


def tarball_url(key: str, entry: dict[str, str]) -> str:
    """The registry URL npm would fetch: an aliased package (`npm:@openai/codex@…`) carries its
    real name in the lock's `name` field."""
    package = entry.get("name") or key.split("node_modules/", 1)[1]
    return f"{REGISTRY}/{package}/-/{package.rsplit('/', 1)[-1]}-{entry['version']}.tgz"


def verified(data: bytes, integrity: str, url: str) -> bytes:
    algorithm, _, expected = integrity.partition("-")
    got = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if got != expected:
        sys.exit(f"bed: {url} does not match package-lock.json's integrity ({algorithm}); not installed")
    return data


def main(lock_path: str, out: str) -> None:
    packages = json.loads(Path(lock_path).read_text())["packages"]
    context = ssl.create_default_context(cafile=CA_BUNDLE)
    Path(out).mkdir(parents=True, exist_ok=True)
    for key, (member, name) in BINARIES.items():
        entry = packages[key]
        url = tarball_url(key, entry)
        with urllib.request.urlopen(url, context=context, timeout=600) as response:  # noqa: S310 - https registry
            data = verified(response.read(), entry["integrity"], url)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            source = tar.extractfile(member)
            if source is None:
                sys.exit(f"bed: {url} has no file {member}")
            target = Path(out) / name
            target.write_bytes(source.read())
        target.chmod(0o755)
        print(f"bed: {name} from {url} ({len(data) / 1e6:.0f} MB, integrity checked)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
