#!/usr/bin/env bash
# Fetches the Java time-skipping test server (io.temporal:temporal-test-server) with Maven once,
# copies its jars into the per-user cache and writes a launcher that takes the port as first argument,
# the way the SDK starts a test server binary.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION="${TEMPORAL_TEST_SERVER_VERSION:-1.31.0}"
DIR="$CACHE/temporal-test-server-$VERSION"
LAUNCHER="$DIR/temporal-test-server"

if [ -x "$LAUNCHER" ] && [ -n "$(ls "$DIR/lib" 2>/dev/null)" ]; then
  say "time-skipping test server $VERSION: cached at $DIR"
elif command -v mvn >/dev/null 2>&1 && command -v java >/dev/null 2>&1; then
  say "time-skipping test server $VERSION: resolving jars with Maven (first time only)..."
  rm -rf "$DIR.tmp" && mkdir -p "$DIR.tmp/lib"
  mvn -B -q -Dstyle.color=never -f "$ROOT/scripts/test-server/pom.xml" \
    -Dtemporal.test-server.version="$VERSION" \
    dependency:copy-dependencies -DoutputDirectory="$DIR.tmp/lib" -DincludeScope=runtime
  cat > "$DIR.tmp/temporal-test-server" <<'LAUNCH'
#!/usr/bin/env bash
# usage: temporal-test-server <port> [extra args]
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
exec java ${TEMPORAL_TEST_SERVER_JAVA_OPTS:--Xmx512m -XX:+UseSerialGC} -cp "$here/lib/*" io.temporal.testserver.TestServer "$@"
LAUNCH
  chmod +x "$DIR.tmp/temporal-test-server"
  rm -rf "$DIR" && mv "$DIR.tmp" "$DIR"
  say "time-skipping test server $VERSION: ready ($(ls "$DIR/lib" | wc -l) jars)"
else
  say "WARNING: no Maven/Java; time-skipping tests fall back to the SDK's download of the test server"
  exit 0
fi
link_tool "$LAUNCHER" temporal-test-server
