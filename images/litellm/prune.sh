#!/bin/sh
# What no gateway reads at run time, out of its image: the dependencies' own test suites, type
# stubs and C sources and headers (numpy's tests alone are 7 MB). The gateway's own packages
# (litellm*) keep every file.
#
#   prune.sh aside     move them to /tmp/bed-pruned; install.sh then imports the proxy (compile.sh)
#   prune.sh drop      that import worked without them: delete them
#   prune.sh restore   it did not: put them back, so the image is as installed (a bigger image,
#                      never a broken one)
set -u
site=${BED_SITE:-$(/opt/venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")}
aside=${BED_PRUNED:-/tmp/bed-pruned}
list=$aside.list

case "${1:-}" in
aside)
    cd "$site" || exit 1
    find . -mindepth 2 ! -path './litellm*' \( \( -type d \( -name tests -o -name test \) -prune \) \
        -o \( -type f \( -name '*.pyi' -o -name '*.h' -o -name '*.c' -o -name '*.cpp' -o -name '*.pxd' \
        -o -name '*.pyx' \) \) \) -print > "$list"
    before=$(du -sk . | cut -f1)
    while read -r path; do
        [ -e "$path" ] || continue  # inside a folder moved already
        mkdir -p "$aside/$(dirname "$path")" && mv "$path" "$aside/$path"
    done < "$list"
    echo "bed: set aside $(wc -l < "$list") test suites, stubs and C sources ($(( (before - $(du -sk . | cut -f1)) / 1024 )) MB)"
    ;;
drop)
    rm -rf "$aside" "$list"
    ;;
restore)
    cd "$aside" && find . -mindepth 1 -maxdepth 1 -exec cp -a {} "$site/" \;
    rm -rf "$aside" "$list"
    echo "bed: the proxy did not import without them: the dependencies' tests, stubs and C sources are kept"
    ;;
*)
    echo "usage: prune.sh aside|drop|restore" >&2
    exit 2
    ;;
esac
