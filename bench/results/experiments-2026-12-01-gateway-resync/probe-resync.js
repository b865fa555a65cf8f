// What a gateway's siren resync costs: for every home, describe its alarm session and, if it runs, learn
// its state (a) by the status query the gateway sent before, or (b) from the SessionState search attribute
// describe already returned. The bench stack in its gateway topology (the central worker in its own
// process, its cache 500 sessions), N open alarms, rounds alternating (a) and (b), 16 homes at a time.
// Run after `npm run bench:build`: node bench/results/experiments-2026-12-01-gateway-resync/probe-resync.js [N]
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');
const root = resolve(__dirname, '../../..');
const { startBenchStack } = require(resolve(root, 'dist-bench/bench/stack.js'));
const { httpJson } = require(resolve(root, 'dist-bench/bench/load.js'));
const { sessionKind } = require(resolve(root, 'dist-bench/src/shared/smoke-alarm.js'));
const { SessionState } = require(resolve(root, 'dist-bench/src/shared/search-attributes.js'));
const { dataConverterFor } = require(resolve(root, 'dist-bench/src/codec/aes-gcm-codec.js'));
const { Client } = require('@temporalio/client');

const cpuOf = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
async function pool(n, items, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

async function main() {
  const N = Number(process.argv[2] ?? 2000);
  const stack = await startBenchStack({
    homeGroups: { scale: N },
    topology: 'gateway',
    cancelWindowSeconds: 3600,
    log: () => {},
  });
  try {
    const homes = Array.from({ length: N }, (_, i) => stack.homes.id('scale', i));
    const t0 = Date.now();
    await pool(16, homes, async (h) => {
      for (;;) {
        const r = await httpJson(stack.apiUrl, 'POST', `/homes/${h}/smoke`, stack.homes.device(h), {
          detectorId: 'kitchen',
        });
        if (r.status === 202) return;
        await new Promise((ok) => setTimeout(ok, 200)); // 429: the opening backlog is full
      }
    });
    for (const h of homes)
      if ((await stack.sirenAt(h, 1, 0, 120_000)) === undefined) throw new Error(`${h}: siren never on`);
    console.log(
      `${N} alarms open in ${((Date.now() - t0) / 1000).toFixed(0)} s; worker pid ${stack.workerPid}, server pid ${stack.serverPid}`,
    );

    // The gateway's client: the sessions' codec.
    const client = new Client({
      connection: stack.client.connection,
      namespace: stack.namespace,
      dataConverter: dataConverterFor(stack.config),
    });
    const round = async (way) => {
      const w0 = cpuOf(stack.workerPid),
        s0 = cpuOf(stack.serverPid),
        c0 = process.cpuUsage(),
        t = Date.now();
      let wanted = 0;
      await pool(16, homes, async (h) => {
        const handle = client.workflow.getHandle(`${sessionKind.name}:${h}`);
        const d = await handle.describe();
        if (d.status.name !== 'RUNNING') return;
        const state =
          way === 'query'
            ? (await handle.query(sessionKind.statusQuery)).state
            : d.typedSearchAttributes.get(SessionState);
        if (!sessionKind.model.isFinal(state)) wanted++;
      });
      const sec = (Date.now() - t) / 1000,
        c = process.cpuUsage(c0);
      console.log(
        `${way.padEnd(9)} ${sec.toFixed(1).padStart(5)} s  ${(N / sec).toFixed(0).padStart(5)} homes/s  CPU ms/home: worker ${((1000 * (cpuOf(stack.workerPid) - w0)) / N).toFixed(2)}, server ${((1000 * (cpuOf(stack.serverPid) - s0)) / N).toFixed(2)}, this process ${((c.user + c.system) / 1000 / N).toFixed(2)}  (sirens wanted ${wanted}/${N})`,
      );
    };
    for (let k = 0; k < 3; k++)
      for (const way of k % 2 ? ['attribute', 'query'] : ['query', 'attribute']) await round(way);
  } finally {
    await stack.stop();
  }
}
main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
