#!/usr/bin/env bash
# Installs what the project needs beyond npm packages, idempotently and cached per user by version:
#   setup.sh temporal-cli   the dev server (for `npm start`)
#   setup.sh prod           a real Temporal server, its SQL tool and PostgreSQL (for `npm run stack:prod`, `npm run test:prod`)
#   setup.sh all            all of the above, the time-skipping test server, Chromium, schemathesis and Mosquitto (for `npm test`,
#                           whose failover test runs the production shape)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

what="${1:-all}"
bash "$ROOT/scripts/install-temporal-cli.sh"
if [ "$what" = "prod" ] || [ "$what" = "all" ]; then
  bash "$ROOT/scripts/install-temporal-server.sh"
  bash "$ROOT/scripts/install-postgres.sh"
fi
if [ "$what" = "all" ]; then
  bash "$ROOT/scripts/install-test-server.sh"
  bash "$ROOT/scripts/install-schemathesis.sh"
  bash "$ROOT/scripts/install-chromium.sh"
  bash "$ROOT/scripts/install-mosquitto.sh"
fi
