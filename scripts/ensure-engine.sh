#!/usr/bin/env bash
# Make sure a Docker engine answers. When none does and this is a root Debian machine (our
# CI and dev machines), install Debian's docker.io and debootstrap and start dockerd fully
# detached; its PID goes to $BED_DOCKERD_PIDFILE so whoever started it can stop it.
# Anywhere else, say what to do and exit 3 (bed's ENGINE_ERROR code).
set -euo pipefail
pidfile=${BED_DOCKERD_PIDFILE:-/tmp/bed-dockerd.pid}
log=${BED_DOCKERD_LOG:-/tmp/bed-dockerd.log}

need_debootstrap() {
  # The offline base image is built with debootstrap when no registry answers.
  command -v debootstrap >/dev/null 2>&1 || command -v /usr/sbin/debootstrap >/dev/null 2>&1 && return 0
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 0
  echo "[ensure-engine] installing debootstrap (for the offline base image)"
  apt-get install -y -qq debootstrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
}

if docker info >/dev/null 2>&1; then
  need_debootstrap
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ENGINE_ERROR: no Docker engine answers. Hint: start Docker (sudo systemctl start docker, or Docker Desktop), or set DOCKER_HOST." >&2
  exit 3
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "[ensure-engine] installing Debian's docker.io (about 15 s)"
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi
need_debootstrap
echo "[ensure-engine] starting dockerd (log: $log)"
setsid dockerd >"$log" 2>&1 </dev/null &
echo $! >"$pidfile"
for _ in $(seq 1 120); do
  docker info >/dev/null 2>&1 && { echo "[ensure-engine] engine up: $(docker version --format '{{.Server.Version}}')"; exit 0; }
  sleep 0.25
done
echo "ENGINE_ERROR: dockerd did not answer within 30 s. Hint: read $log." >&2
tail -n 20 "$log" >&2 || true
exit 3
