#!/usr/bin/env bash
# PostgreSQL for the production-shape stack (npm run stack:prod, npm run test:prod): Debian's package,
# installed when missing. Never touches the system cluster: the launcher runs its own data dir on a
# private port. PostgreSQL refuses to run as root, so as root we make an unprivileged system user that
# owns that data dir (SESSIONFLOW_PG_USER, default sessionflow-pg). Idempotent.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_USER="${SESSIONFLOW_PG_USER:-sessionflow-pg}"

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo > /dev/null && sudo -n true 2> /dev/null; then
  SUDO=(sudo -n)
else
  SUDO=()
fi

# The newest installed server's binaries (Debian keeps them per major version, off PATH).
pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1; }

BIN="$(pg_bindir)"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  if [ "$(id -u)" -ne 0 ] && [ ${#SUDO[@]} -eq 0 ]; then
    say "PostgreSQL is missing and this user cannot install Debian packages: run 'sudo apt-get install -y postgresql'"
    exit 1
  fi
  say "PostgreSQL: installing Debian's package (once per machine)…"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends postgresql
  BIN="$(pg_bindir)"
fi
say "PostgreSQL: $("$BIN/postgres" --version) ($BIN)"
# A directory link: pg_ctl and initdb find their sibling `postgres` next to their real path.
ln -sfn "$BIN" "$TOOLS/pg-bin"

if [ "$(id -u)" -eq 0 ]; then
  if ! id -u "$PG_USER" > /dev/null 2>&1; then
    say "PostgreSQL: creating system user $PG_USER (PostgreSQL will not run as root)"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_USER"
  fi
  say "PostgreSQL: runs as $PG_USER ($(id -u "$PG_USER"))"
fi
