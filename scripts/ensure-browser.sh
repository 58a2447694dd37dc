#!/usr/bin/env bash
# What the report tests draw with (tests/unit/report/test_html.py, test_compare_md.py):
#   - a headless Chromium: on a root Debian machine (our CI and dev machines) Debian's chromium is
#     installed when missing (about a minute, once);
#   - Mermaid's browser bundle, to draw compare.md's charts as GitHub and GitLab do: the release
#     pinned below, fetched once from the npm registry with `npm pack` and checked against its
#     registry integrity, into .venv/browser/ (only dist/mermaid.min.js is kept).
# Where either cannot be had, say so and go on: the tests that need it skip, saying why.
set -euo pipefail
MERMAID_VERSION=11.17.2
MERMAID_INTEGRITY=sha512-V6K3C8EBdEsPFZXSKMJe6ppQOENxuHARr9GvHX4hh47lAbhMRD9qf4oEK7LoaRQxULMa80/qt5gHO73aCleBBg==
dest=${1:-.venv/browser}

have_browser() {
  local b
  for b in chromium chromium-browser google-chrome google-chrome-stable; do
    command -v "$b" >/dev/null 2>&1 && return 0
  done
  return 1
}

if ! have_browser; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[ensure-browser] installing Debian's chromium (headless, for the report tests)"
    apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
  else
    echo "[ensure-browser] no Chromium here: the report browser tests will skip (install chromium to run them)" >&2
  fi
fi

if [ ! -f "$dest/mermaid-$MERMAID_VERSION.min.js" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "[ensure-browser] no npm here: the Mermaid drawing test will skip (install nodejs and npm to run it)" >&2
    exit 0
  fi
  echo "[ensure-browser] fetching mermaid@$MERMAID_VERSION's browser bundle (npm pack, about 18 MB)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "mermaid@$MERMAID_VERSION" >/dev/null)
  tarball="$work/mermaid-$MERMAID_VERSION.tgz"
  got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$got" != "$MERMAID_INTEGRITY" ]; then
    echo "[ensure-browser] mermaid-$MERMAID_VERSION.tgz does not match its pinned integrity ($got): not used" >&2
    exit 1
  fi
  tar -xzf "$tarball" -C "$work" package/dist/mermaid.min.js
  mkdir -p "$dest"
  mv "$work/package/dist/mermaid.min.js" "$dest/mermaid-$MERMAID_VERSION.min.js"
fi
