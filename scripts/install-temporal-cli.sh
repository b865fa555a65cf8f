#!/usr/bin/env bash
# Builds the Temporal CLI (dev server) once from the Go module proxy and links it into .tools/bin.
# v1.6.0+ carries a replace directive and cannot be `go install`ed, so we pin the last tag that can.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION="${TEMPORAL_CLI_VERSION:-1.5.1}"
DEST="$CACHE/temporal-cli-$VERSION/bin"
BIN="$DEST/temporal"

if [ -x "$BIN" ]; then
  say "temporal CLI $VERSION: cached at $BIN"
elif command -v go >/dev/null 2>&1; then
  say "temporal CLI $VERSION: building with 'go install' (first time only, a few minutes)..."
  mkdir -p "$DEST"
  GOBIN="$DEST" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
    go install "github.com/temporalio/cli/cmd/temporal@v$VERSION"
  say "temporal CLI $VERSION: built"
elif command -v temporal >/dev/null 2>&1; then
  BIN="$(command -v temporal)"
  say "no Go toolchain; using temporal from PATH: $BIN"
else
  say "WARNING: neither Go nor a 'temporal' binary found; tests fall back to the SDK's download of the dev server"
  exit 0
fi
link_tool "$BIN" temporal
"$TOOLS/bin/temporal" --version >&2
