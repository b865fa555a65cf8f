// MQTT in: device messages (Zigbee2MQTT, Tasmota, Shelly, anything that publishes) become session events,
// for every registered kind alike, through the configured device rules (topic + payload match → kind,
// key, event, body). The same check and the same send as the API's.
//
// Delivery: QoS 1 on a persistent session (fixed client id, clean: false), so what is published while
// we are away waits at the broker. A message is acknowledged (PUBACK) only once its event is durably
// accepted by Temporal and recorded in the delivery log, so nothing accepted is lost and a redelivery is
// recognised (see delivery-log.ts). mqtt.js hands us one message at a time and sends the PUBACK when our
// `handleMessage` calls back; a message that matches nothing, is not JSON or is too large is counted,
// logged and acknowledged (redelivering it would change nothing), never a crash.
import { connect, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Client } from '@temporalio/client';
import { eventRefusal, type Config, type MqttDevice } from '../config/config';
import { findKind } from '../config/kinds';
import type { Logger } from '../config/logger';
import { retryUntilDone } from '../config/retry';
import { sendSessionEventIfRunning } from '../config/session-events';
import { brokerLabel, mqttOptions } from './connection';
import { DeliveryLog, fingerprint } from './delivery-log';
import { matchMessage } from './match';

export interface IngressStats {
  connected: boolean;
  /** Messages handed to us (redeliveries included). */
  received: number;
  /** Events Temporal accepted. */
  sent: number;
  /** Messages already accepted before, delivered again: acknowledged, not sent again. */
  redelivered: number;
  /** Retained messages replayed on subscribing: old news, never an event. */
  retained: number;
  unmatched: number;
  notJson: number;
  tooLarge: number;
  /** Events the configuration's check refused (as the API would, with 422). */
  refused: number;
  /** Events that only join a session when none was running (a door closing with no session open). */
  noSession: number;
  /** Attempts Temporal did not accept (retried until it does). */
  failedAttempts: number;
}

export interface IngressOptions {
  config: Config;
  /** Temporal client the events are sent with (its identity names the ingress in history). */
  client: Client;
  /** That client shares the worker's connection (`npm start`): opening events start eagerly. */
  eagerOpenings?: boolean;
  logger: Logger;
  /** Broker URL instead of `mqtt.url` (tests go through a proxy). */
  url?: string;
  /** How often the counters are logged; 0: only at stop. */
  statsLogSeconds?: number;
  /** Called once a message's events are accepted and recorded, before the PUBACK (tests cut the line here). */
  onAccepted?: (topic: string, packetId: number | undefined) => void | Promise<void>;
}

export class MqttIngress {
  private mqtt?: MqttClient;
  private readonly log: Logger;
  private readonly deliveries: DeliveryLog;
  private readonly byTopic = new Map<string, [string, MqttDevice][]>();
  private readonly abort = new AbortController();
  private readonly counts: Omit<IngressStats, 'connected'> = {
    received: 0,
    sent: 0,
    redelivered: 0,
    retained: 0,
    unmatched: 0,
    notJson: 0,
    tooLarge: 0,
    refused: 0,
    noSession: 0,
    failedAttempts: 0,
  };
  /** One message at a time, across reconnects too: a redelivery waits for the first delivery's outcome. */
  private queue: Promise<void> = Promise.resolve();
  private statsTimer?: NodeJS.Timeout;
  private subscribedOnce?: Promise<void>;

  constructor(private readonly opts: IngressOptions) {
    const { ingress, clientId } = opts.config.mqtt;
    for (const [deviceId, device] of Object.entries(ingress.devices)) {
      const rules = this.byTopic.get(device.topic) ?? [];
      rules.push([deviceId, device]);
      this.byTopic.set(device.topic, rules);
    }
    this.log = opts.logger.child({ component: 'mqtt-ingress' });
    this.deliveries = new DeliveryLog(
      ingress.dedupe.path,
      `${clientId}-ingress`,
      ingress.dedupe.windowSeconds * 1000,
    );
  }

  get topics(): string[] {
    return [...this.byTopic.keys()];
  }

  /** Connects (and keeps reconnecting); resolves once the device topics are subscribed the first time. */
  start(): Promise<void> {
    const { url, options } = mqttOptions(this.opts.config, 'ingress');
    const broker = this.opts.url ?? url;
    const client = (this.mqtt = connect(broker, options));
    client.handleMessage = (packet, done) => {
      const handled = this.queue.then(() => this.handle(packet));
      this.queue = handled.catch(() => undefined);
      // No PUBACK for a message we could not hand over (we are stopping): the broker keeps it for later.
      handled.then(
        () => done(),
        (err: unknown) => done(err as Error),
      );
    };
    this.subscribedOnce = new Promise((resolve) => {
      client.on('connect', (connack) => {
        // Without a session nothing sent now is a redelivery, and packet ids start over.
        if (!connack.sessionPresent) this.deliveries.sessionLost();
        this.log.info(
          { broker: brokerLabel(broker), sessionPresent: connack.sessionPresent, topics: this.topics.length },
          'connected to the MQTT broker',
        );
        if (this.topics.length === 0) return resolve();
        // Always (re)subscribe: a broker that lost our session lost the subscriptions with it.
        client.subscribe(this.topics, { qos: 1 }, (err) => {
          if (err) this.log.error({ err: err.message }, 'subscribing to the device topics failed');
          else resolve();
        });
      });
    });
    client.on('error', (err) => this.log.warn({ err: err.message }, 'MQTT connection error'));
    client.on('offline', () => this.log.warn('MQTT broker unreachable; reconnecting'));
    const every = this.opts.statsLogSeconds ?? 60;
    if (every > 0) {
      this.statsTimer = setInterval(() => this.logStats(), every * 1000);
      this.statsTimer.unref();
    }
    return this.subscribedOnce;
  }

  stats(): IngressStats {
    return { connected: this.mqtt?.connected ?? false, ...this.counts };
  }

  /** Stops retrying, ends the connection (a message still pending is not acknowledged) and logs the counters. */
  async stop(): Promise<void> {
    this.abort.abort();
    clearInterval(this.statsTimer);
    await this.queue;
    await this.mqtt?.endAsync();
    this.deliveries.close();
    this.logStats();
  }

  /** Settles when no message is being handled (tests wait for this before closing what it uses). */
  settled(): Promise<void> {
    return this.queue;
  }

  /** As a crash would: the connection dropped at once, nothing more acknowledged. */
  async kill(): Promise<void> {
    this.abort.abort();
    clearInterval(this.statsTimer);
    await this.mqtt?.endAsync(true);
    this.deliveries.close();
  }

  private logStats() {
    this.log.info(this.stats(), 'mqtt ingress counters');
    // Records past the window can no longer stop anything.
    if (!this.abort.signal.aborted) this.deliveries.prune();
  }

  private async handle(packet: IPublishPacket): Promise<void> {
    if (this.abort.signal.aborted) throw new Error('ingress stopping');
    const { topic, messageId } = packet;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    this.counts.received += 1;
    if (packet.retain) {
      // A retained message replayed on subscribing is the device's last state, maybe from long ago.
      this.counts.retained += 1;
      this.log.debug({ topic }, 'retained message skipped');
      return;
    }
    const { maxPayloadBytes } = this.opts.config.mqtt.ingress;
    const verdict = matchMessage(this.byTopic.get(topic) ?? [], payload, maxPayloadBytes);
    if (verdict.kind !== 'matched') {
      const about = { topic, bytes: payload.length };
      if (verdict.kind === 'too-large') {
        this.counts.tooLarge += 1;
        this.log.warn({ ...about, maxPayloadBytes }, 'message too large: dropped');
      } else if (verdict.kind === 'not-json') {
        this.counts.notJson += 1;
        this.log.warn({ ...about, start: payload.subarray(0, 80).toString('utf8') }, 'message is not JSON');
      } else {
        // Devices report much that is no event (battery, link quality): counted, logged at debug.
        this.counts.unmatched += 1;
        this.log.debug(about, 'message matches no device rule');
      }
      return;
    }
    const hash = messageId === undefined ? undefined : fingerprint(topic, payload);
    if (messageId !== undefined && hash && this.deliveries.accepted(messageId, hash)) {
      this.counts.redelivered += 1;
      this.log.info(
        { topic, packetId: messageId, dup: packet.dup },
        'redelivered message: sent before, not again',
      );
      return;
    }
    for (const deviceId of verdict.deviceIds) await this.send(deviceId);
    if (messageId !== undefined && hash) this.deliveries.record(messageId, hash);
    await this.opts.onAccepted?.(topic, messageId);
  }

  /** One device rule's event, retried until Temporal accepts it (or we stop). */
  private async send(deviceId: string): Promise<void> {
    const { config, client } = this.opts;
    const device = config.mqtt.ingress.devices[deviceId];
    const kind = findKind(device.kind);
    const about = { deviceId, kind: device.kind, key: device.key, event: device.event };
    if (!kind) return; // the configuration refuses unknown kinds
    const refusal = eventRefusal(config, kind, device.key, device.event, device.body);
    if (refusal !== undefined) {
      this.counts.refused += 1;
      this.log.warn({ ...about, refusal }, 'event refused by its check');
      return;
    }
    const sent = await retryUntilDone(
      () =>
        sendSessionEventIfRunning(client, config, kind, device.key, device.event, device.body, {
          eager: this.opts.eagerOpenings === true,
        }),
      {
        signal: this.abort.signal,
        onError: (err, retryInMs) => {
          this.counts.failedAttempts += 1;
          this.log.warn({ ...about, err: err.message, retryInMs }, 'event not accepted yet; retrying');
        },
      },
    );
    if (!sent) {
      this.counts.noSession += 1;
      this.log.info(about, 'no running session to join');
      return;
    }
    this.counts.sent += 1;
    this.log.info({ ...about, runId: sent.runId }, 'event sent');
  }
}
