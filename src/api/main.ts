// API entrypoint: `npm run api` (or `node dist/api/main.js`).
import { configSummary, loadConfig, requireCodecKeys } from '../config/config';
import { runMain } from '../config/run-main';
import { createLogger } from '../config/logger';
import { startTracing } from '../config/tracing';
import { startWebServer, stopWebServer } from './server';
import { createTemporalGateway } from './temporal-gateway';

async function main() {
  const logger = createLogger('api');
  const config = loadConfig();
  requireCodecKeys(config);
  logger.info(`configuration: ${configSummary(config)}`);
  startTracing('sessionflow-api', config.telemetry);
  const temporal = createTemporalGateway(config);
  const web = await startWebServer({ config, temporal, logger }, config.api.port, config.api.host);
  logger.info({ url: web.url, temporal: config.temporal.address }, 'api listening');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutting down api');
      void stopWebServer(web)
        .then(() => temporal.close())
        .then(() => process.exit(0));
    });
  }
}

runMain('api', main);
