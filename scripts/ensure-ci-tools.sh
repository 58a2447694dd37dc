#!/usr/bin/env bash
# The outside tools bed's own CI tests need, installed when missing (root on Debian: our CI and
# dev machines); anywhere else, say what to install. Run by the Makefile's dev set-up.
# - ShellCheck (Debian): actionlint checks workflow scripts with it only when it is on PATH,
#   and says nothing when it is not (tests/unit/ci_tools.py fails without it);
# - rsync (Debian): gitlab-ci-local copies the repository into its build folder with it;
# - gitlab-ci-local 4.62.0 (npm, into VENV/ci-tools): runs generated .gitlab-ci.yml jobs for
#   real (tests/integration/test_first_push.py); 4.75 needs node 22, Debian has 20.
set -euo pipefail
venv=${1:-.venv}
gcl_version=4.62.0

missing=()
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v rsync >/dev/null 2>&1 || missing+=(rsync)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[ensure-ci-tools] installing ${missing[*]} (Debian)"
    apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || {
      apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
  else
    echo "[ensure-ci-tools] missing ${missing[*]}: install them (apt-get install ${missing[*]}, brew install ...)" >&2
  fi
fi

gcl="$venv/ci-tools/node_modules/.bin/gitlab-ci-local"
if [ "$("$gcl" --version 2>/dev/null || true)" != "$gcl_version" ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "[ensure-ci-tools] installing gitlab-ci-local $gcl_version into $venv/ci-tools (npm)"
    npm install --silent --no-audit --no-fund --prefix "$venv/ci-tools" "gitlab-ci-local@$gcl_version" >/dev/null
  else
    echo "[ensure-ci-tools] npm is missing: gitlab-ci-local cannot be installed (apt-get install npm)" >&2
  fi
fi
