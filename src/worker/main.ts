// Worker entrypoint: `npm run worker` (or `node dist/worker/main.js`).
import { hostname } from 'node:os';
import { stopWebServer } from '../api/server';
import { configSummary, loadConfig, requireCodecKeys } from '../config/config';
import { EMBEDDED_GATEWAY, gatewayClient } from '../gateway/gateway';
import { startGatewayHttp } from '../gateway/http';
import { runMain } from '../config/run-main';
import type { Worker } from '@temporalio/worker';
import { createLogger, type Logger } from '../config/logger';
import { installRuntime } from '../config/runtime';
import { startTracing } from '../config/tracing';
import { buildActivityDeps } from './activity-deps';
import { createWorker } from './create-worker';

async function main() {
  const logger = createLogger('worker');
  const config = loadConfig();
  requireCodecKeys(config);
  logger.info(`configuration: ${configSummary(config)}`);
  installRuntime(logger, config.telemetry);
  startTracing('sessionflow-worker', config.telemetry);
  // The embedded gateway: boards of the homes that name no gateway, with their detectors.
  const client = gatewayClient(config, `worker-${EMBEDDED_GATEWAY}-gateway@${hostname()}`);
  const deps = buildActivityDeps(config, logger, { client });
  deps.gateway.start();
  const gatewayHttp = await startGatewayHttp(deps.gateway, config, logger);
  const worker = await createWorker({ config, deps });
  // The SDK's runtime already drains the worker on SIGINT/SIGTERM; run() then returns.
  logger.info(
    {
      address: config.temporal.address,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      // What it asks of Temporal, so a slow worker's log says how it was tuned.
      tuning: config.worker,
    },
    'worker running',
  );
  exitWhenStoppedUnasked(worker, logger);
  await worker.run();
  if (gatewayHttp) await stopWebServer(gatewayHttp);
  await deps.gateway.stop();
  await client.connection.close();
  logger.info('worker stopped');
}

/**
 * The SDK shuts a worker down by itself on some internal errors (seen in the chaos run: core refusing
 * a completion that answers a legacy query along with new commands) and can then hang while draining.
 * A worker that stops without being asked exits non-zero, so its supervisor (compose `restart:`,
 * systemd) starts a fresh one instead of leaving every session without a worker.
 */
function exitWhenStoppedUnasked(worker: Worker, logger: Logger, graceMs = 15_000): void {
  let asked = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => (asked = true));
  const watch = setInterval(() => {
    const state = worker.getState();
    if (asked || state === 'RUNNING' || state === 'INITIALIZED') return;
    clearInterval(watch);
    logger.error({ state }, 'worker stopped without being asked to; exiting so a supervisor restarts it');
    setTimeout(() => process.exit(1), graceMs).unref();
  }, 1000);
  watch.unref();
}

runMain('worker', main);
