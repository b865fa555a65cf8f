// An edge gateway against a real Temporal dev server: its own worker on queue `gateway-<id>` with real
// johnny-five components (Relay, Led, Button) on the simulated board, the central worker and the API from
// the local stack. Detector pins are pressed on the board; sirens are read from the board's pins.
import '../support/quiet-runtime';
import { dataConverterFor } from '../../src/codec/aes-gcm-codec';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { gatewayTaskQueue } from '../../src/config/config';
import { Gateway, homesOfGateway } from '../../src/gateway/gateway';
import type { SimulatedIO } from '../../src/hardware/simulated-io';
import { smokeAlarmWorkflowId } from '../../src/shared/smoke-alarm';
import { eventually, http, startLocalStack, type LocalStack } from '../support/local-stack';
import { testLogger } from '../support/silent-logger';
import { deviceToken, ownerToken } from '../support/test-config';

const GATEWAY_ID = 'gw-test';
const IDENTITY = `gateway-${GATEWAY_ID}@test`;
const KITCHEN = 2;
const HALL_DETECTOR = 4;
const HALL_SIREN = 7;
const BEDROOM_SIREN = 8;
const DARK_WINDOW_S = 4;
// Escalation is a server timer plus one workflow task; the margin is for a loaded 2-core machine.
const ON_TIME_MS = 3_000;

const hardware = (extra: Record<string, unknown> = {}) => ({
  gateway: GATEWAY_ID,
  board: { type: 'simulated' },
  sirens: {
    hall: { pin: HALL_SIREN, component: 'relay' },
    bedroom: { pin: BEDROOM_SIREN, component: 'led' },
  },
  detectors: {
    kitchen: { pin: KITCHEN, debounceMs: 30 },
    // Wired like an open-collector alarm output: internal pull-up, the detector pulls the pin LOW.
    hall: { pin: HALL_DETECTOR, debounceMs: 30, pullUp: true },
    attic: { pin: 5, debounceMs: 400 },
  },
  ...extra,
});
const homes = ['gw-press', 'gw-two', 'gw-dark', 'gw-bounce', 'gw-central'];

let stack: LocalStack;
let gateway: Gateway;
let gatewayWorker: Worker;
let gatewayRun: Promise<void>;
let nativeConnection: NativeConnection;
let clientConnection: Connection;

beforeAll(async () => {
  stack = await startLocalStack({
    homes,
    cancelWindowSeconds: 60,
    homeOverrides: {
      'gw-press': hardware(),
      // The same hall detector written out as a generic input mapping: the gateway treats both alike.
      'gw-two': hardware({
        detectors: { kitchen: { pin: KITCHEN, debounceMs: 30 } },
        inputs: {
          hall: {
            pin: HALL_DETECTOR,
            debounceMs: 30,
            pullUp: true,
            kind: 'smoke-alarm',
            active: { event: 'smokeDetected', body: { detectorId: 'hall' } },
          },
        },
      }),
      'gw-dark': hardware({ cancelWindowSeconds: DARK_WINDOW_S }),
      'gw-bounce': hardware(),
      'gw-central': hardware(),
    },
  });
  // The central worker's embedded gateway, started as the worker's main does.
  stack.deps.gateway.start();
  clientConnection = await Connection.connect({ address: stack.server.address });
  gateway = new Gateway({
    config: stack.config,
    gatewayId: GATEWAY_ID,
    homeIds: homesOfGateway(stack.config, GATEWAY_ID),
    logger: testLogger,
    client: new Client({
      connection: clientConnection,
      identity: IDENTITY,
      dataConverter: dataConverterFor(stack.config),
    }),
    reconnectDelayMs: 50,
  });
  gateway.start();
  nativeConnection = await NativeConnection.connect({ address: stack.server.address });
  gatewayWorker = await Worker.create({
    connection: nativeConnection,
    taskQueue: gatewayTaskQueue(GATEWAY_ID),
    activities: gateway.activities(),
    dataConverter: dataConverterFor(stack.config),
  });
  gatewayRun = gatewayWorker.run();
});

afterAll(async () => {
  gatewayWorker?.shutdown();
  await gatewayRun;
  await gateway?.settled();
  gateway?.close();
  await nativeConnection?.close();
  await clientConnection?.close();
  await stack?.stop();
});

const board = (homeId: string): SimulatedIO => {
  const io = gateway.simulatedBoards.get(homeId);
  if (!io) throw new Error(`no simulated board for ${homeId}`);
  return io;
};
const status = (homeId: string) =>
  http(stack.api.url, 'GET', `/homes/${homeId}/alarm`, { token: ownerToken(homeId) });
const sirenPins = (homeId: string) => [
  board(homeId).pinValue(HALL_SIREN),
  board(homeId).pinValue(BEDROOM_SIREN),
];
const boardStatus = (homeId: string) => gateway.status().homes.find((h) => h.homeId === homeId)!;
const waitConnected = (homeId: string) =>
  eventually(
    () => Promise.resolve(boardStatus(homeId)),
    (s) => s.connected,
  );
const waitPins = (homeId: string, level: number, timeoutMs?: number) =>
  eventually(
    () => Promise.resolve(sirenPins(homeId)),
    (pins) => pins.every((p) => p === level),
    timeoutMs,
  );

describe('edge gateway', () => {
  test('When a detector pin is pressed, then a session starts and both sirens go HIGH; cancel turns them LOW', async () => {
    await waitConnected('gw-press');
    board('gw-press').setInput(KITCHEN, 1);

    const opened = await eventually(
      () => status('gw-press'),
      (r) => r.body?.siren === 'on',
    );
    expect(opened.body).toMatchObject({
      state: 'waiting-for-cancel',
      detectors: [expect.objectContaining({ detectorId: 'kitchen', events: 1 })],
    });
    expect(sirenPins('gw-press')).toEqual([1, 1]);
    expect(boardStatus('gw-press')).toMatchObject({
      connected: true,
      desiredSiren: 'on',
      sirens: { hall: { written: 'on' }, bedroom: { written: 'on' } },
      inputs: { kitchen: { active: true } },
    });
    // The event was sent by the gateway under its own identity; no token was involved.
    const history = await stack.client.workflow.getHandle(smokeAlarmWorkflowId('gw-press')).fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    expect(started?.identity).toBe(IDENTITY);

    const cancelled = await http(stack.api.url, 'POST', '/homes/gw-press/alarm/cancel', {
      token: ownerToken('gw-press'),
    });
    expect(cancelled.body).toEqual({ state: 'cancelled', outcome: 'cancelled' });
    await waitPins('gw-press', 0);
    await eventually(
      () => status('gw-press'),
      (r) => r.body?.siren === 'off',
    );
    board('gw-press').setInput(KITCHEN, 0);
  });

  test('When two detectors are pressed, then the session escalates at once with one SMS and one call', async () => {
    await waitConnected('gw-two');
    board('gw-two').setInput(KITCHEN, 1);
    await eventually(
      () => status('gw-two'),
      (r) => r.body?.state === 'waiting-for-cancel',
    );
    // The pull-up detector alarms by pulling its pin LOW.
    board('gw-two').setInput(HALL_DETECTOR, 0);
    const escalated = await eventually(
      () => status('gw-two'),
      (r) => r.body?.state === 'escalated',
    );
    expect(escalated.body.escalation.reason).toBe('second-detector');
    expect(escalated.body.detectors.map((d: { detectorId: string }) => d.detectorId)).toEqual([
      'kitchen',
      'hall',
    ]);
    await stack.sink.waitFor(
      () => stack.sink.of('sms', 'gw-two').length === 1 && stack.sink.of('call', 'gw-two').length === 1,
    );
    expect(sirenPins('gw-two')).toEqual([1, 1]);

    await http(stack.api.url, 'POST', '/homes/gw-two/alarm/all-clear', { token: ownerToken('gw-two') });
    await waitPins('gw-two', 0);
    board('gw-two').setInput(KITCHEN, 0);
    board('gw-two').setInput(HALL_DETECTOR, 1);
  });

  test('When the board is unplugged during the alarm, then SMS and call go out on time and the siren is back on when it returns', async () => {
    await waitConnected('gw-dark');
    board('gw-dark').setInput(KITCHEN, 1);
    await waitPins('gw-dark', 1);

    board('gw-dark').unplug();
    expect(sirenPins('gw-dark')).toEqual([0, 0]);
    expect(boardStatus('gw-dark')).toMatchObject({
      connected: false,
      lastError: { message: 'board disconnected' },
    });

    const escalated = await eventually(
      () => status('gw-dark'),
      (r) => r.body?.state === 'escalated',
      DARK_WINDOW_S * 1000 + 10_000,
    );
    const lateness = Date.parse(escalated.body.escalation.at) - Date.parse(escalated.body.cancelDeadline);
    expect(lateness).toBeGreaterThanOrEqual(0);
    expect(lateness).toBeLessThan(ON_TIME_MS);
    await stack.sink.waitFor(
      () => stack.sink.of('sms', 'gw-dark').length === 1 && stack.sink.of('call', 'gw-dark').length === 1,
    );
    expect(sirenPins('gw-dark')).toEqual([0, 0]);

    // Back: the board is brought to the state the session wants (no command is replayed for it).
    board('gw-dark').plugIn();
    await waitPins('gw-dark', 1);
    expect(boardStatus('gw-dark')).toMatchObject({ connected: true, reconnects: 1, desiredSiren: 'on' });
    // The kitchen detector was held all along: read again on reconnect, it is not reported twice.
    await eventually(
      () => Promise.resolve(boardStatus('gw-dark')),
      (s) => s.inputs.kitchen.active,
    );
    await gateway.settled();
    expect((await status('gw-dark')).body.detectors).toEqual([
      expect.objectContaining({ detectorId: 'kitchen', events: 1 }),
    ]);

    // The session ends while the board is away again: the siren is OFF when the board returns.
    board('gw-dark').unplug();
    const cleared = await http(stack.api.url, 'POST', '/homes/gw-dark/alarm/all-clear', {
      token: ownerToken('gw-dark'),
    });
    expect(cleared.body).toEqual({ state: 'resolved', outcome: 'resolved' });
    await eventually(
      () => Promise.resolve(boardStatus('gw-dark')),
      (s) => s.desiredSiren === 'off',
    );
    board('gw-dark').setInput(KITCHEN, 0);
    board('gw-dark').plugIn();
    await eventually(
      () => Promise.resolve(boardStatus('gw-dark')),
      (s) => s.connected && s.sirens.hall.written === 'off' && s.sirens.bedroom.written === 'off',
    );
    expect(sirenPins('gw-dark')).toEqual([0, 0]);
    const final = await stack.client.workflow.getHandle(smokeAlarmWorkflowId('gw-dark')).result();
    expect(final).toMatchObject({ outcome: 'resolved', siren: 'off' });
  });

  test('When a detector pin only bounces (shorter than its debounce), then no session starts', async () => {
    await waitConnected('gw-bounce');
    const io = board('gw-bounce');
    for (let i = 0; i < 5; i++) {
      io.setInput(5, 1);
      await new Promise((r) => setTimeout(r, 40));
      io.setInput(5, 0);
      await new Promise((r) => setTimeout(r, 40));
    }
    await new Promise((r) => setTimeout(r, 800));
    expect((await status('gw-bounce')).status).toBe(404);
    expect(gateway.status().eventsPending).toBe(0);
  });

  test('When every home belongs to an edge gateway, then the central worker holds no board: sirens run on the gateway only', async () => {
    const home = 'gw-central';
    const smoke = await http(stack.api.url, 'POST', `/homes/${home}/smoke`, {
      token: deviceToken(home),
      body: { detectorId: 'kitchen' },
    });
    expect(smoke.status).toBe(202);
    await waitPins(home, 1);
    const cancelled = await http(stack.api.url, 'POST', `/homes/${home}/alarm/cancel`, {
      token: ownerToken(home),
    });
    expect(cancelled.status).toBe(200);
    await waitPins(home, 0);
    // Sessions of every home ran; the central worker's embedded gateway serves none and opened no board.
    const central = stack.deps.gateway;
    expect(homes.filter((h) => central.serves(h))).toEqual([]);
    expect(central.status().homes).toEqual([]);
    expect(stack.deps.simulatedBoards.size).toBe(0);
    expect(
      gateway
        .status()
        .homes.map((h) => h.homeId)
        .sort(),
    ).toEqual([...homes].sort());
  });
});
