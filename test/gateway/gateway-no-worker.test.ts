// A gateway that starts while no central worker runs (a worker host being replaced, say) still puts the
// sirens where the sessions want them: it reads each session's state from Temporal's own record (the
// SessionState search attribute), which needs no worker, instead of asking the session by query, which
// would wait for one. Real dev server and API, no worker at all, the gateway's simulated board.
import '../support/quiet-runtime';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { dataConverterFor } from '../../src/codec/aes-gcm-codec';
import { Gateway, homesOfGateway } from '../../src/gateway/gateway';
import { smokeAlarmWorkflowId } from '../../src/shared/smoke-alarm';
import { eventually, http, startLocalStack, type LocalStack } from '../support/local-stack';
import { testLogger } from '../support/silent-logger';
import { deviceToken } from '../support/test-config';

const EventType = temporal.api.enums.v1.EventType;
const GATEWAY_ID = 'gw-alone';
const HOME = 'home-no-worker';
const QUIET = 'home-quiet';
const SIRENS = [7, 8];
const hardware = {
  gateway: GATEWAY_ID,
  board: { type: 'simulated' },
  sirens: { hall: { pin: 7, component: 'relay' }, bedroom: { pin: 8, component: 'led' } },
  detectors: { kitchen: { pin: 2, debounceMs: 30 } },
};

let stack: LocalStack;
let connection: Connection;
let gateway: Gateway | undefined;

beforeAll(async () => {
  stack = await startLocalStack({
    homes: [HOME, QUIET],
    cancelWindowSeconds: 60,
    homeOverrides: { [HOME]: hardware, [QUIET]: hardware },
    worker: false,
  });
  connection = await Connection.connect({ address: stack.server.address });
});

afterAll(async () => {
  await gateway?.settled();
  gateway?.close();
  await connection?.close();
  await stack?.stop();
});

const sirenPins = (homeId: string) => {
  const io = gateway?.simulatedBoards.get(homeId);
  return io ? SIRENS.map((p) => io.pinValue(p)) : [];
};

test('When a gateway starts while no worker runs, then it sounds the sirens of the home whose alarm is open, and only those', async () => {
  const smoke = await http(stack.api.url, 'POST', `/homes/${HOME}/smoke`, {
    token: deviceToken(HOME),
    body: { detectorId: 'kitchen' },
  });
  expect(smoke.status).toBe(202);

  gateway = new Gateway({
    config: stack.config,
    gatewayId: GATEWAY_ID,
    homeIds: homesOfGateway(stack.config, GATEWAY_ID),
    logger: testLogger,
    client: new Client({ connection, dataConverter: dataConverterFor(stack.config) }),
    reconnectDelayMs: 50,
  });
  gateway.start();

  await eventually(
    () => Promise.resolve(sirenPins(HOME)),
    (pins) => pins.length === SIRENS.length && pins.every((p) => p === 1),
  );
  // The home without a session was synced as well, and stays silent.
  await eventually(
    () => Promise.resolve(gateway!.status().homes.find((h) => h.homeId === QUIET)),
    (h) => h?.connected === true && h.desiredSiren === 'off',
  );
  expect(sirenPins(QUIET)).toEqual([0, 0]);
  // No worker took part: the session has not run a single workflow task yet.
  const history = await stack.client.workflow.getHandle(smokeAlarmWorkflowId(HOME)).fetchHistory();
  expect(history.events?.map((e) => e.eventType)).not.toContain(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
});
