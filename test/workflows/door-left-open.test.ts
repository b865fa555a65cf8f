// The door-left-open story on the time-skipping test server: real workflow, real activities (webhook
// notices to a real HTTP sink), minutes of waiting skipped.
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import '../support/quiet-runtime';
import {
  doorClosedSignal,
  doorModel,
  doorOpenedSignal,
  doorStatusQuery,
  doorWorkflowId,
  snoozeUpdate,
  type DoorInput,
} from '../../src/shared/door-left-open';
import type { doorLeftOpenWorkflow } from '../../src/workflows/door-left-open';
import type { WebhookSink } from '../support/webhook-sink';
import {
  eventuallyTrue as eventually,
  expectModelCovered,
  refusal,
  startTimeSkippingWorld,
  type TimeSkippingWorld,
} from '../support/time-skipping';

const MINUTE = 60_000;
const REMIND_MS = 10 * MINUTE;
const ESCALATE_MS = 30 * MINUTE;
const homes = Array.from({ length: 8 }, (_, i) => `door-home-${i}`);
let nextHome = 0;
let world: TimeSkippingWorld;
let env: TestWorkflowEnvironment;
let sink: WebhookSink;

beforeAll(async () => {
  world = await startTimeSkippingWorld({ name: 'door-left-open-wf', homes });
  ({ env, sink } = world);
});

afterAll(async () => {
  await world?.stop();
});

/** The front door of a fresh home opens (as its contact would report it). */
async function openDoor(homeId = homes[nextHome++]) {
  const input: DoorInput = {
    homeId,
    doorId: 'front',
    remindAfterMs: REMIND_MS,
    escalateAfterMs: ESCALATE_MS,
    maxSnoozeMinutes: 120,
  };
  const handle = await env.client.workflow.signalWithStart<
    typeof doorLeftOpenWorkflow,
    [Record<string, never> | undefined]
  >('doorLeftOpenWorkflow', {
    workflowId: doorWorkflowId(homeId, 'front'),
    taskQueue: world.taskQueue,
    args: [input],
    signal: doorOpenedSignal,
    signalArgs: [{}],
  });
  return { homeId, handle };
}

const status = (h: WorkflowHandle) => h.query(doorStatusQuery);
const texts = (homeId: string) => sink.of('sms', homeId).map((n) => n.text);
const snooze = (h: WorkflowHandle, minutes: number, by = 'owner-phone') =>
  h.executeUpdate(snoozeUpdate, { args: [{ by, minutes }] });

describe('door-left-open workflow', () => {
  test('When the door closes before the reminder, then nobody is told and the session ends closed', async () => {
    const { homeId, handle } = await openDoor();
    expect((await status(handle)).state).toBe('open');
    await env.sleep(REMIND_MS - MINUTE);
    await handle.signal(doorClosedSignal, {});
    const result = await handle.result();
    expect(result).toMatchObject({ state: 'closed', reminders: 0, doorId: 'front', homeId });
    expect(result.closedAt).not.toBeNull();
    expect(texts(homeId)).toEqual([]);
  });

  test('When the door stays open, then the owner is reminded, later the second contact is told, and closing ends it', async () => {
    const { homeId, handle } = await openDoor();
    await env.sleep(REMIND_MS - 1_000);
    expect((await status(handle)).state).toBe('open');
    await env.sleep(1_000);
    await eventually(async () => (await status(handle)).state === 'reminded');
    await sink.waitFor(() => texts(homeId).length === 1);
    expect(texts(homeId)[0]).toContain('front door in');

    await env.sleep(ESCALATE_MS - REMIND_MS);
    await eventually(async () => (await status(handle)).state === 'escalated');
    await sink.waitFor(() => texts(homeId).length === 2);
    expect(texts(homeId)[1]).toContain('has been open since');

    await handle.signal(doorClosedSignal, {});
    const result = await handle.result();
    expect(result.path.map((t) => t.to)).toEqual(['reminded', 'escalated', 'closed']);
    await sink.waitFor(() => texts(homeId).length === 3);
    expect(texts(homeId)[2]).toContain('closed again');
    // One message per step, keyed by the step: a retry never doubles one.
    const keys = sink.of('sms', homeId).map((n) => n.idempotencyKey);
    expect(new Set(keys).size).toBe(3);
  });

  test('When the owner snoozes, then no reminder comes until the snooze ends, and a second snooze extends it', async () => {
    const { homeId, handle } = await openDoor();
    const snoozed = await snooze(handle, 20);
    expect(snoozed.state).toBe('snoozed');
    await env.sleep(15 * MINUTE);
    expect(texts(homeId)).toEqual([]);
    expect((await snooze(handle, 30)).snoozes).toHaveLength(2);
    await env.sleep(25 * MINUTE);
    expect((await status(handle)).state).toBe('snoozed');
    expect(texts(homeId)).toEqual([]);
    await env.sleep(6 * MINUTE);
    await eventually(async () => (await status(handle)).state === 'reminded');
    await sink.waitFor(() => texts(homeId).length === 1);
    // Reminded again: the owner may snooze once more, and the second contact is still a gap away.
    const again = await snooze(handle, 5);
    expect(again.path.map((t) => `${t.from}>${t.to}`)).toEqual([
      'open>snoozed',
      'snoozed>snoozed',
      'snoozed>reminded',
      'reminded>snoozed',
    ]);
    await handle.signal(doorClosedSignal, {});
    expect((await handle.result()).state).toBe('closed');
  });

  test('When the owner is reminded and then closes the door, then the session ends and the owner hears it', async () => {
    const { homeId, handle } = await openDoor();
    await env.sleep(REMIND_MS);
    await eventually(async () => (await status(handle)).state === 'reminded');
    await handle.signal(doorClosedSignal, {});
    expect((await handle.result()).path.map((t) => t.on)).toEqual(['timer:reminder', 'doorClosed']);
    await sink.waitFor(() => texts(homeId).length === 2);
    expect(texts(homeId)[1]).toContain('closed again');
  });

  test('When a snooze is too long or comes after the second contact was told, then it is refused and nothing changes', async () => {
    const { handle } = await openDoor();
    expect(await refusal(snooze(handle, 121))).toBe('bad-request');
    expect(await refusal(snooze(handle, 0))).toBe('bad-request');
    expect(await refusal(snooze(handle, 10, ''))).toBe('bad-request');
    expect((await status(handle)).snoozes).toEqual([]);
    await env.sleep(ESCALATE_MS);
    await eventually(async () => (await status(handle)).state === 'escalated');
    expect(await refusal(snooze(handle, 10))).toBe('too-late');
    expect((await status(handle)).state).toBe('escalated');
    await handle.signal(doorClosedSignal, {});
    expect((await handle.result()).state).toBe('closed');
  });

  test('When all stories ran, then every declared transition was taken and no other', async () => {
    expectModelCovered(doorModel, await world.transitionsTaken());
  });
});
