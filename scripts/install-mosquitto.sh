#!/usr/bin/env bash
# Mosquitto, the MQTT broker the MQTT tests run against (a private config, port and persistence dir per
# test; the system service is never used): Debian's package, installed when missing. Idempotent.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MOSQUITTO="${SESSIONFLOW_MOSQUITTO:-/usr/sbin/mosquitto}"
# mosquitto_pub / mosquitto_sub too: docs/mqtt.md and the `npm start` banner show them.
if [ ! -x "$MOSQUITTO" ] || ! command -v mosquitto_pub > /dev/null; then
  need_installer "mosquitto is missing and this user cannot install Debian packages: run 'sudo apt-get install -y mosquitto mosquitto-clients'"
  say "mosquitto: installing Debian's package (once per machine)…"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends mosquitto mosquitto-clients
  # The package enables and starts a system broker on port 1883; the tests and `npm start` bring their
  # own, so leave that port free (a no-op where there is no systemd, as in containers).
  if command -v systemctl > /dev/null && systemctl is-active --quiet mosquitto 2> /dev/null; then
    "${SUDO[@]}" systemctl disable --now mosquitto > /dev/null 2>&1 || true
  fi
fi
say "mosquitto: $("$MOSQUITTO" -h 2> /dev/null | head -n 1) ($MOSQUITTO)"
link_tool "$MOSQUITTO" mosquitto
