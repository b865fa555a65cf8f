// A session opened while no worker runs (crashed, restarting, a whole stack coming back): Temporal accepts
// the opening event at once, and a worker runs the session later. Its windows must count from the event's
// acceptance, not from the worker's first task, or the outage stretches them (found by the chaos run,
// whose restarted worker took seconds to start).
import '../support/quiet-runtime';
import { NativeConnection } from '@temporalio/worker';
import {
  AlarmRefusal,
  alarmStatusQuery,
  allClearUpdate,
  smokeAlarmWorkflowId,
} from '../../src/shared/smoke-alarm';
import { doorStatusQuery, doorWorkflowId } from '../../src/shared/door-left-open';
import { eventually, http, startLocalStack, type LocalStack } from '../support/local-stack';
import { deviceToken } from '../support/test-config';
import { createStackWorker } from '../support/stack-worker';

const ALARM_HOME = 'home-alarm-no-worker';
const DOOR_HOME = 'home-door-no-worker';
const ALARM_HOME_2 = 'home-all-clear-no-worker';
const WINDOW_S = 3;
const REMIND_S = 3;
const DOWN_MS = 5000;
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    homes: [ALARM_HOME, DOOR_HOME, ALARM_HOME_2],
    worker: false,
    cancelWindowSeconds: WINDOW_S,
    overrides: { doors: { remindAfterSeconds: REMIND_S, escalateAfterSeconds: 600 } },
  });
});

afterAll(async () => {
  await stack?.stop();
});

/** Runs a worker (started after the outage) until `fn` is done; `fn` gets the time it started. */
async function withWorker<T>(fn: (startedAt: number) => Promise<T>): Promise<T> {
  const connection = await NativeConnection.connect({ address: stack.server.address });
  try {
    const worker = await createStackWorker(stack, connection);
    const startedAt = Date.now();
    return await worker.runUntil(() => fn(startedAt));
  } finally {
    await connection.close();
  }
}

test('When smoke is accepted while no worker runs and the worker comes back after the cancel window, then the window counted from the smoke and the alarm escalates at once', async () => {
  const before = Date.now();
  const opened = await http(stack.api.url, 'POST', `/homes/${ALARM_HOME}/smoke`, {
    token: deviceToken(ALARM_HOME),
    body: { detectorId: 'kitchen' },
  });
  expect(opened.status).toBe(202);
  const accepted = Date.now();
  await new Promise((r) => setTimeout(r, DOWN_MS));

  await withWorker(async (workerAt) => {
    const handle = stack.client.workflow.getHandle(smokeAlarmWorkflowId(ALARM_HOME));
    const status = await eventually(
      () => handle.query(alarmStatusQuery),
      (s) => s.state === 'escalated',
      20_000,
    );
    const startedAt = Date.parse(status.startedAt);
    expect(startedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(startedAt).toBeLessThanOrEqual(accepted);
    expect(Date.parse(status.cancelDeadline) - startedAt).toBe(WINDOW_S * 1000);
    expect(status.escalation?.reason).toBe('window-expired');
    // Due before the worker came back: escalated in its first task, not a whole window later.
    expect(Date.parse(status.escalation!.at) - workerAt).toBeLessThan(WINDOW_S * 1000);
  });
});

test('When a door opens while no worker runs, then its reminder is due a reminder period after the door opened, not after the worker came back', async () => {
  const before = Date.now();
  const opened = await http(
    stack.api.url,
    'POST',
    `/sessions/door-left-open/${DOOR_HOME}.front/events/doorOpened`,
    { token: deviceToken(DOOR_HOME), body: {} },
  );
  expect(opened.status).toBe(202);
  const accepted = Date.now();
  await new Promise((r) => setTimeout(r, DOWN_MS));

  await withWorker(async (workerAt) => {
    const handle = stack.client.workflow.getHandle(doorWorkflowId(DOOR_HOME, 'front'));
    const status = await eventually(
      () => handle.query(doorStatusQuery),
      (s) => s.reminders > 0,
      20_000,
    );
    const openedAt = Date.parse(status.openedAt);
    expect(openedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(openedAt).toBeLessThanOrEqual(accepted);
    const reminded = status.path.find((t) => t.to === 'reminded');
    expect(Date.parse(reminded!.at) - workerAt).toBeLessThan(REMIND_S * 1000);
  });
});

test("When the owner's all-clear reaches a session whose cancel window ran out while no worker ran, then it is asked to retry while the alarm escalates, and the retry resolves it", async () => {
  const HOME = ALARM_HOME_2;
  const opened = await http(stack.api.url, 'POST', `/homes/${HOME}/smoke`, {
    token: deviceToken(HOME),
    body: { detectorId: 'kitchen' },
  });
  expect(opened.status).toBe(202);
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000 + 1000));
  // Waiting at the server before any worker runs: it reaches the session in the same task as its timer.
  const handle = stack.client.workflow.getHandle(smokeAlarmWorkflowId(HOME));
  const first = handle.executeUpdate(allClearUpdate, { args: [{ by: 'owner' }] }).then(
    (d) => d.state,
    (err: Error & { cause?: { type?: string } }) => err.cause?.type,
  );
  await new Promise((r) => setTimeout(r, 500));

  await withWorker(async () => {
    expect(await first).toBe(AlarmRefusal.escalating);
    const retried = await handle.executeUpdate(allClearUpdate, { args: [{ by: 'owner' }] });
    expect(retried).toEqual({ state: 'resolved', outcome: 'resolved' });
    const status = await handle.query(alarmStatusQuery);
    expect(status.escalation?.reason).toBe('window-expired');
  });
});
