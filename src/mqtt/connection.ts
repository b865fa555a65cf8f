// The broker connection settings every MQTT client of ours shares: URL, credentials and a fixed client id
// per role, so the broker keeps each one's session (subscriptions, messages not yet acknowledged).
import type { IClientOptions } from 'mqtt';
import type { Config } from '../config/config';

export type MqttRole = 'ingress' | 'state';

export function mqttOptions(config: Config, role: MqttRole): { url: string; options: IClientOptions } {
  const { url, username, password, clientId } = config.mqtt;
  if (!url) throw new Error('mqtt.url is not set (MQTT_URL)');
  return {
    url,
    options: {
      clientId: `${clientId}-${role}`,
      username,
      password,
      protocolVersion: 4,
      // A persistent session: what is published for us while we are away waits at the broker.
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    },
  };
}

/** The broker's address for logs: never its credentials. */
export function brokerLabel(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}`;
}
