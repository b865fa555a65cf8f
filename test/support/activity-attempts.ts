// A session's activities as its history has them, one row per scheduled activity: what it was scheduled
// with, and, once Temporal has its completion, which attempt completed and why the one before it failed.
import type { WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';

export interface ActivityAttempts {
  /** Without the kind's namespace ("smoke-alarm.smsOwner" → "smsOwner"). */
  name: string;
  heartbeatTimeoutSeconds: number;
  completed: boolean;
  /** The attempt that completed. */
  attempt?: number;
  /** The timeout that ended the attempt before it ("TIMEOUT_TYPE_HEARTBEAT"), if one did. */
  lastTimeout?: string;
  completedAt?: number;
}

export async function activityAttempts(handle: WorkflowHandle): Promise<ActivityAttempts[]> {
  const history = await handle.fetchHistory();
  const rows = new Map<string, ActivityAttempts>();
  const started = new Map<string, temporal.api.history.v1.IActivityTaskStartedEventAttributes>();
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s)
      rows.set(String(e.eventId), {
        name: (s.activityType?.name ?? '?').replace(/^.*\./, ''),
        heartbeatTimeoutSeconds: Number(s.heartbeatTimeout?.seconds ?? 0),
        completed: false,
      });
    const st = e.activityTaskStartedEventAttributes;
    if (st) started.set(String(st.scheduledEventId), st);
    const c = e.activityTaskCompletedEventAttributes;
    const row = c && rows.get(String(c.scheduledEventId));
    if (c && row) {
      const attempt = started.get(String(c.scheduledEventId));
      const timeoutType = attempt?.lastFailure?.timeoutFailureInfo?.timeoutType;
      Object.assign(row, {
        completed: true,
        attempt: attempt?.attempt ?? undefined,
        lastTimeout: timeoutType == null ? undefined : temporal.api.enums.v1.TimeoutType[timeoutType],
        completedAt: tsToMs(e.eventTime),
      });
    }
  }
  return [...rows.values()];
}
