#!/usr/bin/env bash
# A second, "remote" Docker engine on this machine, as CI's docker:dind or a remote
# DOCKER_HOST is: it runs in its own network namespace (loopback only), so a port it
# publishes is NOT on this host's 127.0.0.1, and nothing in it reaches a package index.
# It is reached through its unix socket: DOCKER_HOST=unix://DIR/docker.sock.
#
#   scripts/remote-engine.sh start DIR          start it (idempotent); prints the export line
#   scripts/remote-engine.sh load DIR IMAGE...  copy images from the current engine into it
#   scripts/remote-engine.sh env DIR            print the export line
#   scripts/remote-engine.sh stop DIR           stop it and remove everything it made (DIR too)
#
# Needs root, iproute2's `ip`, util-linux's `nsenter` and `dockerd`. Each DIR gets its own
# namespace (named from a hash of DIR), so two engines can coexist. `nsenter --net`, not
# `ip netns exec`: the latter remounts /sys and dockerd then fails ("Devices cgroup isn't
# mounted"). Images are loaded, never built there: the namespace cannot reach PyPI.
set -euo pipefail

usage() { echo "usage: $0 start|stop|env DIR | load DIR IMAGE..." >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1
dir=$(readlink -m "$2")
shift 2
netns="bedre-$(printf %s "$dir" | sha1sum | cut -c1-10)"
sock="$dir/docker.sock"
marker="$dir/.bed-remote-engine"
remote() { DOCKER_HOST="unix://$sock" docker "$@"; }
answers() { remote info >/dev/null 2>&1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

start() {
  if [ -f "$marker" ] && answers; then
    echo "export DOCKER_HOST=unix://$sock"
    return 0
  fi
  [ "$(id -u)" = 0 ] || { echo "ENGINE_ERROR: a second engine needs root (network namespaces). Hint: run as root." >&2; exit 3; }
  local t0; t0=$(now)
  mkdir -p "$dir"
  echo "$netns" >"$marker"
  ip netns list | grep -qw "^$netns" || ip netns add "$netns"
  nsenter --net="/var/run/netns/$netns" ip link set lo up
  # Its own (empty) daemon.json: the host's /etc/docker/daemon.json may name hosts or a data root.
  echo '{}' >"$dir/daemon.json"
  setsid nsenter --net="/var/run/netns/$netns" dockerd --config-file "$dir/daemon.json" -H "unix://$sock" \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
    </dev/null >"$dir/dockerd.log" 2>&1 &
  for _ in $(seq 1 240); do
    if answers; then
      echo "[remote-engine] up in $(since "$t0") s: netns $netns, $(remote version --format '{{.Server.Version}}'), log $dir/dockerd.log" >&2
      echo "export DOCKER_HOST=unix://$sock"
      return 0
    fi
    sleep 0.25
  done
  echo "ENGINE_ERROR: the remote engine in $dir did not answer within 60 s. Hint: read $dir/dockerd.log." >&2
  tail -n 20 "$dir/dockerd.log" >&2 || true
  stop
  exit 3
}

stop() {
  [ -f "$marker" ] || { echo "[remote-engine] nothing to stop in $dir" >&2; return 0; }
  local t0; t0=$(now)
  if answers; then  # every container on it is ours: remove them while the engine can
    mapfile -t ids < <(remote ps -aq)
    [ ${#ids[@]} = 0 ] || remote rm -f "${ids[@]}" >/dev/null 2>&1 || true
  fi
  local pid=""
  [ -f "$dir/docker.pid" ] && pid=$(cat "$dir/docker.pid")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  # Whatever still runs in the namespace (containerd and its shims after a hard stop) is ours.
  if [ -e "/var/run/netns/$netns" ]; then
    mapfile -t left < <(ip netns pids "$netns" 2>/dev/null)
    if [ ${#left[@]} != 0 ]; then
      kill -TERM "${left[@]}" 2>/dev/null || true; sleep 1
      mapfile -t left < <(ip netns pids "$netns" 2>/dev/null)
      [ ${#left[@]} = 0 ] || kill -KILL "${left[@]}" 2>/dev/null || true
    fi
    ip netns del "$netns"
  fi
  # overlay2 and netns mounts of a hard-stopped engine, deepest first
  { findmnt -rn -o TARGET | grep -F "$dir/" || true; } | sort -r | while read -r target; do umount -l "$target" || true; done
  rm -rf "$dir"
  echo "[remote-engine] stopped and removed in $(since "$t0") s: $dir, netns $netns" >&2
}

load() {
  [ $# -ge 1 ] || usage
  answers || { echo "ENGINE_ERROR: no remote engine answers at $sock. Hint: $0 start $dir" >&2; exit 3; }
  local t0; t0=$(now)
  # One stream: images that share layers (bed's do) send each layer once.
  docker save "$@" | remote load -q >&2
  echo "[remote-engine] loaded $# image(s) in $(since "$t0") s" >&2
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  env) echo "export DOCKER_HOST=unix://$sock" ;;
  load) load "$@" ;;
  *) usage ;;
esac
