#!/usr/bin/env bash
# `make lock`: every Python lock of bed, with hashes, from `uv pip compile --generate-hashes`.
#
#   requirements.lock          bed's runtime dependencies and its build backend (setuptools), for
#                              any OS and Python >= 3.11 (--universal): what `make venv` installs
#   requirements-dev.lock      the same pins, plus the `dev` extra (tests, lint, uv itself)
#   constraints.txt            requirements-dev.lock's pins without hashes, for `pip install -c`
#   images/litellm/requirements.lock   litellm[proxy]==PINNED (bed/config/gateway.py)
#   images/litellm/build-tools.lock    uv, which install.sh installs the gateway with
#   images/shim/requirements.lock      uvicorn with uvloop and httptools
#   images/runner/requirements.lock    pytest, pytest-xdist and anthropic: only what the
#                              runner adds on top of the pinned gateway's venv (the rest is that venv's)
#
# The images' locks are resolved for their interpreter (Debian bookworm's Python 3.11.2, Linux);
# every lock lists the hashes of all files of each pinned release, so any platform's wheel checks.
# uv keeps the versions an existing lock pins (a re-lock only adds what changed);
# UPGRADE=1 resolves everything anew; UPGRADE_PACKAGES="a b" only those. Installs check every download against these hashes:
# pip --require-hashes (make venv, the shim and runner Dockerfiles), uv --require-hashes (install.sh).
#
# Usage: scripts/lock.sh PYTHON UV   (make lock passes the venv's python and uv). It needs nothing
# else from the venv: a lock that no longer installs (pyproject.toml asks for a package it lacks)
# can always be regenerated. When UV is missing, uv's own entry of requirements-dev.lock is
# installed into PYTHON's environment first (hash-checked, like everything else).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:?usage: scripts/lock.sh PYTHON UV}
uv=${2:?usage: scripts/lock.sh PYTHON UV}
if [ ! -x "$uv" ]; then
  entry=$(mktemp)
  awk '/^uv==/ {on = 1} on && /^[A-Za-z0-9]/ && !/^uv==/ {on = 0} on && !/^ *#/' requirements-dev.lock > "$entry"
  "$python" -m pip install -q --require-hashes -r "$entry"
  rm -f "$entry"
fi
[[ $uv == */* ]] && uv=$(cd "$(dirname "$uv")" && pwd)/$(basename "$uv")  # compile() runs it from elsewhere
# uv ignores pip's configuration: it needs the CA bundle named (corporate TLS proxies, our CI).
export SSL_CERT_FILE=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt} UV_SYSTEM_CERTS=1 NO_COLOR=1
upgrade=()
[ -n "${UPGRADE:-}" ] && upgrade=(--upgrade)
for name in ${UPGRADE_PACKAGES:-}; do upgrade+=(--upgrade-package "$name"); done  # resolve only these anew
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
images=images

compile() {  # from $work, so the locks name their inputs by file name alone (no temporary paths)
  (cd "$work" && "$uv" pip compile --quiet --generate-hashes --no-header "${upgrade[@]}" "$@")
}

header() {  # LOCK WHAT HOW: what the lock pins and how it is installed, above uv's output
  local body
  body=$(grep -v '^# bed lock:' "$1")
  printf '# bed lock: %s. Regenerate with: make lock (scripts/lock.sh); never edit by hand.\n# bed lock: installed with %s\n%s\n' \
    "$2" "$3" "$body" > "$1"
}

names_in() {  # the distributions a lock pins, one a line
  grep -E '^[A-Za-z0-9]' "$1" | sed -E 's/[ =;].*//'
}

# ---- the host ---------------------------------------------------------------------------------
# setuptools from [build-system]: `make venv` installs bed itself with --no-build-isolation, so its
# build backend comes from this lock too instead of an unchecked download.
cp pyproject.toml "$work/pyproject.toml"
"$python" -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))' \
  > "$work/build-system.in"
compile --universal --python-version 3.11 pyproject.toml build-system.in -o "$PWD/requirements.lock"
header requirements.lock "bed's runtime dependencies and its build backend, any OS, Python >= 3.11" \
  "pip install --require-hashes -r requirements.lock (make venv)"
# The dev lock holds the runtime lock's very pins (a constraint), so installing it on top changes nothing.
cp requirements.lock "$work/requirements.lock"
compile --universal --python-version 3.11 pyproject.toml --extra dev build-system.in \
  -c requirements.lock -o "$PWD/requirements-dev.lock"
header requirements-dev.lock "requirements.lock's pins plus the dev extra (tests, lint, uv)" \
  "pip install --require-hashes -r requirements-dev.lock (make test-unit, make lint)"
{
  echo "# requirements-dev.lock's pins without hashes (make lock writes both), for \`pip install -c constraints.txt\`."
  echo "# An install that must be checked uses the lock itself: pip install --require-hashes -r requirements-dev.lock"
  grep -E '^[A-Za-z0-9]' requirements-dev.lock | sed -E 's/ \\$//'
} > constraints.txt

# ---- the images --------------------------------------------------------------------------------
# Debian bookworm's python3 is 3.11.2: markers such as python_full_version < '3.11.3' hold there.
image=(--python-version 3.11.2 --python-platform linux)
here=$PWD/$images
pinned=$(sed -nE 's/^PINNED = "([^"]+)".*/\1/p' bed/config/gateway.py)
[ -n "$pinned" ] || { echo "[lock] no PINNED = \"...\" line in bed/config/gateway.py" >&2; exit 1; }
# google-auth: what LiteLLM's vertex_ai adapter imports to load a service account and refresh its token;
# litellm[proxy] leaves it out (LiteLLM asks for litellm[google]), so without it no vertex_ai deployment runs.
printf 'litellm[proxy]==%s\ngoogle-auth\n' "$pinned" > "$work/litellm.in"
compile "${image[@]}" litellm.in -o "$here/litellm/requirements.lock"
header "$images/litellm/requirements.lock" "litellm[proxy]==$pinned and google-auth (vertex_ai), for Python 3.11.2 on Linux" \
  "uv pip install --require-hashes (install.sh)"
uv_version=$(sed -nE 's/^UV_VERSION=([0-9.]+).*/\1/p' "$images/litellm/install.sh")
echo "uv==$uv_version" > "$work/build-tools.in"
compile "${image[@]}" build-tools.in -o "$here/litellm/build-tools.lock"
header "$images/litellm/build-tools.lock" "uv, which installs the gateway" \
  "pip install --require-hashes (install.sh)"
printf 'uvicorn\nuvloop\nhttptools\n' > "$work/shim.in"
compile "${image[@]}" shim.in -o "$here/shim/requirements.lock"
header "$images/shim/requirements.lock" "the shim's server (uvicorn, uvloop, httptools)" \
  "pip install --require-hashes (the shim's Dockerfile)"
# The runner is built FROM the gateway's image: resolve against the gateway's pins, list only the rest.
printf 'pytest\npytest-xdist\nanthropic\n' > "$work/runner.in"
skip=()
while read -r name; do skip+=(--no-emit-package "$name"); done < <(names_in "$images/litellm/requirements.lock")
cp "$images/litellm/requirements.lock" "$work/litellm.lock"
compile "${image[@]}" runner.in -c litellm.lock "${skip[@]}" -o "$here/runner/requirements.lock"
header "$images/runner/requirements.lock" "what the runner adds to the pinned gateway's venv (pytest, pytest-xdist, anthropic)" \
  "pip install --require-hashes (the runner's Dockerfile): a dependency the gateway's venv lacks and this lock does not list fails the build"

for lock in requirements.lock requirements-dev.lock "$images"/*/requirements.lock "$images/litellm/build-tools.lock"; do
  echo "[lock] $lock: $(names_in "$lock" | wc -l) distributions, $(grep -c -- '--hash=sha256:' "$lock") hashes"
done
