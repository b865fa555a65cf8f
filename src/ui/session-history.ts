// A session's workflow history, read for people: requests received, timers started and fired,
// activities run, with times; and the timers still open. Names only, never payloads (they may hold PII).
import type { History } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';

type HistoryEvent = NonNullable<History['events']>[number];

/**
 * The activity type of a local activity's marker, from its bookkeeping: core writes that in clear
 * (sequence, attempt, type, times), apart from the activity's own input and result.
 */
function localActivityType(p: temporal.api.common.v1.IPayload | undefined): string | undefined {
  if (!p?.data || Buffer.from(p.metadata?.encoding ?? []).toString() !== 'json/plain') return undefined;
  try {
    return (JSON.parse(Buffer.from(p.data).toString()) as { activity_type?: string }).activity_type;
  } catch {
    return undefined;
  }
}

export interface TimelineItem {
  at: string;
  kind: 'session' | 'signal' | 'update' | 'timer' | 'activity';
  text: string;
}

export interface OpenTimer {
  /** When it fires, ISO. */
  firesAt: string;
  startedAt: string;
  /** What the session calls it (from the kind's deadlines), or `timer`. */
  label: string;
}

interface LongLike {
  toNumber(): number;
}
type Num = number | LongLike | null | undefined;
const num = (v: Num): number =>
  v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber();

function timeOf(e: HistoryEvent): number {
  const t = e.eventTime;
  return t ? num(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
}
const durationMs = (d: { seconds?: Num; nanos?: number | null } | null | undefined) =>
  d ? num(d.seconds) * 1000 + Math.floor((d.nanos ?? 0) / 1e6) : 0;

/** Turns a history into a timeline and the timers still open; `deadlines` names timers by fire time. */
export function readHistory(
  history: History,
  deadlines: { label: string; at: string }[] = [],
): { timeline: TimelineItem[]; openTimers: OpenTimer[] } {
  const timeline: TimelineItem[] = [];
  const activityNames = new Map<string, string>();
  const updateNames = new Map<string, string>();
  const timers = new Map<string, OpenTimer>();
  const add = (e: HistoryEvent, kind: TimelineItem['kind'], text: string) =>
    timeline.push({ at: new Date(timeOf(e)).toISOString(), kind, text });
  const nameOfLabel = (firesAtMs: number) =>
    deadlines.find((d) => Math.abs(Date.parse(d.at) - firesAtMs) < 2000)?.label ?? 'timer';

  for (const e of history.events ?? []) {
    const id = String(num(e.eventId));
    if (e.workflowExecutionStartedEventAttributes) {
      const a = e.workflowExecutionStartedEventAttributes;
      add(e, 'session', a.continuedExecutionRunId ? 'continued in a new run' : 'session opened');
    } else if (e.workflowExecutionSignaledEventAttributes) {
      add(e, 'signal', `signal ${e.workflowExecutionSignaledEventAttributes.signalName}`);
    } else if (e.workflowExecutionUpdateAcceptedEventAttributes) {
      const name = e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest?.input?.name ?? 'update';
      updateNames.set(id, name);
      add(e, 'update', `update ${name} accepted`);
    } else if (e.workflowExecutionUpdateCompletedEventAttributes) {
      const a = e.workflowExecutionUpdateCompletedEventAttributes;
      const name = updateNames.get(String(num(a.acceptedEventId))) ?? 'update';
      add(e, 'update', `update ${name} ${a.outcome?.failure ? 'refused' : 'answered'}`);
    } else if (e.timerStartedEventAttributes) {
      const a = e.timerStartedEventAttributes;
      const firesAtMs = timeOf(e) + durationMs(a.startToFireTimeout);
      const label = nameOfLabel(firesAtMs);
      timers.set(a.timerId ?? id, {
        firesAt: new Date(firesAtMs).toISOString(),
        startedAt: new Date(timeOf(e)).toISOString(),
        label,
      });
      add(e, 'timer', `timer started: ${label}, fires at ${new Date(firesAtMs).toISOString()}`);
    } else if (e.timerFiredEventAttributes) {
      const timerId = e.timerFiredEventAttributes.timerId ?? '';
      add(e, 'timer', `timer fired: ${timers.get(timerId)?.label ?? 'timer'}`);
      timers.delete(timerId);
    } else if (e.timerCanceledEventAttributes) {
      const timerId = e.timerCanceledEventAttributes.timerId ?? '';
      add(e, 'timer', `timer cancelled: ${timers.get(timerId)?.label ?? 'timer'}`);
      timers.delete(timerId);
    } else if (e.activityTaskScheduledEventAttributes) {
      const name = e.activityTaskScheduledEventAttributes.activityType?.name ?? 'activity';
      activityNames.set(id, name);
      add(e, 'activity', `${name} scheduled`);
    } else if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      add(e, 'activity', `${activityNames.get(String(num(a.scheduledEventId))) ?? 'activity'} done`);
    } else if (e.activityTaskFailedEventAttributes) {
      const a = e.activityTaskFailedEventAttributes;
      const name = activityNames.get(String(num(a.scheduledEventId))) ?? 'activity';
      add(e, 'activity', `${name} failed: ${a.failure?.message ?? 'unknown error'}`);
    } else if (e.activityTaskTimedOutEventAttributes) {
      const a = e.activityTaskTimedOutEventAttributes;
      add(e, 'activity', `${activityNames.get(String(num(a.scheduledEventId))) ?? 'activity'} timed out`);
    } else if (e.activityTaskCanceledEventAttributes) {
      const a = e.activityTaskCanceledEventAttributes;
      add(e, 'activity', `${activityNames.get(String(num(a.scheduledEventId))) ?? 'activity'} cancelled`);
    } else if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity') {
      // Run by the worker inside the session's own task (the embedded siren): one event, its outcome.
      const a = e.markerRecordedEventAttributes;
      const name = localActivityType(a.details?.data?.payloads?.[0]) ?? 'local activity';
      add(
        e,
        'activity',
        a.failure
          ? `${name} failed in the task: ${a.failure.message ?? 'unknown error'}`
          : `${name} done in the task`,
      );
    } else if (e.workflowExecutionCompletedEventAttributes) {
      add(e, 'session', 'session closed');
    } else if (e.workflowExecutionContinuedAsNewEventAttributes) {
      add(e, 'session', 'continued as new');
    } else if (
      e.workflowExecutionFailedEventAttributes ||
      e.workflowExecutionTerminatedEventAttributes ||
      e.workflowExecutionTimedOutEventAttributes
    ) {
      add(e, 'session', 'session ended abnormally');
    }
  }
  return { timeline, openTimers: [...timers.values()] };
}
