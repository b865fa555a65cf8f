#!/usr/bin/env bash
# The browser the UI tests drive: Debian's chromium (Playwright's own browser download does not work
# everywhere). Installed from Debian's packages when missing; a no-op when it is there.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHROMIUM="${SESSIONFLOW_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  say "chromium: $("$CHROMIUM" --version 2>/dev/null || echo present) ($CHROMIUM)"
  exit 0
fi
need_installer "chromium is missing and this user cannot install Debian packages: run 'sudo apt-get install -y chromium'" \
  "(or set SESSIONFLOW_CHROMIUM to a Chromium/Chrome binary); the UI browser tests need it"
say "chromium: installing Debian's package (once per machine, a few minutes)…"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
say "chromium: $("$CHROMIUM" --version)"
