// The API in the worker's process (as `npm start` runs them) opens sessions with an eager start: the server
// hands the first workflow task back in its reply to the worker beside the API, and the opening event
// travels in the start input instead of a signal. Real dev server, real worker, real HTTP, the embedded
// gateway's simulated board and a real (embedded) MQTT broker.
import '../support/quiet-runtime';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/mqtt/embedded-broker';
import { MqttIngress } from '../../src/mqtt/ingress';
import { testLogger } from '../support/silent-logger';
import { temporal } from '@temporalio/proto';
import { sendSessionEvent } from '../../src/config/session-events';
import { sessionKind as doorKind } from '../../src/shared/door-left-open';
import { sessionKind as alarmKind, smokeAlarmWorkflowId } from '../../src/shared/smoke-alarm';
import { AesGcmCodec } from '../../src/codec/aes-gcm-codec';
import { decodedText } from '../support/history-payloads';
import { scrape, total } from '../support/prometheus';
import { eventually, http, startLocalStack, type LocalStack } from '../support/local-stack';
import { deviceToken, ownerToken } from '../support/test-config';

const EventType = temporal.api.enums.v1.EventType;
const burst = Array.from({ length: 8 }, (_, i) => `home-burst-${i}`);
const homes = [
  'home-eager',
  'home-joined',
  'home-unhandled',
  'home-door',
  'home-board',
  'home-mqtt',
  ...burst,
];
const mqttTopic = 'zigbee2mqtt/home-mqtt/kitchen_smoke';
let stack: LocalStack;
let url: string;
let broker: EmbeddedBroker;

beforeAll(async () => {
  broker = await startEmbeddedBroker({ port: 0 });
  stack = await startLocalStack({
    homes,
    cancelWindowSeconds: 60,
    homeOverrides: { 'home-door': { doors: { front: { pin: 4 } } } },
    apiInWorkerProcess: true,
    // The embedded gateway runs for real, on the worker's connection too, as under `npm start`.
    simulator: true,
    overrides: {
      mqtt: {
        url: broker.url,
        clientId: 'test-eager',
        ingress: {
          devices: {
            'home-mqtt-kitchen': {
              topic: mqttTopic,
              match: { json: { smoke: true } },
              kind: 'smoke-alarm',
              key: 'home-mqtt',
              event: 'smokeDetected',
              body: { detectorId: 'kitchen' },
            },
          },
          dedupe: { path: join(mkdtempSync(join(tmpdir(), 'sf-eager-')), 'ingress.db') },
        },
      },
    },
  });
  url = stack.api.url;
});

afterAll(async () => {
  await stack?.stop();
  await broker?.stop();
});

const smoke = (homeId: string, detectorId: string) =>
  http(url, 'POST', `/homes/${homeId}/smoke`, { token: deviceToken(homeId), body: { detectorId } });
const alarmStatus = (homeId: string) =>
  http(url, 'GET', `/homes/${homeId}/alarm?consistent=true`, { token: ownerToken(homeId) });
const eagerOpenings = async (kind: string) =>
  total(await scrape(`${url}/metrics`), 'sessionflow_eager_openings_total', { kind });
const eventTypes = async (workflowId: string) =>
  ((await stack.client.workflow.getHandle(workflowId).fetchHistory()).events ?? []).map((e) => e.eventType);

test('When a smoke is posted to an API in the worker process, then the session opens eagerly with the event from its input: detector recorded, siren on, no signal in history', async () => {
  const res = await smoke('home-eager', 'kitchen');
  expect(res.status).toBe(202);
  expect(await eagerOpenings(alarmKind.name)).toBe(1);

  const status = await eventually(
    () => alarmStatus('home-eager'),
    (r) => r.body?.siren === 'on',
  );
  expect(status.body).toMatchObject({ state: 'waiting-for-cancel', openedInRun: res.body.runId });
  expect(status.body.detectors.map((d: { detectorId: string }) => d.detectorId)).toEqual(['kitchen']);

  const workflowId = smokeAlarmWorkflowId('home-eager');
  const types = await eventTypes(workflowId);
  expect(types).not.toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  // The input carries the opening event, encrypted like every payload.
  const history = await decodedText(
    await stack.client.workflow.getHandle(workflowId).fetchHistory(),
    AesGcmCodec.fromConfig(stack.config),
  );
  expect(history).toContain('"opening":{"signal":"smokeDetected","body":{"detectorId":"kitchen"}}');
});

test('When eight smokes open sessions at once, then every one starts eagerly: the worker keeps task slots that its polls do not hold', async () => {
  const before = await eagerOpenings(alarmKind.name);
  const posted = await Promise.all(burst.map((homeId) => smoke(homeId, 'kitchen')));
  expect(posted.map((r) => r.status)).toEqual(burst.map(() => 202));
  expect(await eagerOpenings(alarmKind.name)).toBe(before + burst.length);
  for (const homeId of burst)
    await eventually(
      () => alarmStatus(homeId),
      (r) => r.body?.siren === 'on',
    );
});

test('When a second smoke is posted while the session runs, then it joins that run by signal (no second session): the second detector escalates it', async () => {
  const first = await smoke('home-joined', 'kitchen');
  await eventually(
    () => alarmStatus('home-joined'),
    (r) => r.body?.siren === 'on',
  );
  const second = await smoke('home-joined', 'hall');
  expect(second.status).toBe(202);
  expect(second.body.runId).toBe(first.body.runId);
  const status = await eventually(
    () => alarmStatus('home-joined'),
    (r) => r.body?.state === 'escalated',
  );
  expect(status.body.detectors.map((d: { detectorId: string }) => d.detectorId)).toEqual(['kitchen', 'hall']);
  expect(await eventTypes(smokeAlarmWorkflowId('home-joined'))).toContain(
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
  );
});

test('When a detector on a board of the embedded gateway beside the worker fires, then its session opens eagerly too: the event in the input, the siren on', async () => {
  const homeId = 'home-board';
  await eventually(
    () => Promise.resolve(stack.deps.gateway.status().homes.find((h) => h.homeId === homeId)),
    (h) => h?.connected === true,
  );
  // The kitchen detector (pin 2 in the test homes) goes active.
  stack.deps.simulatedBoards.get(homeId)!.setInput(2, 1);
  const status = await eventually(
    () => alarmStatus(homeId),
    (r) => r.status === 200 && r.body?.siren === 'on',
  );
  expect(status.body.detectors.map((d: { detectorId: string }) => d.detectorId)).toEqual(['kitchen']);
  const workflowId = smokeAlarmWorkflowId(homeId);
  expect(await eventTypes(workflowId)).not.toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
  const history = await decodedText(
    await stack.client.workflow.getHandle(workflowId).fetchHistory(),
    AesGcmCodec.fromConfig(stack.config),
  );
  expect(history).toContain('"opening":{"signal":"smokeDetected","body":{"detectorId":"kitchen"}}');
});

test('When a smoke detector publishes over MQTT to an ingress on the worker connection, then its session opens eagerly too', async () => {
  const ingress = new MqttIngress({
    config: stack.config,
    client: stack.temporal.client,
    eagerOpenings: true,
    logger: testLogger,
    statsLogSeconds: 0,
  });
  await ingress.start();
  const device = await connectAsync(broker.url, { clientId: 'test-eager-device' });
  try {
    await device.publishAsync(mqttTopic, JSON.stringify({ smoke: true, battery: 97 }), { qos: 1 });
    const status = await eventually(
      () => alarmStatus('home-mqtt'),
      (r) => r.status === 200 && r.body?.siren === 'on',
    );
    expect(status.body.detectors.map((d: { detectorId: string }) => d.detectorId)).toEqual(['kitchen']);
    expect(await eventTypes(smokeAlarmWorkflowId('home-mqtt'))).not.toContain(
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    );
  } finally {
    await device.endAsync();
    await ingress.stop();
  }
});

test('When an eager opening finds a session running after all, then the event joins it by signal-with-start', async () => {
  const first = await smoke('home-joined', 'bedroom');
  const sent = await stack.temporal.call((client) =>
    sendSessionEvent(
      client,
      stack.config,
      alarmKind,
      'home-joined',
      'smokeDetected',
      { detectorId: 'attic' },
      {
        eager: true,
      },
    ),
  );
  expect(sent.runId).toBe(first.body.runId);
  expect(sent.eager).toBeUndefined();
  const status = await eventually(
    () => alarmStatus('home-joined'),
    (r) => r.body?.detectors?.length === 4,
  );
  expect(status.body.detectors.map((d: { detectorId: string }) => d.detectorId)).toContain('attic');
});

test('When a door opens through an API in the worker process, then its session opens eagerly too', async () => {
  const key = 'home-door.front';
  const res = await http(url, 'POST', `/sessions/${doorKind.name}/${key}/events/doorOpened`, {
    token: deviceToken('home-door'),
    body: {},
  });
  expect(res.status).toBe(202);
  expect(await eagerOpenings(doorKind.name)).toBe(1);
  const status = await eventually(
    () =>
      http(url, 'GET', `/sessions/${doorKind.name}/${key}?consistent=true`, {
        token: ownerToken('home-door'),
      }),
    (r) => r.status === 200,
  );
  expect(status.body.state).toBe(doorKind.model.decl.initial);
});

test('When a start input carries an opening event its workflow does not handle, then the first task fails and names it, and the session waits instead of running without it', async () => {
  const workflowId = smokeAlarmWorkflowId('home-unhandled');
  await stack.temporal.client.workflow.start(alarmKind.workflowType, {
    workflowId,
    taskQueue: stack.config.temporal.taskQueue,
    args: [
      { homeId: 'home-unhandled', cancelWindowMs: 60_000, opening: { signal: 'smokeDetectd', body: {} } },
    ],
    requestEagerStart: true,
  });
  const failure = await eventually(
    async () => (await stack.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [],
    (events) => events.some((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED),
  );
  const failed = failure.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
  expect(failed?.workflowTaskFailedEventAttributes?.failure?.message).toContain("'smokeDetectd'");
  const types = failure.map((e) => e.eventType);
  expect(types).not.toContain(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
  expect(types).not.toContain(EventType.EVENT_TYPE_MARKER_RECORDED);
  await stack.client.workflow.getHandle(workflowId).terminate('test done');
});
