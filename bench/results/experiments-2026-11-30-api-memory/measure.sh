#!/usr/bin/env bash
# The API's memory on a configuration of N homes (the bench's home shape), no sessions: its heap by part,
# then its RSS when ready and after rounds of 30,000 status reads (20 connections), without and with a
# heap cap. Needs `npm run build` and .tools/bin/temporal; writes results-<N>.txt beside this script.
set -eu
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../../.." && pwd); n=${1:-100000}
work=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
out="$here/results-$n.txt"; : > "$out"
"$root/.tools/bin/temporal" server start-dev --port 17300 --headless --log-level error >/dev/null 2>&1 &
node "$here/make-config.js" "$n" 127.0.0.1:17300 "$work" > "$work/config.json"
sleep 5
echo "homes: $n; node $(node --version); $(date -u +%FT%TZ)" >> "$out"
node --expose-gc "$here/heap-parts.js" "$work/config.json" >> "$out"
for cap in none 512; do
  flags=(); [ "$cap" = none ] || flags=(--max-old-space-size=$cap)
  SESSIONFLOW_CONFIG_FILE="$work/config.json" node "${flags[@]}" "$root/dist/api/main.js" >"$work/api.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 60); do curl -sf http://127.0.0.1:22440/readyz >/dev/null && break; sleep 1; done
  sleep 2
  line="cap=$cap ready: $(awk '/VmRSS/{print $2/1024 " MiB"}' /proc/$pid/status)"
  for round in 1 2; do
    node "$here/status-reads.js" "$work/config.json" 30000
    line="$line; after $((round * 30000)) reads: $(awk '/VmRSS/{print $2/1024 " MiB"}' /proc/$pid/status)"
  done
  heap=$(curl -s http://127.0.0.1:22440/metrics | awk '/^nodejs_heap_size_used_bytes/{print $2/1048576 " MiB"}')
  echo "$line; heap in use $heap" >> "$out"
  kill $pid; wait $pid 2>/dev/null || true
done
cat "$out"
