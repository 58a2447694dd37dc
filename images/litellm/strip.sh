#!/bin/sh
# Debug symbols out of the gateway's native extensions: the wheels of polars' runtime, uvloop,
# tokenizers, cryptography and a dozen more ship unstripped (80 MB of the 1.108.7 install,
# 43 MB in polars alone). `strip --strip-unneeded` keeps the dynamic symbol table, which is all
# the loader reads, so no code changes: the same proxy, a smaller image.
#
#   strip.sh fetch   binutils from the base's Debian mirror (install.sh runs it beside uv)
#   strip.sh apply   strip, check, and remove binutils again (same layer)
#
# Left alone: what auditwheel rewrote with patchelf (the libraries vendored in `*.libs/` and
# the extensions that find them through an RPATH): strip corrupts those (numpy's OpenBLAS then
# fails to load: "ELF load command address/offset not page-aligned"). Every stripped file is
# then loaded (dlopen); one that fails gets its original back. When no mirror answers, nothing
# is stripped: a bigger image, never a broken one.
set -u
venv=/opt/venv
log=/tmp/bed-strip.log
apt="apt-get -qq -o Acquire::Retries=0 -o Acquire::http::Timeout=15 -o Acquire::https::Timeout=15"
export DEBIAN_FRONTEND=noninteractive

# What apt and this script leave behind, whether binutils arrived or not.
tidy() {
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb /var/log/apt \
        /var/log/dpkg.log "$log" "$log.stripped"
}

case "${1:-}" in
fetch)
    command -v apt-get >/dev/null 2>&1 && $apt update >"$log" 2>&1 \
        && $apt install -y --no-install-recommends binutils >>"$log" 2>&1
    ;;
apply)
    if ! command -v strip >/dev/null 2>&1; then
        echo "bed: no Debian mirror answered; the gateway's native extensions keep their debug symbols"
        tidy
        exit 0
    fi
    before=$(du -sm "$venv" | cut -f1)
    find "$venv" -type f -name '*.so*' ! -path '*.libs/*' > "$log"
    : > "$log.stripped"
    while read -r lib; do
        readelf -d "$lib" 2>/dev/null | grep -q 'RPATH\|RUNPATH' && continue
        cp -p "$lib" "$lib.bed-orig" && strip --strip-unneeded "$lib" 2>/dev/null && echo "$lib" >> "$log.stripped"
    done < "$log"
    "$venv/bin/python" - "$log.stripped" <<'PY'
import ctypes, os, sys
for lib in open(sys.argv[1]).read().split():
    try:
        ctypes.CDLL(lib)
    except OSError as exc:
        os.replace(lib + ".bed-orig", lib)
        print(f"bed: {lib} keeps its symbols: stripped, it did not load ({exc})")
PY
    find "$venv" -name '*.bed-orig' -delete
    after=$(du -sm "$venv" | cut -f1)
    $apt purge -y --auto-remove binutils >/dev/null 2>&1
    tidy
    if "$venv/bin/python" -c "import polars" >/dev/null 2>&1; then
        "$venv/bin/python" -c "import polars; assert polars.DataFrame({'a': [1, 2]})['a'].sum() == 3" \
            || { echo "bed: polars fails after strip"; exit 1; }
    fi
    echo "bed: debug symbols stripped from the native extensions: ${before} MB -> ${after} MB"
    ;;
*)
    echo "usage: strip.sh fetch|apply" >&2
    exit 2
    ;;
esac
