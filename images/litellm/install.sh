#!/bin/sh
# Installs the gateway under test into /opt/venv with uv, then records what was installed.
#
# Input (next to this script, put there by bed): requirements.lock (the pinned release: exactly
# these versions, each download checked against the lock's hashes) or requirements.in (any other
# release: `litellm[proxy]==X`, resolved now: nothing to check it against), and build-tools.lock
# (uv itself, hash-checked too). Both locks come from `make lock` (scripts/lock.sh).
# Output: /etc/bed/litellm.freeze (every installed distribution, `name==version`), which bed
# reads back to record and diff gateways.
#
# uv, not pip: it installs the 118-package lock in seconds where pip took 42 s. uv ignores pip's
# configuration, so it is given the CA bundle explicitly (corporate TLS proxies, our CI);
# UV_SYSTEM_CERTS is 0.13's name for the older UV_NATIVE_TLS, which now prints a deprecation warning.
# Debug symbols: see strip.sh. Dependencies' tests and stubs: see prune.sh. Bytecode: see compile.sh.
# uv itself is installed into /tmp and removed in the same layer: it is a build tool, not part
# of the gateway, and 38 MB.
set -eu
UV_VERSION=0.13.8  # what scripts/lock.sh pins, with its hashes, in build-tools.lock
here=/tmp/bed-gateway
venv=/opt/venv
export UV_SYSTEM_CERTS=1 SSL_CERT_FILE=/etc/bed/ca.crt UV_NO_CACHE=1 UV_LINK_MODE=copy NO_COLOR=1 \
    UV_NO_PROGRESS=1 UV_PYTHON_DOWNLOADS=never

sh "$here/strip.sh" fetch &  # binutils for strip.sh arrive while uv installs the gateway
fetching=$!
python3 -m pip install -q --no-cache-dir --require-hashes --target /tmp/uv -r "$here/build-tools.lock"
if [ "$(/tmp/uv/bin/uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    echo "bed: build-tools.lock holds $(/tmp/uv/bin/uv --version), install.sh expects uv $UV_VERSION: run make lock" >&2
    exit 1
fi
if [ -f "$here/requirements.lock" ]; then
    requirements="$here/requirements.lock" hashes=--require-hashes
else
    requirements="$here/requirements.in" hashes=
fi
echo "bed: installing the gateway from $(basename "$requirements"): $(grep -cE '^[A-Za-z0-9]' "$requirements") requirement(s)${hashes:+, hash-checked}"
# A resolution failure ends here with uv's "No solution found" explanation on stderr, which
# bed reads to name the requirement that could not be resolved; a download whose hash is not
# in the lock ends here too, naming the distribution.
# shellcheck disable=SC2086  # $hashes is one flag or none
/tmp/uv/bin/uv pip install --python "$venv/bin/python" $hashes -r "$requirements"
wait "$fetching" || true
sh "$here/strip.sh" apply
sh "$here/prune.sh" aside
if sh "$here/compile.sh" quiet; then
    sh "$here/prune.sh" drop
else
    sh "$here/prune.sh" restore
    sh "$here/compile.sh" || true
fi
mkdir -p /etc/bed
/tmp/uv/bin/uv pip freeze --python "$venv/bin/python" > /etc/bed/litellm.freeze
rm -rf /tmp/uv
echo "bed: installed $(grep -i '^litellm==' /etc/bed/litellm.freeze) ($(wc -l < /etc/bed/litellm.freeze) distributions)"
