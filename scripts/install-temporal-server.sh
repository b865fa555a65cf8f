#!/usr/bin/env bash
# Builds a real Temporal server and its SQL schema tool once from the Go module proxy, at the server
# version the CLI embeds, and links both into .tools/bin. The PostgreSQL schema files ship with the
# server module's source; they are linked as .tools/temporal-schema so the launcher needs no Go at run time.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION="${TEMPORAL_SERVER_VERSION:-1.29.1}"
DIR="$CACHE/temporal-server-$VERSION"
MODULE="go.temporal.io/server@v$VERSION"

if [ -x "$DIR/bin/temporal-server" ] && [ -x "$DIR/bin/temporal-sql-tool" ] && [ -d "$DIR/schema/postgresql" ]; then
  say "temporal server $VERSION: cached at $DIR"
elif command -v go >/dev/null 2>&1; then
  say "temporal server $VERSION: building server and SQL tool with 'go install' (first time only, several minutes)..."
  rm -rf "$DIR.tmp" && mkdir -p "$DIR.tmp/bin"
  # nice: the build takes both cores for minutes; whoever shares the machine keeps a usable shell.
  GOBIN="$DIR.tmp/bin" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
    nice -n 10 go install "go.temporal.io/server/cmd/server@v$VERSION" "go.temporal.io/server/cmd/tools/sql@v$VERSION"
  # `go install` names binaries after their package directories: server and sql.
  mv "$DIR.tmp/bin/server" "$DIR.tmp/bin/temporal-server"
  mv "$DIR.tmp/bin/sql" "$DIR.tmp/bin/temporal-sql-tool"
  # The module cache is read-only and may be cleaned; keep our own copy of the schema files.
  cp -r "$(go env GOMODCACHE)/$MODULE/schema" "$DIR.tmp/schema"
  chmod -R u+w "$DIR.tmp/schema"
  rm -rf "$DIR" && mv "$DIR.tmp" "$DIR"
  say "temporal server $VERSION: built"
else
  say "WARNING: no Go toolchain; the PostgreSQL topology (npm run stack:prod, npm run test:prod) cannot start"
  exit 0
fi
link_tool "$DIR/bin/temporal-server" temporal-server
link_tool "$DIR/bin/temporal-sql-tool" temporal-sql-tool
ln -sfn "$DIR/schema" "$TOOLS/temporal-schema"
"$TOOLS/bin/temporal-server" --version >&2 || true
