#!/usr/bin/env bash
# Shared helpers for the provisioning scripts: one per-user cache, keyed by version,
# linked into the checkout's .tools/ so a fresh clone on the same machine reuses built binaries.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SESSIONFLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sessionflow}"
TOOLS="$ROOT/.tools"
mkdir -p "$CACHE" "$TOOLS/bin"

say() { printf '[sessionflow] %s\n' "$*" >&2; }

# link_tool <cached file> <name in .tools/bin>
link_tool() {
  ln -sfn "$1" "$TOOLS/bin/$2"
}

# need_installer <message>...: sets SUDO to what installs Debian packages here (nothing as root, `sudo -n`
# where allowed); otherwise says each message and fails.
need_installer() {
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
  elif command -v sudo > /dev/null && sudo -n true 2> /dev/null; then
    SUDO=(sudo -n)
  else
    for line in "$@"; do say "$line"; done
    exit 1
  fi
}
