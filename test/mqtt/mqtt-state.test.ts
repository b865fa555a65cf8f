// MQTT out against a real Mosquitto: session states retained on `sessionflow/<kind>/<key>/state`, and
// Home Assistant discovery messages for the configured sessions, checked against HA's documented MQTT
// discovery schema (the fields we use, strictly: a typo is an unknown key).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseConfig, type Config } from '../../src/config/config';
import { discoveryMessages } from '../../src/mqtt/ha-discovery';
import { sessionStateMessageSchema } from '../../src/mqtt/session-state';
import { StatePublisher } from '../../src/mqtt/state-publisher';
import { ChangeFeed } from '../../src/read-model/feed';
import { ReadModelStore } from '../../src/read-model/store';
import { eventually } from '../support/eventually';
import { startMosquitto, type RunningMosquitto } from '../support/mosquitto';
import { retainedOn } from '../support/mqtt-retained';
import { testLogger } from '../support/silent-logger';
import { testHome } from '../support/test-config';

// Home Assistant's MQTT discovery (integrations/mqtt, "Discovery messages"): the topic is
// <discovery_prefix>/<component>/[<node_id>/]<object_id>/config, ids of [a-zA-Z0-9_-]; the payload is the
// component's configuration (integrations/sensor.mqtt, binary_sensor.mqtt) with a device and origin map.
const haId = z.string().regex(/^[a-zA-Z0-9_-]+$/);
const discoveryTopicSchema = z
  .string()
  .regex(/^homeassistant\/(sensor|binary_sensor)\/[a-zA-Z0-9_-]+\/[a-zA-Z0-9_-]+\/config$/);
const template = z.string().regex(/^\{\{.*\}\}$/);
const haCommon = {
  name: z.string().min(1).nullable(),
  unique_id: haId,
  state_topic: z.string().min(1),
  value_template: template,
  json_attributes_topic: z.string().min(1),
  availability_topic: z.string().min(1),
  payload_available: z.string(),
  payload_not_available: z.string(),
  qos: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  device: z.strictObject({
    identifiers: z.union([z.string(), z.array(z.string()).min(1)]),
    name: z.string().min(1),
    manufacturer: z.string().optional(),
    model: z.string().optional(),
    sw_version: z.string().optional(),
  }),
  // `name` is required once origin is given.
  origin: z.strictObject({
    name: z.string().min(1),
    sw_version: z.string().optional(),
    support_url: z.url().optional(),
  }),
};
// Sensor device classes we use; `timestamp` wants an ISO 8601 time with a zone (or None: unknown).
const sensorSchema = z.strictObject({ ...haCommon, device_class: z.enum(['timestamp']).optional() });
const binarySensorSchema = z.strictObject({
  ...haCommon,
  payload_on: z.string(),
  payload_off: z.string(),
});

const homes = { 'ha-1': testHome('ha-1', { doors: { front: { pin: 9 } } }), 'ha-2': testHome('ha-2') };
const baseConfig = (url?: string): Config =>
  parseConfig({
    homes,
    mqtt: {
      url,
      clientId: 'test-state',
      ingress: {
        devices: {
          back: {
            topic: 'zigbee2mqtt/ha-2/back_door',
            match: { json: { contact: false } },
            kind: 'door-left-open',
            key: 'ha-2.back',
            event: 'doorOpened',
          },
        },
      },
    },
  });

const alarmChange = (
  homeId: string,
  version: number,
  state: string,
  extra: Record<string, unknown> = {},
) => ({
  workflowId: `smoke-alarm:${homeId}`,
  runId: 'run-1',
  kind: 'smoke-alarm',
  key: homeId,
  version,
  asOf: '2026-11-29T20:00:00.000Z',
  state,
  final: state === 'cancelled' || state === 'resolved',
  homeId,
  customerId: null,
  status: {
    state,
    outcome: null,
    cancelDeadline: '2026-11-29T20:01:00.000Z',
    ...extra,
  },
});

describe('MQTT state and Home Assistant discovery', () => {
  let mosquitto: RunningMosquitto;
  beforeAll(async () => {
    mosquitto = await startMosquitto('mosquitto-state');
  });
  afterAll(async () => {
    await mosquitto?.stop();
  });

  test('When discovery messages are built, then each follows the documented schema and names a session state topic', () => {
    const messages = discoveryMessages(baseConfig(), '1.2.3');
    const sessions = new Set<string>();
    for (const { topic, payload } of messages) {
      discoveryTopicSchema.parse(topic);
      const schema = topic.includes('/binary_sensor/') ? binarySensorSchema : sensorSchema;
      const entity = schema.parse(payload);
      expect(entity.state_topic).toMatch(/^sessionflow\/[a-z-]+\/[A-Za-z0-9._-]+\/state$/);
      // Every field a template reads is one the state message has.
      for (const [, field] of entity.value_template.matchAll(/value_json\.(\w+)/g))
        expect(Object.keys(sessionStateMessageSchema.shape)).toContain(field);
      sessions.add(entity.state_topic);
    }
    expect(new Set(messages.map((m) => m.payload.unique_id)).size).toBe(messages.length);
    // Each home's alarm, ha-1's front door (a board input) and ha-2's back door (an MQTT device rule).
    expect([...sessions].sort()).toEqual([
      'sessionflow/door-left-open/ha-1.front/state',
      'sessionflow/door-left-open/ha-2.back/state',
      'sessionflow/smoke-alarm/ha-1/state',
      'sessionflow/smoke-alarm/ha-2/state',
    ]);
    expect(messages).toHaveLength(sessions.size * 3);
  });

  test('When sessions change, then their newest states and the discovery messages are retained on the broker', async () => {
    const config = baseConfig(mosquitto.url);
    // The read model as the worker's sink writes it, and its feed.
    const store = new ReadModelStore(join(mkdtempSync(join(tmpdir(), 'sf-read-')), 'read-model.db'));
    const feed = new ChangeFeed(store);
    // A backlog before the publisher starts: only each session's newest state needs to go out.
    store.write(alarmChange('ha-1', 1, 'waiting-for-cancel'));
    store.write(alarmChange('ha-1', 2, 'escalated'));
    const publisher = new StatePublisher({ config, source: feed, logger: testLogger, version: '1.2.3' });
    await publisher.start();
    store.write(alarmChange('ha-2', 1, 'waiting-for-cancel'));
    store.write(alarmChange('ha-2', 2, 'cancelled', { outcome: 'cancelled' }));
    await eventually(
      () => retainedOn(mosquitto.url, ['sessionflow/#']),
      (m) => m.get('sessionflow/smoke-alarm/ha-2/state')?.includes('"cancelled"') ?? false,
    );
    expect(publisher.stats()).toMatchObject({ connected: true, published: 3, skipped: 0 });
    const states = await retainedOn(mosquitto.url, ['sessionflow/#']);
    const ha1 = sessionStateMessageSchema.parse(
      JSON.parse(states.get('sessionflow/smoke-alarm/ha-1/state')!),
    );
    expect(ha1).toMatchObject({ state: 'escalated', outcome: null, version: 2, final: false });
    // The alarm's deadline is its cancel window while it waits; none once it escalated.
    expect(ha1.deadline).toBeNull();
    const ha2 = sessionStateMessageSchema.parse(
      JSON.parse(states.get('sessionflow/smoke-alarm/ha-2/state')!),
    );
    expect(ha2).toMatchObject({ state: 'cancelled', outcome: 'cancelled', version: 2, final: true });
    expect(states.get('sessionflow/status')).toBe('online');

    const discovery = await retainedOn(mosquitto.url, ['homeassistant/#']);
    expect([...discovery.keys()].sort()).toEqual(
      discoveryMessages(config, '1.2.3')
        .map((m) => m.topic)
        .sort(),
    );
    for (const [topic, payload] of discovery)
      (topic.includes('/binary_sensor/') ? binarySensorSchema : sensorSchema).parse(JSON.parse(payload));

    await publisher.stop();
    feed.stop();
    store.close();
    expect((await retainedOn(mosquitto.url, ['sessionflow/status'])).get('sessionflow/status')).toBe(
      'offline',
    );
  });
});
