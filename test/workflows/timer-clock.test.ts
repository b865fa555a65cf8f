// The timer clock (src/workflows/timer-clock.ts): an activation that applies a fired timer with a clock
// behind the timer's due time, as the SDK's activation for a query does after a worker restart (the stale
// time of the last task that ran), still reads the due time. Such an activation is rebuilt here by replay: a
// history whose task after the fired timer started 4 s before the timer was due. The race that makes one
// live (a query reaching a new worker while the fired timer's task waits on the dead worker's queue) is
// the server's to schedule and could not be made to happen on demand; test/e2e/durability.test.ts caught it.
import '../support/quiet-runtime';
import { temporal, google } from '@temporalio/proto';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import Long from 'long';
import { bundlerLogger } from '../../src/worker/workflow-bundle';
import { WINDOW_MS } from './fixtures/clock-after-timer';

const EventType = temporal.api.enums.v1.EventType;
type Event = temporal.api.history.v1.IHistoryEvent;

const t0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const at = (ms: number): google.protobuf.ITimestamp => ({
  seconds: Long.fromNumber(Math.floor(ms / 1000)),
  nanos: (ms % 1000) * 1e6,
});

/** A workflow task scheduled as event `id`, started and completed right after it. */
const workflowTask = (id: number): Event[] => [
  { eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, workflowTaskScheduledEventAttributes: {} },
  {
    eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    workflowTaskStartedEventAttributes: { scheduledEventId: Long.fromNumber(id) },
  },
  {
    eventType: EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    workflowTaskCompletedEventAttributes: {
      scheduledEventId: Long.fromNumber(id),
      startedEventId: Long.fromNumber(id + 1),
    },
  },
];

/** Start, a task that starts the window's timer, the timer fired, then a task started at `clockAtFire`. */
function historyWithTaskClockAt(clockAtFire: number): temporal.api.history.v1.History {
  const runId = '0c9f8a33-8d4e-4d7a-9b5e-2b8a4f0b1c11';
  const events: Event[] = [
    {
      eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
      workflowExecutionStartedEventAttributes: {
        workflowType: { name: 'clockAfterTimer' },
        taskQueue: { name: 'timer-clock' },
        workflowTaskTimeout: { seconds: Long.fromNumber(10) },
        originalExecutionRunId: runId,
        firstExecutionRunId: runId,
        attempt: 1,
      },
    },
    ...workflowTask(2),
    {
      eventType: EventType.EVENT_TYPE_TIMER_STARTED,
      timerStartedEventAttributes: {
        timerId: '1',
        startToFireTimeout: { seconds: Long.fromNumber(WINDOW_MS / 1000) },
        workflowTaskCompletedEventId: Long.fromNumber(4),
      },
    },
    {
      eventType: EventType.EVENT_TYPE_TIMER_FIRED,
      timerFiredEventAttributes: { timerId: '1', startedEventId: Long.fromNumber(5) },
    },
    ...workflowTask(7),
    {
      eventType: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
      workflowExecutionCompletedEventAttributes: { workflowTaskCompletedEventId: Long.fromNumber(9) },
    },
  ];
  const times = [t0, t0, t0, t0, t0, t0 + WINDOW_MS, t0 + WINDOW_MS, clockAtFire, clockAtFire, clockAtFire];
  return temporal.api.history.v1.History.create({
    events: events.map((e, i) => ({ ...e, eventId: Long.fromNumber(i + 1), eventTime: at(times[i]) })),
  });
}

const timerClock = require.resolve('../../src/workflows/timer-clock');
const bundles = new Map<string, Promise<{ code: string }>>();
/** The fixture bundled with the given interceptor modules (once per set). */
const bundle = (modules: string[]) => {
  const key = modules.join(',');
  if (!bundles.has(key))
    bundles.set(
      key,
      bundleWorkflowCode({
        workflowsPath: require.resolve('./fixtures/clock-after-timer'),
        workflowInterceptorModules: modules,
        logger: bundlerLogger,
      }),
    );
  return bundles.get(key)!;
};

async function replay(interceptorModules: string[], history: temporal.api.history.v1.History) {
  const { code } = await bundle(interceptorModules);
  return Worker.runReplayHistory({ workflowBundle: { code } }, history, 'timer-clock-fixture').then(
    () => 'replayed',
    (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)),
  );
}

const behind = historyWithTaskClockAt(t0 + WINDOW_MS - 4_000);

test('When a fired timer is applied with a clock 4 s behind its due time and the timer clock is bundled, then the workflow reads the due time and replays as recorded', async () => {
  expect(await replay([timerClock], behind)).toBe('replayed');
});

test('When the same activation runs without the timer clock, then the workflow reads the stale time and takes another path (the guard is what makes the difference)', async () => {
  expect(await replay([], behind)).toMatch(/nondetermin/i);
});

test('When the task after the timer started on time, then the history replays with and without the timer clock (it changes nothing there)', async () => {
  const onTime = historyWithTaskClockAt(t0 + WINDOW_MS + 15);
  expect(await replay([timerClock], onTime)).toBe('replayed');
  expect(await replay([], onTime)).toBe('replayed');
});
