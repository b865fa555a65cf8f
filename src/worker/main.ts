// Worker entrypoint: `npm run worker` (or `node dist/worker/main.js`).
import { hostname } from 'node:os';
import { stopWebServer } from '../api/server';
import { loadConfig } from '../config/config';
import { EMBEDDED_GATEWAY, gatewayClient } from '../gateway/gateway';
import { startGatewayHttp } from '../gateway/http';
import { runMain } from '../config/run-main';
import { createLogger } from '../config/logger';
import { buildActivityDeps } from './activity-deps';
import { createWorker } from './create-worker';

async function main() {
  const logger = createLogger('worker');
  const config = loadConfig();
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
    },
    'worker running',
  );
  await worker.run();
  if (gatewayHttp) await stopWebServer(gatewayHttp);
  await deps.gateway.stop();
  await client.connection.close();
  logger.info('worker stopped');
}

runMain('worker', main);
