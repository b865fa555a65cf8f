// MQTT out: every session change from the change feed as a retained QoS 1 message on the session's state
// topic, Home Assistant discovery for the sessions the configuration knows, and an availability topic
// (`online` while we run; the broker publishes our will, `offline`, when we are gone).
import { connect, type MqttClient } from 'mqtt';
import type { Config } from '../config/config';
import type { Logger } from '../config/logger';
import type { FeedItem } from '../read-model/feed';
import { brokerLabel, mqttOptions } from './connection';
import { discoveryMessages } from './ha-discovery';
import { availabilityTopic, sessionStateMessage, stateTopic } from './session-state';

/** What the change feed delivers (the read model's feed, or a stream of the API's). */
export type ChangeItem = FeedItem;

/** A change feed: every change after `after` (none: from now on), then each new one, in order. */
export interface ChangeSource {
  subscribe(after: number | undefined, listener: (item: ChangeItem) => void): () => void;
}

export interface PublisherStats {
  connected: boolean;
  /** State messages handed to the client (it sends them once connected, and again after a reconnect). */
  published: number;
  discovery: number;
  /** Changes of sessions whose kind or key cannot be a topic. */
  skipped: number;
}

export class StatePublisher {
  private mqtt?: MqttClient;
  private unsubscribe?: () => void;
  private readonly log: Logger;
  /** The newest message per state topic: published again when the broker comes back without them. */
  private readonly latest = new Map<string, string>();
  private counts = { published: 0, discovery: 0, skipped: 0 };

  constructor(
    private readonly opts: {
      config: Config;
      /** Without one (no change feed in this process) only discovery and availability go out. */
      source?: ChangeSource;
      logger: Logger;
      version: string;
      /** Broker URL instead of `mqtt.url`. */
      url?: string;
    },
  ) {
    this.log = opts.logger.child({ component: 'mqtt-state' });
  }

  /** Connects and follows the feed; resolves once connected the first time and the backlog is handed over. */
  start(): Promise<void> {
    const { config, source } = this.opts;
    const { url, options } = mqttOptions(config, 'state');
    const broker = this.opts.url ?? url;
    const status = availabilityTopic(config);
    const client = (this.mqtt = connect(broker, {
      ...options,
      will: { topic: status, payload: Buffer.from('offline'), qos: 1, retain: true },
    }));
    client.on('error', (err) => this.log.warn({ err: err.message }, 'MQTT connection error'));
    const connected = new Promise<void>((resolve) =>
      client.on('connect', (connack) => {
        this.log.info({ broker: brokerLabel(broker) }, 'publishing session states');
        this.retain(status, 'online');
        if (config.mqtt.discovery.enabled)
          for (const { topic, payload } of discoveryMessages(config, this.opts.version)) {
            this.retain(topic, JSON.stringify(payload));
            this.counts.discovery += 1;
          }
        // A broker that lost our session may have lost the retained states too (an in-memory one).
        if (!connack.sessionPresent) for (const [topic, message] of this.latest) this.retain(topic, message);
        resolve();
      }),
    );
    // The backlog arrives at once: only each session's newest state is worth sending.
    const backlog = new Map<string, string>();
    let catchingUp = true;
    this.unsubscribe = source?.subscribe(0, (item) => {
      if (!('change' in item)) return;
      const topic = stateTopic(config, item.change.kind, item.change.key);
      if (!topic) {
        this.counts.skipped += 1;
        return;
      }
      const message = JSON.stringify(sessionStateMessage(item.change));
      this.latest.set(topic, message);
      if (catchingUp) backlog.set(topic, message);
      else this.publish(topic, message);
    });
    catchingUp = false;
    for (const [topic, message] of backlog) this.publish(topic, message);
    return connected;
  }

  stats(): PublisherStats {
    return { connected: this.mqtt?.connected ?? false, ...this.counts };
  }

  /** Says `offline` itself (no will needed) and disconnects once what is queued has gone out. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.mqtt?.connected)
      await this.mqtt
        .publishAsync(availabilityTopic(this.opts.config), 'offline', { qos: 1, retain: true })
        .catch(() => undefined);
    await this.mqtt?.endAsync();
  }

  private publish(topic: string, message: string) {
    this.counts.published += 1;
    this.retain(topic, message);
  }

  private retain(topic: string, message: string) {
    // Queued by the client while offline and sent on reconnect; QoS 1 until the broker has it.
    this.mqtt?.publish(topic, message, { qos: 1, retain: true }, (err) => {
      if (err) this.log.warn({ topic, err: err.message }, 'publish failed');
    });
  }
}
