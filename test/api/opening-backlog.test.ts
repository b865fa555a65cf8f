// Shedding openings by backlog: a signal-with-start is cheap for Temporal, so the write gate never sees a
// backlog of sessions that wait for their first workflow task (at 30,000 openings the API accepted them
// faster than worker and server ran them, and sirens came minutes late). Past `api.writes.openingBacklog`
// such sessions, the API refuses new openings with 429 and Retry-After and starts nothing for them, while
// events to sessions it already opened still pass. Here no worker runs at first, so every opening waits.
import '../support/quiet-runtime';
import { NativeConnection } from '@temporalio/worker';
import { WorkflowNotFoundError } from '@temporalio/client';
import { alarmStatusQuery, smokeAlarmWorkflowId } from '../../src/shared/smoke-alarm';
import { eventually, http, startLocalStack, type LocalStack } from '../support/local-stack';
import { parsePrometheus, scrape, total } from '../support/prometheus';
import { createStackWorker, runStackWorker } from '../support/stack-worker';
import { deviceToken, ownerToken } from '../support/test-config';

const BACKLOG = 3;
const homes = ['backlog-0', 'backlog-1', 'backlog-2', 'backlog-3', 'backlog-read', 'backlog-idle'];
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    homes,
    worker: false,
    cancelWindowSeconds: 3600,
    overrides: { api: { writes: { openingBacklog: BACKLOG, retryAfterSeconds: 2 } } },
  });
});

afterAll(async () => {
  await stack?.stop();
});

const smoke = (homeId: string, detectorId = 'kitchen') =>
  http(stack.api.url, 'POST', `/homes/${homeId}/smoke`, { token: deviceToken(homeId), body: { detectorId } });

const waiting = async () => {
  const res = await fetch(`${stack.api.url}/metrics`);
  return total(parsePrometheus(await res.text()), 'sessionflow_openings_waiting');
};

test('When more sessions wait for their first workflow task than the backlog allows, then a new opening gets 429 with Retry-After and starts nothing, events to the waiting sessions still pass, and once a worker runs them openings are accepted again', async () => {
  const [first, second, third, fourth] = homes;
  for (const homeId of [first, second, third]) expect((await smoke(homeId)).status).toBe(202);
  expect(await waiting()).toBe(BACKLOG);

  const refused = await smoke(fourth);
  expect(refused.status).toBe(429);
  expect(refused.body.error.code).toBe('overloaded');
  expect(refused.headers.get('retry-after')).toBe('2');
  await expect(
    stack.client.workflow.getHandle(smokeAlarmWorkflowId(fourth)).describe(),
  ).rejects.toBeInstanceOf(WorkflowNotFoundError);

  // A second detector in a home whose session waits opens nothing: it joins that run.
  expect((await smoke(first, 'hall')).status).toBe(202);

  const connection = await NativeConnection.connect({ address: stack.server.address });
  const worker = await runStackWorker(stack, connection);
  try {
    // Each session publishes in its first task; the API stops counting it.
    await eventually(waiting, (n) => n === 0, 30_000);
    expect((await smoke(fourth)).status).toBe(202);
    const status = await stack.client.workflow.getHandle(smokeAlarmWorkflowId(first)).query(alarmStatusQuery);
    expect(status.detectors.map((d) => d.detectorId).sort()).toEqual(['hall', 'kitchen']);
    await eventually(
      () => stack.client.workflow.getHandle(smokeAlarmWorkflowId(fourth)).query(alarmStatusQuery),
      (s) => s.siren === 'on',
      30_000,
    );
  } finally {
    await worker.stop();
    await connection.close();
  }
});

test('When the status of a session this API just opened is read before its first workflow task ran, then the read waits for the publication that task makes and answers from the read model, without a Temporal query', async () => {
  const homeId = 'backlog-read';
  expect((await smoke(homeId)).status).toBe(202);
  const reads = async (source: string) =>
    total(await scrape(`${stack.api.url}/metrics`), 'sessionflow_status_reads_total', { source });
  const before = { readModel: await reads('read-model'), temporal: await reads('temporal') };
  // Created before the read and run only after it waits: creating one takes seconds on a busy machine,
  // which would eat into the read's wait (its call deadline less half a second) and send it to Temporal.
  const connection = await NativeConnection.connect({ address: stack.server.address });
  const worker = await createStackWorker(stack, connection);

  let answered = false;
  const read = http(stack.api.url, 'GET', `/homes/${homeId}/alarm`, { token: ownerToken(homeId) }).finally(
    () => (answered = true),
  );
  // No worker runs: nothing has published, and the read waits (up to the call deadline, 5 s).
  await new Promise((r) => setTimeout(r, 500));
  expect(answered).toBe(false);

  const running = worker.run();
  try {
    const res = await read;
    expect(res.status).toBe(200);
    expect(res.body.detectors.map((d: { detectorId: string }) => d.detectorId)).toEqual(['kitchen']);
    expect(typeof res.body.version).toBe('number');
    expect(await reads('read-model')).toBe(before.readModel + 1);
    expect(await reads('temporal')).toBe(before.temporal);
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
});

test('When no worker runs a session this API just opened, then its status read answers 503 session-opening with Retry-After within one call deadline', async () => {
  const homeId = 'backlog-idle';
  expect((await smoke(homeId)).status).toBe(202);
  const deadlineMs = stack.config.temporal.callTimeoutMs;
  const began = Date.now();
  const res = await http(stack.api.url, 'GET', `/homes/${homeId}/alarm`, { token: ownerToken(homeId) });
  const took = Date.now() - began;
  expect(res.status).toBe(503);
  // Temporal answered (it has the session); the session's first task is what has not run.
  expect(res.body.error.code).toBe('session-opening');
  expect(res.headers.get('retry-after')).toBe('2');
  // The wait for the first publication and the Temporal query after it share the deadline (they used to
  // take one each); the margin is for a loaded machine, well short of a second deadline.
  expect(took).toBeGreaterThanOrEqual(deadlineMs - 500);
  expect(took).toBeLessThan(deadlineMs * 1.5);
});
