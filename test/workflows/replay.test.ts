// Replays a real history recorded on the dev server during a chaos run: the worker was SIGKILLed as the
// cancel window ran out, and the next worker took the timer *and* the owner's all-clear in one workflow
// task. That first execution ran the timer first (escalate), then accepted the all-clear. A replay of
// the same history hands the update to the workflow before the timer, so the handler finds the alarm
// not yet escalated and the declared model refuses the move: replay fails, always the same way.
// This is an SDK job-ordering bug (cf. temporalio/sdk-python#673), not workflow nondeterminism; no
// handler code can satisfy both orders, so the workflows refuse updates in such a task instead
// (`TransitionTaskGuard`: the alarm's escalation, the order's deadlines) and the API asks again.
// The order's counterparts (a delivery promise and "delivered" in one task; recorded on purpose by
// test/e2e/deadline-race with a cut line, and by test/e2e/order-deadline-races after a worker death, as the
// alarm's was made, for both the payment timeout and the delivery promise) must replay: this SDK hands an
// order the update first, live as on replay.
// The alarm test pins the failure exactly: it turns red if the history goes missing, if replay fails in any
// other way, or if an SDK upgrade fixes the ordering (then assert that the history replays).
import '../support/quiet-runtime';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { temporal } from '@temporalio/proto';
import { ReplayError, Worker } from '@temporalio/worker';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmCodec, dataConverterFor } from '../../src/codec/aes-gcm-codec';
import { sessionKinds } from '../../src/config/kinds';
import { withSettledPatches } from '../../src/shared/session-kind';
import { historyFilesUnder, readHistoryFile, replayHistoriesUnder } from '../support/history-files';
import { testCodec } from '../support/test-config';
import { testWorkflowBundle } from '../support/workflow-bundle';

/** A history saved in protobuf binary form (the SDK's JSON reader trips over its two protobufjs copies). */
const history = (name: string) =>
  temporal.api.history.v1.History.decode(readFileSync(resolve(__dirname, 'histories', name)));

/** The codec the recorded histories were written with. */
const historyCodec = { ...testCodec, activeKeyId: undefined, endpoint: { tokens: [], corsOrigins: [] } };

const replayOptions = () => ({
  workflowBundle: testWorkflowBundle(),
  dataConverter: dataConverterFor({ codec: historyCodec }),
});

const replay = (file: string, workflowId?: string) =>
  Worker.runReplayHistory(replayOptions(), history(file), workflowId);

const HISTORIES = resolve(__dirname, 'histories');

// Every session history recorded by `npm run histories:record` (per kind and release, old releases kept)
// must replay on the current workflows: a change that breaks a running session fails here, by file name.
test('When every recorded session history is replayed against the current workflows, then none fails', async () => {
  const { replayed, failures } = await replayHistoriesUnder(HISTORIES, replayOptions());
  expect(failures).toEqual([]);
  expect(replayed).toEqual(historyFilesUnder(HISTORIES));
});

test('When the recorded histories are listed, then every registered kind has some (a kind without any is not protected)', () => {
  const kinds = new Set(historyFilesUnder(HISTORIES).map((name) => name.split('/')[0]));
  expect([...kinds].sort()).toEqual(
    sessionKinds()
      .map((k) => k.name)
      .sort(),
  );
});

test('When an all-clear was accepted in the same task as the window timer, then replay fails on exactly that reordering (SDK bug): the all-clear before the escalation', async () => {
  const outcome = await replay('all-clear-in-same-task-as-timer.binpb', 'smoke-alarm:chaos-0011').then(
    () => 'replayed',
    (err: unknown) => err,
  );
  expect(outcome).toBeInstanceOf(ReplayError);
  expect((outcome as ReplayError).message).toMatch(
    /UndeclaredTransitionError: smoke-alarm: transition waiting-for-cancel -> resolved on 'allClear' is not declared in the session model/,
  );
});

test('When an order’s delivery promise fired in the same task as "delivered" (recorded by test/e2e/deadline-race), then its history replays', async () => {
  const recorded = history('order-delivered-in-same-task-as-promise.binpb');
  const events = recorded.events ?? [];
  const fired = events.findIndex((e) => e.timerFiredEventAttributes);
  const accepted = events.findIndex((e, i) => i > fired && e.workflowExecutionUpdateAcceptedEventAttributes);
  expect(events.slice(fired, accepted).filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(1);
  await expect(replay('order-delivered-in-same-task-as-promise.binpb')).resolves.toBeUndefined();
});

/** Events from the first timer firing to the update accepted after it (the first update of each kind). */
function raceTask(file: string) {
  const events = history(file).events ?? [];
  const fired = events.findIndex((e) => e.timerFiredEventAttributes);
  const accepted = events.findIndex((e, i) => i > fired && e.workflowExecutionUpdateAcceptedEventAttributes);
  return { events, fired, accepted, between: events.slice(fired, accepted) };
}

test.each([
  ['order-race-paid-with-payment-timeout.binpb', 'pay'],
  ['order-race-delivered-with-delivery-promise.binpb', 'delivery'],
])(
  'When an order’s deadline fired in the task of an update after its worker died (%s, recorded by test/e2e/order-deadline-races), then that update was taken in the same task and the history replays',
  async (file, update) => {
    const { events, accepted, between } = raceTask(file);
    expect(
      events[accepted].workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name,
    ).toBe(update);
    // The task first went to the dead worker's sticky queue and timed out there, unstarted.
    expect(between.filter((e) => e.workflowTaskTimedOutEventAttributes)).toHaveLength(1);
    expect(between.filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(1);
    expect(events.some((e) => e.workflowTaskFailedEventAttributes)).toBe(false);
    await expect(replay(file)).resolves.toBeUndefined();
  },
);

test('When the recorded history is missing, then reading it fails (the replay test above cannot pass vacuously)', () => {
  expect(() => history('no-such-history.binpb')).toThrow(/ENOENT/);
});

// The framework's patches (src/workflows/settled-patches.ts): a session that began under them writes none
// of their markers, and one whose input says so but that a worker of an older build ran (an API deployed
// before the workers) carries the markers that worker wrote, which replay must consume.
const SETTLED = 'smoke-alarm/2026-11-30-settled-patches';
const MARKED = 'smoke-alarm/2026-11-30-local-siren';

const patchEvents = (h: temporal.api.history.v1.IHistory) =>
  (h.events ?? []).filter(
    (e) =>
      e.markerRecordedEventAttributes?.markerName === 'core_patch' ||
      Object.keys(
        e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {},
      ).includes('TemporalChangeVersion'),
  );

test('When sessions began under the framework’s patches (the newest recorded release), then their histories hold no patch marker and no TemporalChangeVersion upsert', () => {
  const names = historyFilesUnder(resolve(HISTORIES, SETTLED));
  expect(names.length).toBeGreaterThan(5);
  for (const name of names)
    expect([name, patchEvents(readHistoryFile(resolve(HISTORIES, SETTLED, name)))]).toEqual([name, []]);
  // The release before them wrote three of each per session.
  expect(patchEvents(readHistoryFile(resolve(HISTORIES, MARKED, 'cancelled.json')))).toHaveLength(6);
});

test('When a session whose input says it began under the patches was run by an older worker that wrote their markers, then its history replays (the markers are consumed)', async () => {
  const codec = AesGcmCodec.fromConfig({ codec: historyCodec });
  const converter = defaultPayloadConverter;
  const replayedWith = async (name: string) => {
    const marked = readHistoryFile(resolve(HISTORIES, MARKED, name));
    const started = marked.events?.[0]?.workflowExecutionStartedEventAttributes;
    const encoded = started?.input?.payloads?.[0];
    if (!started?.input || !encoded) throw new Error(`${name} has no start input`);
    const [plain] = await codec.decode([encoded]);
    const input = withSettledPatches(converter.fromPayload(plain));
    expect(input).toMatchObject({ settledPatches: 3 });
    started.input.payloads = await codec.encode([converter.toPayload(input)]);
    expect(patchEvents(marked)).toHaveLength(6);
    return Worker.runReplayHistory(replayOptions(), marked, `${MARKED}/${name}`);
  };
  for (const name of ['opened.json', 'cancelled.json', 'escalated-window-expired.json', 'resolved.json'])
    await expect(replayedWith(name)).resolves.toBeUndefined();
});
