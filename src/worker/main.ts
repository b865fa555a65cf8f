// Worker entrypoint: `npm run worker` (or `node dist/worker/main.js`).
import { loadConfig, requireCodecKeys } from '../config/config';
import { runMain } from '../config/run-main';
import { createLogger } from '../config/logger';
import { buildActivityDeps } from './activity-deps';
import { createWorker } from './create-worker';

async function main() {
  const logger = createLogger('worker');
  const config = loadConfig();
  requireCodecKeys(config);
  const deps = buildActivityDeps(config, logger);
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
  deps.sirens.close();
  logger.info('worker stopped');
}

runMain('worker', main);
