#!/usr/bin/env bash
# Installs what the project needs beyond npm packages, idempotently and cached per user by version:
#   setup.sh temporal-cli   the dev server (for `npm start`)
#   setup.sh all            the dev server, the time-skipping test server, Chromium and schemathesis (for `npm test`)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

what="${1:-all}"
bash "$ROOT/scripts/install-temporal-cli.sh"
if [ "$what" = "all" ]; then
  bash "$ROOT/scripts/install-test-server.sh"
  bash "$ROOT/scripts/install-schemathesis.sh"
  bash "$ROOT/scripts/install-chromium.sh"
fi
