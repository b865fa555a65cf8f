// One smoke POST at a time through the API in its own process, against the same sendSessionEvent from a
// client in the bench's process (the scenario 4 direct side), alternating, 80 ms apart: what the HTTP hop
// and the API add to a call when nothing else runs. Also prints the API's own request-duration histogram.
// After `npm run bench:build`, from the checkout: node bench/results/experiments-2026-12-01-openings-by-shape/probe-hop.js
const root = require('node:path').resolve(__dirname, '../../../dist-bench');
const { startBenchStack } = require(`${root}/bench/stack`);
const { httpJson } = require(`${root}/bench/load`);
const { sendSessionEvent } = require(`${root}/src/config/session-events`);
const { dataConverterFor } = require(`${root}/src/codec/aes-gcm-codec`);
const { sessionKind } = require(`${root}/src/shared/smoke-alarm`);
const { Client } = require('@temporalio/client');

const N = Number(process.env.N ?? 100);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function main() {
  const stack = await startBenchStack({ homeGroups: { h: 2 * N }, cancelWindowSeconds: 3600, log: () => {} });
  try {
    const direct = new Client({
      connection: stack.client.connection,
      namespace: stack.namespace,
      dataConverter: dataConverterFor(stack.config),
    });
    const ours = [];
    const dir = [];
    let i = 0;
    for (let r = 0; r < N; r++) {
      for (const side of r % 2 ? ['direct', 'ours'] : ['ours', 'direct']) {
        const home = stack.homes.id('h', i++);
        const t = performance.now();
        if (side === 'ours') {
          const res = await httpJson(stack.apiUrl, 'POST', `/homes/${home}/smoke`, stack.homes.device(home), {
            detectorId: 'kitchen',
          });
          if (res.status !== 202) throw new Error(`POST answered ${res.status}`);
          ours.push(performance.now() - t);
        } else {
          await sendSessionEvent(direct, stack.config, sessionKind, home, 'smokeDetected', {
            detectorId: 'kitchen',
          });
          dir.push(performance.now() - t);
        }
        await sleep(80);
      }
    }
    const metrics = await (await fetch(`${stack.apiUrl}/metrics`)).text();
    const line = (suffix) =>
      metrics
        .split('\n')
        .find((l) => l.startsWith(`sessionflow_http_request_duration_seconds_${suffix}{method="POST"`));
    const sum = Number(line('sum')?.split(' ').pop());
    const count = Number(line('count')?.split(' ').pop());
    console.log(`calls: ${N} each side`);
    console.log(
      `ours (HTTP POST → API → signal-with-start): p50 ${q(ours, 0.5).toFixed(1)} ms, p90 ${q(ours, 0.9).toFixed(1)} ms`,
    );
    console.log(
      `direct (signal-with-start):                 p50 ${q(dir, 0.5).toFixed(1)} ms, p90 ${q(dir, 0.9).toFixed(1)} ms`,
    );
    console.log(`the API's own request duration, mean:      ${((sum / count) * 1000).toFixed(1)} ms`);
  } finally {
    await stack.stop();
  }
}
main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
