// A client's signal-with-start over the two connections the SDK offers, one call at a time, alternating
// batches of 50: @temporalio/client's Connection (grpc-js, in JavaScript) and @temporalio/worker's
// NativeConnection (the Rust core's client, which the API uses when it runs beside the worker). Reports
// latency, the process's CPU and the event loop's active time per call. Nothing polls the task queue.
// After `npm run setup` (the Temporal CLI in .tools), from the checkout:
//   node bench/results/experiments-2026-12-01-openings-by-shape/probe-connection.js
const { resolve } = require('node:path');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { spawn } = require('node:child_process');
const { Client, Connection } = require('@temporalio/client');
const { NativeConnection } = require('@temporalio/worker');
const { defineSignal } = require('@temporalio/workflow');

const root = resolve(__dirname, '../../..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.floor(p * xs.length)];

async function main() {
  const port = 17233;
  const dir = mkdtempSync(resolve(tmpdir(), 'probe-connection-'));
  const server = spawn(
    resolve(root, '.tools/bin/temporal'),
    ['server', 'start-dev', '--headless', '--port', String(port), '--db-filename', `${dir}/temporal.db`],
    { stdio: 'ignore' },
  );
  try {
    let grpc;
    for (let i = 0; i < 60 && !grpc; i++) {
      try {
        const c = await Connection.connect({ address: `127.0.0.1:${port}` });
        await c.workflowService.getSystemInfo({});
        grpc = c;
      } catch {
        await sleep(500);
      }
    }
    const native = await NativeConnection.connect({ address: `127.0.0.1:${port}` });
    const clients = { grpc: new Client({ connection: grpc }), native: new Client({ connection: native }) };
    const signal = defineSignal('smokeDetected');
    const ms = { grpc: [], native: [] };
    const cpu = { grpc: 0, native: 0 };
    const loop = { grpc: 0, native: 0 };
    let n = 0;
    // Round 0 warms both up and is not counted.
    for (let round = 0; round < 10; round++) {
      for (const side of round % 2 ? ['native', 'grpc'] : ['grpc', 'native']) {
        const cpu0 = process.cpuUsage();
        const loop0 = performance.eventLoopUtilization();
        for (let i = 0; i < 50; i++) {
          const t = performance.now();
          await clients[side].workflow.signalWithStart('probe', {
            taskQueue: 'nobody-polls',
            workflowId: `probe-${n++}`,
            signal,
            signalArgs: [{ detectorId: 'kitchen' }],
            args: [{ home: 'x'.repeat(800) }],
          });
          if (round > 0) ms[side].push(performance.now() - t);
        }
        const used = process.cpuUsage(cpu0);
        if (round > 0) {
          cpu[side] += (used.user + used.system) / 1000;
          loop[side] += performance.eventLoopUtilization(loop0).active;
        }
      }
    }
    for (const side of ['grpc', 'native'])
      console.log(
        `${side}: p50 ${q(ms[side], 0.5).toFixed(1)} ms, p90 ${q(ms[side], 0.9).toFixed(1)} ms; ` +
          `process CPU ${(cpu[side] / ms[side].length).toFixed(2)} ms, event loop ${(loop[side] / ms[side].length).toFixed(2)} ms per call`,
      );
    await grpc.close();
    await native.close();
  } finally {
    server.kill('SIGTERM');
    await sleep(500);
    rmSync(dir, { recursive: true, force: true });
  }
}
main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
