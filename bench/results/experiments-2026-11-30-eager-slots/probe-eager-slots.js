// How many eager starts core grants at once: bursts of K concurrent starts against an idle worker whose
// first tasks each hold their slot for `holdMs` (a local activity), for worker tunings given as S/P.
const { spawn } = require('child_process');
const { Worker, NativeConnection, bundleWorkflowCode } = require('@temporalio/worker');
const { Client } = require('@temporalio/client');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function main() {
  const port = 17600;
  const srv = spawn(
    require('path').resolve(__dirname, '../../../.tools/bin/temporal'),
    [
      'server',
      'start-dev',
      '--port',
      String(port),
      '--headless',
      '--log-level',
      'error',
      '--db-filename',
      '/tmp/eager.db',
    ],
    { stdio: 'ignore' },
  );
  process.on('exit', () => srv.kill('SIGKILL'));
  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./probe-workflow.js'),
    logger: quiet,
  });
  let nconn;
  for (let i = 0; i < 60; i++) {
    try {
      nconn = await NativeConnection.connect({ address: `127.0.0.1:${port}` });
      break;
    } catch {
      await sleep(500);
    }
  }
  const client = new Client({ connection: nconn });
  const tunings = (process.env.TUNINGS || '16/10,20/10,24/10,16/6').split(',');
  let n = 0;
  for (const t of tunings) {
    const [slots, polls] = t.split('/').map(Number);
    const worker = await Worker.create({
      connection: nconn,
      taskQueue: `q${t}`,
      workflowBundle: bundle,
      activities: { hold: (ms) => sleep(ms) },
      maxCachedWorkflows: 500,
      maxConcurrentWorkflowTaskExecutions: slots,
      workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: polls },
      nonStickyToStickyPollRatio: 1,
      stickyQueueScheduleToStartTimeout: '3s',
    });
    const run = worker.run();
    await sleep(3000);
    const row = [];
    for (const k of [1, 2, 3, 4, 6, 8]) {
      const rs = await Promise.all(
        Array.from({ length: k }, () =>
          client.workflow.start('eagerProbe', {
            workflowId: `e${n++}`,
            taskQueue: `q${t}`,
            args: [500],
            requestEagerStart: true,
          }),
        ),
      );
      row.push(`${k}:${rs.filter((h) => h.eagerlyStarted).length}`);
      await sleep(1500);
    }
    // One at a time while earlier tasks are still running.
    let seq = 0;
    const hs = [];
    for (let i = 0; i < 8; i++) {
      const h = await client.workflow.start('eagerProbe', {
        workflowId: `e${n++}`,
        taskQueue: `q${t}`,
        args: [2000],
        requestEagerStart: true,
      });
      if (h.eagerlyStarted) seq++;
      hs.push(h);
      await sleep(50);
    }
    console.log(
      `slots ${slots} polls ${polls}: burst granted ${row.join(' ')}; 8 overlapping one after another: ${seq}`,
    );
    await Promise.all(hs.map((h) => h.result()));
    worker.shutdown();
    await run;
  }
  srv.kill('SIGKILL');
  process.exit(0);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
