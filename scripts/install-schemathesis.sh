#!/usr/bin/env bash
# Installs schemathesis (API fuzzing against our OpenAPI spec) from PyPI into a venv cached per user by
# version, and links its CLI into .tools/bin. Needs Python 3.9+; idempotent.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
DIR="$CACHE/schemathesis-$VERSION"
BIN="$DIR/venv/bin/schemathesis"
PYTHON="${PYTHON:-python3}"

if [ -f "$DIR/.installed" ] && [ -x "$BIN" ]; then
  say "schemathesis $VERSION: cached at $DIR"
elif command -v "$PYTHON" >/dev/null 2>&1 && "$PYTHON" -c 'import sys, venv; sys.exit(sys.version_info < (3, 9))'; then
  say "schemathesis $VERSION: installing from PyPI into a venv (first time only, about a minute)..."
  # A venv hard-codes its own path, so it is built in place; the marker says the install completed.
  rm -rf "$DIR" && mkdir -p "$DIR"
  "$PYTHON" -m venv "$DIR/venv"
  "$DIR/venv/bin/pip" install --disable-pip-version-check --progress-bar on "schemathesis==$VERSION"
  touch "$DIR/.installed"
  say "schemathesis $VERSION: ready"
else
  say "WARNING: no Python 3.9+ with venv; the API fuzz test cannot run (install python3-venv)"
  exit 0
fi
link_tool "$BIN" schemathesis
"$TOOLS/bin/schemathesis" --version >&2
