// Smoke-alarm session: the definitions shared by the workflow, the worker and the API.
// Sandbox-safe: imported by workflow code, so no Node built-ins and no I/O here.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { SessionModel, type SessionStep, type TransitionTaken } from './session-model';

export const SMOKE_ALARM_KIND = 'smoke-alarm';

export const alarmStates = ['waiting-for-cancel', 'escalated', 'cancelled', 'resolved'] as const;
export type AlarmState = (typeof alarmStates)[number];
export type AlarmOutcome = 'cancelled' | 'resolved';
export type EscalationReason = 'window-expired' | 'second-detector';

export const smokeAlarmModel = new SessionModel<AlarmState>({
  kind: SMOKE_ALARM_KIND,
  initial: 'waiting-for-cancel',
  states: alarmStates,
  final: ['cancelled', 'resolved'],
  transitions: [
    { from: 'waiting-for-cancel', to: 'cancelled', on: 'cancel' },
    { from: 'waiting-for-cancel', to: 'escalated', on: 'timer:cancel-window' },
    { from: 'waiting-for-cancel', to: 'escalated', on: 'smokeDetected' },
    { from: 'escalated', to: 'resolved', on: 'allClear' },
  ],
});

/** Workflow id = `<kind>:<business key>`: routes, Web UI and logs speak the same key. */
export function smokeAlarmWorkflowId(homeId: string): string {
  return `${SMOKE_ALARM_KIND}:${homeId}`;
}

export interface SmokeEvent {
  detectorId: string;
}

/** Who asked, by token *name* (never the token itself). */
export interface Actor {
  by: string;
}

export type AlarmStep =
  | 'siren-on'
  | 'notify-owner'
  | 'sms-owner'
  | 'call-emergency'
  | 'siren-off'
  | 'notify-cancelled'
  | 'notify-resolved';

export type StepRecord = SessionStep<AlarmStep>;

export interface DetectorRecord {
  detectorId: string;
  firstAt: string;
  lastAt: string;
  events: number;
}

export interface AlarmStatus {
  sessionId: string;
  /** Run that opened the session; with the id it keys idempotent side effects across continue-as-new. */
  openedInRun: string;
  homeId: string;
  state: AlarmState;
  outcome: AlarmOutcome | null;
  startedAt: string;
  cancelWindowSeconds: number;
  cancelDeadline: string;
  detectors: DetectorRecord[];
  escalation: { reason: EscalationReason; at: string } | null;
  steps: StepRecord[];
  /** Every state change so far, in order (carried across continue-as-new). */
  path: TransitionTaken[];
  siren: 'on' | 'off' | 'unknown';
  endedAt: string | null;
  endedBy: string | null;
}

export interface SmokeAlarmInput {
  homeId: string;
  /** Length of the owner's cancel window. Comes from per-home or deployment configuration. */
  cancelWindowMs: number;
  /** How long to keep retrying the siren-off command and end-of-session notices before giving up. */
  wrapUpTimeoutMs?: number;
  /**
   * Task queue of the gateway that owns this home's siren board (`gateway-<id>`); default: the session's
   * own queue, where the worker's embedded gateway serves it.
   */
  hardwareTaskQueue?: string;
  /** Continue as new after this many history events (besides the server's own suggestion). */
  historyLimit?: number;
  /**
   * Keep SessionKind/SessionKey/SessionState/HomeId current (default true). Off only on servers that
   * cannot register custom search attributes, such as the Java time-skipping test server.
   */
  searchAttributes?: boolean;
  /** Set when the session continues as new: the state carried over. */
  carried?: AlarmStatus;
  /** Smoke events that arrived while the previous session was ending: they open this one. */
  pending?: SmokeEvent[];
}

export const alarmDefaults = {
  wrapUpTimeoutMs: 5 * 60_000,
  historyLimit: 10_000,
};

/** Answer to cancel / all-clear updates. */
export interface AlarmDecision {
  state: AlarmState;
  outcome: AlarmOutcome | null;
}

export const smokeDetectedSignal = defineSignal<[SmokeEvent]>('smokeDetected');
export const cancelAlarmUpdate = defineUpdate<AlarmDecision, [Actor]>('cancel');
export const allClearUpdate = defineUpdate<AlarmDecision, [Actor]>('allClear');
export const alarmStatusQuery = defineQuery<AlarmStatus>('status');

/** Reasons an update is refused; the API maps them to 409. */
export const AlarmRefusal = {
  tooLate: 'too-late',
  notEscalated: 'not-escalated',
  alreadyEnded: 'already-ended',
  /** The escalation is still being committed; the API retries a moment later. */
  escalating: 'escalation-in-progress',
} as const;

export interface SetSirenInput {
  homeId: string;
  on: boolean;
  /**
   * Workflow time of the command: a gateway ignores a command older than the one it already holds, so a
   * late retry of a superseded "on" can never undo a newer "off".
   */
  issuedAt?: number;
}

export interface NotificationInput {
  homeId: string;
  /** `<workflow id>/<run-independent step>`: the same key on every retry, so nothing is sent twice. */
  idempotencyKey: string;
  text: string;
}

/** The side effects a smoke-alarm session needs; implemented by src/activities. */
export interface SmokeAlarmActivities {
  setSiren: (input: SetSirenInput) => Promise<void>;
  notifyOwner: (input: NotificationInput) => Promise<void>;
  smsOwner: (input: NotificationInput) => Promise<void>;
  callEmergency: (input: NotificationInput) => Promise<void>;
}

/** Error types that retrying cannot fix (bad configuration, a receiver that refuses the request). */
export const nonRetryableErrorTypes = ['BadConfiguration', 'NotificationRejected'];
