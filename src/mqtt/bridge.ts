// MQTT in and out as one unit a launcher starts when `mqtt.url` is set: the ingress (when device rules
// are configured) and the state publisher (unless `mqtt.state.enabled` is false).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Config } from '../config/config';
import type { Logger } from '../config/logger';
import { MqttIngress } from './ingress';
import { StatePublisher, type ChangeSource } from './state-publisher';

/** Ours, for Home Assistant's device and origin info (src/mqtt and dist/mqtt are both two levels down). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export interface RunningMqtt {
  ingress: MqttIngress | undefined;
  publisher: StatePublisher | undefined;
  /** Settles once both reached the broker the first time (they keep trying until then). */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export function startMqtt(opts: {
  config: Config;
  /** Temporal client the ingress sends events with. */
  client: Client;
  /** That client shares the worker's connection: opening events start eagerly (see MqttIngress). */
  eagerOpenings?: boolean;
  logger: Logger;
  /** Change feed for the state topics; without one only discovery and availability are published. */
  source?: ChangeSource;
}): RunningMqtt | undefined {
  const { config, client, eagerOpenings, logger, source } = opts;
  const version = packageVersion();
  if (!config.mqtt.url) return undefined;
  const ingress =
    Object.keys(config.mqtt.ingress.devices).length > 0
      ? new MqttIngress({ config, client, eagerOpenings, logger })
      : undefined;
  const publisher = config.mqtt.state.enabled
    ? new StatePublisher({ config, source, logger, version })
    : undefined;
  // Both keep reconnecting by themselves: a broker that is not up yet delays nothing else.
  const ready = Promise.all([ingress?.start(), publisher?.start()]).then(() => undefined);
  return {
    ingress,
    publisher,
    ready,
    async stop() {
      await ingress?.stop();
      await publisher?.stop();
    },
  };
}
