// Gateway entrypoint: `npm run gateway` (or `node dist/gateway/main.js`) with GATEWAY_ID set. Owns the boards
// of the homes naming this gateway, runs their siren commands on task queue `gateway-<id>`, and sends their
// detector events to Temporal with its own client identity.
import { hostname } from 'node:os';
import { NativeConnection, Worker } from '@temporalio/worker';
import { stopWebServer } from '../api/server';
import { heartbeatDelivery } from '../activities/keep-alive';
import { dataConverterFor } from '../codec/aes-gcm-codec';
import { ConfigError, configSummary, gatewayTaskQueue, loadConfig, requireCodecKeys } from '../config/config';
import { createLogger } from '../config/logger';
import { installRuntime } from '../config/runtime';
import { activityTracing, startTracing } from '../config/tracing';
import { runMain, UserFacingError } from '../config/run-main';
import { temporalConnectionSettings } from '../config/temporal-connection';
import { loadFirmata } from '../hardware/board-io';
import { Gateway, gatewayClient, homesOfGateway } from './gateway';
import { startGatewayHttp } from './http';

async function connectWithRetry(
  connect: () => Promise<NativeConnection>,
  log: ReturnType<typeof createLogger>,
): Promise<NativeConnection> {
  // The boards keep their state while Temporal is away; keep trying rather than exit.
  for (let delay = 1000; ; delay = Math.min(delay * 2, 15_000)) {
    try {
      return await connect();
    } catch (err) {
      log.warn({ err: (err as Error).message, retryInMs: delay }, 'Temporal not reachable yet');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

async function main() {
  const logger = createLogger('gateway');
  const config = loadConfig();
  const gatewayId = config.gateway.id;
  if (!gatewayId)
    throw new ConfigError('the gateway needs an id: set GATEWAY_ID (or gateway.id) to the id its homes name');
  const homeIds = homesOfGateway(config, gatewayId);
  if (homeIds.length === 0) {
    throw new ConfigError(
      `gateway '${gatewayId}' serves no home: set homes.<homeId>.gateway to "${gatewayId}" ` +
        `(configured homes: ${Object.keys(config.homes).join(', ') || 'none'})`,
    );
  }
  requireCodecKeys(config);
  logger.info(`configuration: ${configSummary(config)}`);
  installRuntime(logger, config.telemetry);
  startTracing(`sessionflow-gateway-${gatewayId}`, config.telemetry);
  if (homeIds.some((h) => config.homes[h].board.type === 'serial')) {
    try {
      loadFirmata();
    } catch (err) {
      throw new UserFacingError((err as Error).message);
    }
  }

  const identity = `gateway-${gatewayId}@${hostname()}`;
  const client = gatewayClient(config, identity);
  const gateway = new Gateway({ config, gatewayId, homeIds, logger, client });
  gateway.start();
  const http = await startGatewayHttp(gateway, config, logger);

  const connection = await connectWithRetry(
    () => NativeConnection.connect(temporalConnectionSettings(config)),
    logger,
  );
  const taskQueue = gatewayTaskQueue(gatewayId);
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    identity,
    activities: gateway.activities(),
    // Siren commands heartbeat while they wait for a board; deliver them promptly (keep-alive.ts).
    ...heartbeatDelivery,
    // Siren commands arrive encrypted like every payload (see src/codec).
    dataConverter: dataConverterFor(config),
    ...activityTracing(),
    shutdownGraceTime: '5s',
  });
  logger.info({ gatewayId, taskQueue, homes: homeIds, address: config.temporal.address }, 'gateway running');
  // The SDK's runtime drains the worker on SIGINT/SIGTERM; run() then returns.
  await worker.run();
  if (http) await stopWebServer(http);
  await gateway.stop();
  await client.connection.close();
  await connection.close();
  logger.info('gateway stopped');
}

runMain('gateway', main);
