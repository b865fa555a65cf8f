// The dev server's cost of opening a trivial session, alternating two ways of opening it (16 callers,
// closed loop: open → the workflow's first activation reports through a sink → next):
//   node probe-openings.js start-vs-signal-with-start  start with the event in the input, or signalWithStart
//   node probe-openings.js patches                        three patched() calls in the first task, or none
// After `npm install` (and .tools/bin/temporal from scripts/setup.sh), from the checkout.
const { spawn } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');
const { Worker, NativeConnection, bundleWorkflowCode } = require('@temporalio/worker');
const { Client, Connection } = require('@temporalio/client');

const root = resolve(__dirname, '../../..');
const which = process.argv[2] === 'patches' ? 'patches' : 'start-vs-signal-with-start';
const modes = which === 'patches' ? ['patches', 'none'] : ['start', 'signalWithStart'];
const cpuOf = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };

async function main() {
  const port = 17500;
  const srv = spawn(
    resolve(root, '.tools/bin/temporal'),
    ['server', 'start-dev', '--port', String(port), '--headless', '--log-level', 'error'],
    { stdio: 'ignore' },
  );
  process.on('exit', () => srv.kill('SIGKILL'));
  let conn;
  for (let i = 0; i < 60 && !conn; i++) {
    try {
      const c = await Connection.connect({ address: `127.0.0.1:${port}` });
      await c.workflowService.getSystemInfo({});
      conn = c;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const client = new Client({ connection: conn });
  const opened = new Map();
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: `127.0.0.1:${port}` }),
    taskQueue: 'probe',
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: resolve(__dirname, 'probe-workflow.js'),
      logger: quiet,
    }),
    sinks: { bench: { opened: { fn: (info) => opened.get(info.workflowId)?.(), callDuringReplay: false } } },
  });
  const run = worker.run();
  let n = 0;
  const round = async (mode, sec) => {
    const until = Date.now() + sec * 1000;
    let count = 0;
    const c0 = cpuOf(srv.pid);
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (Date.now() < until) {
          const workflowId = `p-${mode}-${n++}`;
          const done = new Promise((r) => opened.set(workflowId, r));
          const start = { workflowId, taskQueue: 'probe' };
          if (mode === 'signalWithStart')
            await client.workflow.signalWithStart('probeWorkflow', {
              ...start,
              args: [{}],
              signal: 'open',
              signalArgs: [{ detectorId: 'kitchen' }],
            });
          else
            await client.workflow.start('probeWorkflow', {
              ...start,
              args: [{ opening: mode === 'start', patches: mode === 'patches' }],
            });
          await done;
          opened.delete(workflowId);
          count++;
        }
      }),
    );
    const secs = (Date.now() - t0) / 1000;
    console.log(
      `${mode.padEnd(16)} ${(count / secs).toFixed(1)}/s  server ${((1000 * (cpuOf(srv.pid) - c0)) / count).toFixed(2)} ms CPU/opening`,
    );
  };
  for (const m of modes) await round(m, 3); // warm-up
  for (let k = 0; k < 6; k++) {
    for (const m of k % 2 ? [...modes].reverse() : modes) {
      await round(m, 8);
      await new Promise((r) => setTimeout(r, 1500));
    }
  }
  worker.shutdown();
  await run;
  srv.kill('SIGKILL');
  process.exit(0);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
