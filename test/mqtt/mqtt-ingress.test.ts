// MQTT in against real brokers — Mosquitto (Debian's, a child process) and the embedded aedes one — with
// the real stack: Temporal dev server, worker, the embedded gateway's simulated siren board and the API.
// Devices publish as Zigbee2MQTT does; the ingress turns their messages into session events.
import '../support/quiet-runtime';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, makeGrpcRetryInterceptor } from '@temporalio/client';
import { connectAsync, type MqttClient } from 'mqtt';
import { dataConverterFor } from '../../src/codec/aes-gcm-codec';
import type { Config } from '../../src/config/config';
import { freePort } from '../../src/dev/temporal-dev-server';
import { startEmbeddedBroker } from '../../src/mqtt/embedded-broker';
import { discoveryMessages } from '../../src/mqtt/ha-discovery';
import { MqttIngress } from '../../src/mqtt/ingress';
import { sessionStateMessageSchema } from '../../src/mqtt/session-state';
import { StatePublisher } from '../../src/mqtt/state-publisher';
import { eventually, http, startLocalStack, type LocalStack } from '../support/local-stack';
import { startMosquitto } from '../support/mosquitto';
import { retainedOn } from '../support/mqtt-retained';
import { testLogger } from '../support/silent-logger';
import { ownerToken } from '../support/test-config';
import { FreezableProxy } from '../support/tcp-proxy';

const homes = ['mq-open', 'mq-redeliver', 'mq-away', 'mq-junk', 'mq-outage'];
const SIREN_PIN = 13;
const smokeTopic = (homeId: string) => `zigbee2mqtt/${homeId}/kitchen_smoke`;
const devices = Object.fromEntries(
  homes.map((homeId) => [
    `${homeId}-kitchen`,
    {
      topic: smokeTopic(homeId),
      match: { json: { smoke: true } },
      kind: 'smoke-alarm',
      key: homeId,
      event: 'smokeDetected',
      body: { detectorId: 'kitchen' },
    },
  ]),
);
/** What Zigbee2MQTT publishes for a smoke detector (the fields besides `smoke` vary message to message). */
const z2m = (smoke: boolean, linkquality = 120) =>
  JSON.stringify({ battery: 97, battery_low: false, linkquality, smoke, tamper: false });

const brokers = {
  mosquitto: async () => {
    const m = await startMosquitto('mosquitto-ingress');
    return { url: m.url, port: m.port, stop: () => m.stop() };
  },
  aedes: async () => {
    const b = await startEmbeddedBroker({ port: 0 });
    return { url: b.url, port: b.port, stop: () => b.stop() };
  },
};

describe.each(Object.keys(brokers) as (keyof typeof brokers)[])('MQTT ingress on %s', (brokerName) => {
  let broker: { url: string; port: number; stop(): Promise<void> };
  let stack: LocalStack;
  let publisher: MqttClient;
  let states: StatePublisher;
  const running = new Set<MqttIngress>();

  const mqttConfig = (): Config => stack.config;
  const ingressOf = (config: Config, extra: Partial<ConstructorParameters<typeof MqttIngress>[0]> = {}) => {
    const ingress = new MqttIngress({
      config,
      client: stack.client,
      logger: testLogger,
      statsLogSeconds: 0,
      ...extra,
    });
    running.add(ingress);
    return ingress;
  };
  const alarm = async (homeId: string) =>
    (await http(stack.api.url, 'GET', `/homes/${homeId}/alarm`, { token: ownerToken(homeId) })).body;
  /** The home's alarm, opened by exactly one kitchen smoke event, which this ingress sent. */
  const openedOnceBy = async (homeId: string, ingress: MqttIngress) => {
    const status = await eventually(
      () => alarm(homeId),
      (s) => s?.state === 'waiting-for-cancel',
    );
    expect(status.detectors).toEqual([expect.objectContaining({ detectorId: 'kitchen', events: 1 })]);
    expect(ingress.stats()).toMatchObject({ sent: 1, redelivered: 0 });
    return status;
  };
  const siren = (homeId: string) => stack.deps.gateway.simulatedBoards.get(homeId)?.pinValue(SIREN_PIN);

  beforeAll(async () => {
    broker = await brokers[brokerName]();
    stack = await startLocalStack({
      homes,
      simulator: true,
      overrides: {
        mqtt: {
          url: broker.url,
          clientId: `test-${brokerName}`,
          ingress: {
            devices,
            maxPayloadBytes: 4096,
            dedupe: { path: join(mkdtempSync(join(tmpdir(), 'sf-mqtt-')), 'ingress.db') },
          },
        },
      },
    });
    publisher = await connectAsync(broker.url, { clientId: `test-device-${brokerName}` });
    // MQTT out, from the read model's change feed the API serves.
    states = new StatePublisher({
      config: stack.config,
      source: stack.api.readModel!.feed,
      logger: testLogger,
      version: 'test',
    });
    await states.start();
  });

  afterEach(async () => {
    for (const ingress of running) await ingress.stop().catch(() => undefined);
    running.clear();
  });

  afterAll(async () => {
    await publisher?.endAsync();
    await states?.stop();
    await stack?.stop();
    await broker?.stop();
  });

  test('When a Zigbee2MQTT smoke message is published, then the home’s alarm opens, its siren goes on and its state and discovery are retained on the broker', async () => {
    const ingress = ingressOf(mqttConfig());
    await ingress.start();
    expect(siren('mq-open')).not.toBe(1);
    await publisher.publishAsync(smokeTopic('mq-open'), z2m(true), { qos: 1 });
    const status = await openedOnceBy('mq-open', ingress);
    await eventually(
      () => Promise.resolve(siren('mq-open')),
      (v) => v === 1,
    );
    expect(ingress.stats().received).toBe(1);
    // MQTT out: the session's state retained on its topic, and Home Assistant's discovery messages.
    const topic = 'sessionflow/smoke-alarm/mq-open/state';
    const retained = await eventually(
      () => retainedOn(broker.url, ['sessionflow/#', 'homeassistant/#']),
      (m) => m.has(topic),
    );
    expect(sessionStateMessageSchema.parse(JSON.parse(retained.get(topic)!))).toMatchObject({
      state: 'waiting-for-cancel',
      outcome: null,
      deadline: status.cancelDeadline,
      final: false,
    });
    expect(retained.get('sessionflow/status')).toBe('online');
    for (const { topic: config, payload } of discoveryMessages(stack.config, 'test'))
      expect(JSON.parse(retained.get(config) ?? 'null')).toEqual(payload);
  });

  test('When the line drops after Temporal accepted a message but before the PUBACK, then the redelivery counts once', async () => {
    const proxy = await new FreezableProxy({ host: '127.0.0.1', port: broker.port }).start();
    try {
      let accepted!: () => void;
      const acceptedOnce = new Promise<void>((r) => (accepted = r));
      const first = ingressOf(mqttConfig(), {
        url: `mqtt://${proxy.address}`,
        // Cut the line at the worst moment: the event is in Temporal, the PUBACK not yet on its way.
        onAccepted: () => {
          proxy.freeze();
          accepted();
        },
      });
      await first.start();
      await publisher.publishAsync(smokeTopic('mq-redeliver'), z2m(true), { qos: 1 });
      await acceptedOnce;
      // The ingress dies with the message unacknowledged; the broker still holds it for its session.
      await first.kill();
      proxy.thaw();
      const second = ingressOf(mqttConfig());
      await second.start();
      await eventually(
        () => Promise.resolve(second.stats()),
        (s) => s.redelivered === 1,
      );
      expect(second.stats()).toMatchObject({ sent: 0, redelivered: 1 });
      const status = await alarm('mq-redeliver');
      expect(status.detectors).toEqual([expect.objectContaining({ detectorId: 'kitchen', events: 1 })]);
      // A new message with the same content is news, not a redelivery: it counts.
      await publisher.publishAsync(smokeTopic('mq-redeliver'), z2m(true), { qos: 1 });
      await eventually(
        () => alarm('mq-redeliver'),
        (s) => s.detectors[0]?.events === 2,
      );
      expect(second.stats()).toMatchObject({ sent: 1, redelivered: 1 });
    } finally {
      await proxy.stop();
    }
  });

  test('When a device publishes while the ingress is stopped, then the message is delivered once it is back', async () => {
    const before = ingressOf(mqttConfig());
    await before.start();
    await before.stop();
    running.delete(before);
    await publisher.publishAsync(smokeTopic('mq-away'), z2m(true), { qos: 1 });
    const after = ingressOf(mqttConfig());
    await after.start();
    await openedOnceBy('mq-away', after);
  });

  test('When Temporal cannot be reached, then the message is not acknowledged and the next ingress still delivers it', async () => {
    // Nothing listens there, and the client does not retry on its own: every attempt fails at once.
    const connection = Connection.lazy({
      address: `127.0.0.1:${await freePort()}`,
      interceptors: [makeGrpcRetryInterceptor({ delayFunction: () => 0, retryableDecider: () => false })],
    });
    try {
      const cutOff = ingressOf(mqttConfig(), {
        client: new Client({ connection, dataConverter: dataConverterFor(stack.config) }),
      });
      await cutOff.start();
      await publisher.publishAsync(smokeTopic('mq-outage'), z2m(true), { qos: 1 });
      await eventually(
        () => Promise.resolve(cutOff.stats()),
        (s) => s.failedAttempts >= 2,
      );
      // It never got through, so it was never acknowledged: the broker still holds it for the session.
      await cutOff.kill();
      await cutOff.settled();
      running.delete(cutOff);
      expect(cutOff.stats()).toMatchObject({ received: 1, sent: 0 });
      const next = ingressOf(mqttConfig());
      await next.start();
      await openedOnceBy('mq-outage', next);
    } finally {
      await connection.close();
    }
  });

  test('When payloads match nothing, are not JSON or are huge, then each is counted and the next good one still works', async () => {
    const ingress = ingressOf(mqttConfig());
    await ingress.start();
    const topic = smokeTopic('mq-junk');
    await publisher.publishAsync(topic, z2m(false), { qos: 1 });
    await publisher.publishAsync(topic, 'smoke!!', { qos: 1 });
    await publisher.publishAsync(topic, JSON.stringify({ smoke: true, pad: 'x'.repeat(10_000) }), { qos: 1 });
    await publisher.publishAsync(topic, '', { qos: 1 });
    // Retained: replayed to every new subscriber, so never taken for news.
    await publisher.publishAsync(topic, z2m(true, 5), { qos: 1, retain: true });
    await publisher.publishAsync(topic, z2m(true), { qos: 1 });
    await eventually(
      () => alarm('mq-junk'),
      (s) => s?.state === 'waiting-for-cancel',
    );
    await eventually(
      () => Promise.resolve(ingress.stats()),
      (s) => s.received >= 6,
    );
    expect(ingress.stats()).toMatchObject({ unmatched: 1, notJson: 2, tooLarge: 1, sent: 2 });
    await ingress.stop();
    running.delete(ingress);
    const resubscribed = ingressOf(mqttConfig());
    await resubscribed.start();
    await eventually(
      () => Promise.resolve(resubscribed.stats()),
      (s) => s.retained === 1,
    );
    expect(resubscribed.stats().sent).toBe(0);
    await publisher.publishAsync(topic, '', { qos: 1, retain: true });
  });
});
