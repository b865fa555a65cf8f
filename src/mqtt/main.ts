// MQTT entrypoint: `npm run mqtt` (or `node dist/mqtt/main.js`) with MQTT_URL set. Device messages become
// session events (MQTT in); states and Home Assistant discovery go out (MQTT out), the states from the
// read model the workers on this host write. One per deployment: the ingress's client id is fixed, so a
// second one would take its session over.
import { hostname } from 'node:os';
import { ConfigError, configSummary, loadConfig, requireCodecKeys } from '../config/config';
import { createLogger } from '../config/logger';
import { runMain } from '../config/run-main';
import { gatewayClient } from '../gateway/gateway';
import { ChangeFeed } from '../read-model/feed';
import { readModelAt } from '../read-model/store';
import { startMqtt } from './bridge';
import { brokerLabel } from './connection';

async function main() {
  const logger = createLogger('mqtt');
  const config = loadConfig();
  if (!config.mqtt.url)
    throw new ConfigError('set MQTT_URL (mqtt.url) to the broker, e.g. mqtt://127.0.0.1:1883');
  requireCodecKeys(config);
  logger.info(`configuration: ${configSummary(config)}`);
  const client = gatewayClient(config, `mqtt-ingress@${hostname()}`);
  // The read model every worker on this host writes (a shared SQLite file): its feed has every change.
  const feed = new ChangeFeed(readModelAt(config.readModel.path));
  const mqtt = startMqtt({ config, client, logger, source: feed })!;
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    await mqtt.stop();
    feed.stop();
    await client.connection.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  await mqtt.ready;
  logger.info(
    { broker: brokerLabel(config.mqtt.url), devices: Object.keys(config.mqtt.ingress.devices).length },
    'mqtt running',
  );
}

runMain('mqtt', main);
