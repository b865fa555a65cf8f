// Sessions opened closed loop by the Temporal client (signal-with-start, as the API does), alternating
// rounds whose start input carries settledPatches (no patch markers) or not (three markers and upserts).
// After `npm run bench:build`, from the checkout: node bench/results/experiments-2026-11-30-settled-patches/ab-patches.js
const { readFileSync } = require('fs');
const root = require('node:path').resolve(__dirname, '../../../dist-bench');
const { startBenchStack } = require(`${root}/bench/stack`);
const { Client } = require('@temporalio/client');
const { dataConverterFor } = require(`${root}/src/codec/aes-gcm-codec`);
const { hardwareTaskQueue } = require(`${root}/src/config/config`);
const { startSearchAttributes } = require(`${root}/src/config/session-events`);
const { withSettledPatches } = require(`${root}/src/shared/session-kind`);
const { nowMs } = require(`${root}/bench/stats`);
const alarm = require(`${root}/src/shared/smoke-alarm`);
const cpuOf = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
async function main() {
  const stack = await startBenchStack({ homeGroups: { t: 6000 }, cancelWindowSeconds: 3600, log: () => {} });
  const kind = alarm.sessionKind;
  const config = stack.config;
  const client = new Client({
    connection: stack.client.connection,
    namespace: stack.namespace,
    dataConverter: dataConverterFor(config),
  });
  let next = 0;
  const ids = [];
  const round = async (mode, sec) => {
    const until = Date.now() + sec * 1000;
    let opened = 0;
    const s0 = cpuOf(stack.serverPid);
    const w0 = process.cpuUsage();
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (Date.now() < until) {
          const homeId = stack.homes.id('t', next++);
          const raw = kind.startInput(homeId, {
            settings: config.kinds[kind.name],
            home: config.homes[homeId],
            hardwareTaskQueue: hardwareTaskQueue(config, homeId),
          });
          const input = mode === 'settled' ? withSettledPatches(raw) : raw;
          const since = nowMs();
          const on = stack.sirenAt(homeId, 1, since, 30000);
          const h = await client.workflow.signalWithStart(kind.workflowType, {
            workflowId: `${kind.name}:${homeId}`,
            taskQueue: config.temporal.taskQueue,
            typedSearchAttributes: startSearchAttributes(kind, homeId),
            args: [input],
            signal: kind.events.smokeDetected.signal,
            signalArgs: [{ detectorId: 'kitchen' }],
          });
          ids.push(h.workflowId);
          if ((await on) !== undefined) opened++;
        }
      }),
    );
    const secs = (Date.now() - t0) / 1000;
    const w = process.cpuUsage(w0);
    console.log(
      `${mode.padEnd(8)} ${(opened / secs).toFixed(1)} opened/s  server ${((1000 * (cpuOf(stack.serverPid) - s0)) / opened).toFixed(1)} ms CPU/opening  worker+client ${((w.user + w.system) / 1000 / opened).toFixed(1)} ms`,
    );
  };
  await round('settled', 4);
  await round('markers', 4);
  for (let k = 0; k < 6; k++)
    for (const m of k % 2 ? ['markers', 'settled'] : ['settled', 'markers']) {
      await round(m, 8);
      await new Promise((r) => setTimeout(r, 2000));
    }
  for (const id of ids)
    await stack.client.workflow
      .getHandle(id)
      .terminate('ab')
      .catch(() => {});
  await stack.stop();
  process.exit(0);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
