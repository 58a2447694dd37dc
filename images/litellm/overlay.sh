#!/bin/sh
# A fork's litellm/ package in place of the release it is based on: `overlay.sh prepare` before
# the fork's files are copied in, `overlay.sh finish` after (fork.Dockerfile runs both).
#
# The release's dependencies and its compiled parts (litellm/**/*.so: the Rust bridge since
# 1.97) stay: building them from the fork's source needs cargo and crates.io, which a build here
# cannot reach. Every Python file comes from the fork, and a file the fork deleted is gone.
set -eu
site=/opt/venv/lib/python3.11/site-packages
kept=/tmp/bed-gateway/native
case "$1" in
prepare)
    test -d "$site/litellm" || { echo "bed: $site/litellm is missing: python is not 3.11?" >&2; exit 1; }
    mkdir -p "$kept"
    (cd "$site" && find litellm -name '*.so' -exec cp --parents {} "$kept/" \;)
    rm -rf "$site/litellm"
    ;;
finish)
    (cd "$kept" && find litellm -name '*.so' | while read -r so; do
        if [ ! -e "$site/$so" ]; then mkdir -p "$site/$(dirname "$so")" && cp "$so" "$site/$so"; fi
    done)
    rm -rf "$kept"
    sh /tmp/bed-gateway/compile.sh || true  # a fork that does not import still builds (see compile.sh)
    echo "bed: the fork's litellm/ ($(find "$site/litellm" -name '*.py' | wc -l) Python files) over the release's dependencies"
    ;;
*)
    echo "usage: overlay.sh prepare|finish" >&2; exit 2 ;;
esac
