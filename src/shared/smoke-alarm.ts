// Smoke-alarm session: one per home, opened by the first smoke event. The declaration the platform reads,
// shared by the workflow, the worker and the API. Sandbox-safe: no Node built-ins and no I/O here.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { defineEvent, defineRequest, defineSessionKind, idSchema, sessionId } from './session-kind';
import { SessionModel, isoTime, sessionStepSchema, transitionTakenSchema } from './session-model';

export const alarmStates = ['waiting-for-cancel', 'escalated', 'cancelled', 'resolved'] as const;
export type AlarmState = (typeof alarmStates)[number];
export type AlarmOutcome = 'cancelled' | 'resolved';
export type EscalationReason = 'window-expired' | 'second-detector';

export const smokeAlarmModel = new SessionModel<AlarmState>({
  kind: 'smoke-alarm',
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

export const smokeEventSchema = z.strictObject({ detectorId: idSchema });
export type SmokeEvent = z.infer<typeof smokeEventSchema>;

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

const outcomeSchema = z.enum(['cancelled', 'resolved']).nullable();

/**
 * Detectors one session keeps (and smoke events kept for the next session while one ends): an Uno has 18
 * input pins, so a configured home stays far below it. The API refuses unconfigured ids; the cap bounds
 * the state (carried through continue-as-new) whatever a compromised sender signals. Past it, a new id
 * still counts as another detector (it escalates) but is not recorded.
 */
export const MAX_DETECTORS = 32;

export const alarmStatusSchema = z.strictObject({
  sessionId: z.string(),
  /** Run that opened the session; with the id it keys idempotent side effects across continue-as-new. */
  openedInRun: z.string(),
  homeId: z.string(),
  state: z.enum(alarmStates),
  outcome: outcomeSchema,
  startedAt: isoTime,
  cancelWindowSeconds: z.number(),
  cancelDeadline: isoTime,
  detectors: z
    .array(z.strictObject({ detectorId: z.string(), firstAt: isoTime, lastAt: isoTime, events: z.int() }))
    .max(MAX_DETECTORS),
  escalation: z
    .strictObject({ reason: z.enum(['window-expired', 'second-detector']), at: isoTime })
    .nullable(),
  steps: z.array(sessionStepSchema),
  /** Every state change so far, in order (carried across continue-as-new). */
  path: z.array(transitionTakenSchema),
  siren: z.enum(['on', 'off', 'unknown']),
  endedAt: isoTime.nullable(),
  endedBy: z.string().nullable(),
});
export type AlarmStatus = z.infer<typeof alarmStatusSchema>;

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
export const alarmDecisionSchema = z.strictObject({ state: z.enum(alarmStates), outcome: outcomeSchema });
export type AlarmDecision = z.infer<typeof alarmDecisionSchema>;

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

export interface NotificationInput {
  homeId: string;
  /** `<workflow id>/<run-independent step>`: the same key on every retry, so nothing is sent twice. */
  idempotencyKey: string;
  text: string;
}

/** The side effects a smoke-alarm session needs besides the siren; implemented by src/activities. */
export interface SmokeAlarmActivities {
  notifyOwner: (input: NotificationInput) => Promise<void>;
  smsOwner: (input: NotificationInput) => Promise<void>;
  callEmergency: (input: NotificationInput) => Promise<void>;
}

/** Error types that retrying cannot fix (bad configuration, a receiver that refuses the request). */
export const nonRetryableErrorTypes = ['BadConfiguration', 'NotificationRejected'];

export const alarmSettingsSchema = z
  .strictObject({
    cancelWindowSeconds: z.number().positive().max(3600).default(60),
    wrapUpTimeoutSeconds: z.number().positive().default(300),
  })
  .prefault({});
export type AlarmSettings = z.output<typeof alarmSettingsSchema>;

/** What the alarm needs in each home's configuration, besides the platform's owner, board and tokens. */
export const alarmHomeSchema = z.strictObject({
  /** Overrides the deployment's cancel window for this home. */
  cancelWindowSeconds: z.number().positive().max(3600).optional(),
  emergency: z.strictObject({ phone: z.string().min(3).max(32), address: z.string().max(300) }),
});
export type AlarmHome = z.output<typeof alarmHomeSchema>;

/** Cancel and all-clear take no fields; an empty or absent body is fine. */
const noFields = z.strictObject({}).optional();
const byCaller = (_body: unknown, caller: { name: string }): Actor => ({ by: caller.name });

export const sessionKind = defineSessionKind<AlarmStatus, AlarmSettings>({
  name: 'smoke-alarm',
  title: 'Smoke alarm',
  workflowType: 'smokeAlarmWorkflow',
  key: { name: 'homeId', schema: idSchema, example: 'home-42' },
  model: smokeAlarmModel,
  // An escalated alarm waits for its all-clear as long as it takes: it follows every deploy (patched()).
  versioning: 'auto-upgrade',
  status: alarmStatusSchema,
  statusQuery: alarmStatusQuery,
  events: {
    smokeDetected: defineEvent({
      signal: smokeDetectedSignal,
      body: smokeEventSchema,
      roles: ['device'],
      opens: true,
      summary: 'A detector reports smoke: opens the home’s alarm session or joins the running one',
      // A made-up id would sound the siren, or escalate at once as a "second detector".
      check: ({ detectorId }, { inputs }) =>
        inputs.some((i) => i.event === 'smokeDetected' && (i.body as SmokeEvent).detectorId === detectorId)
          ? undefined
          : `detector '${detectorId}' is not configured for this home`,
    }),
  },
  requests: {
    cancel: defineRequest({
      update: cancelAlarmUpdate,
      body: noFields,
      roles: ['owner'],
      summary: 'Cancel inside the window: siren off, session cancelled (refused: too-late)',
      answer: alarmDecisionSchema,
      args: byCaller,
      retryWhile: [AlarmRefusal.escalating],
      action: (on) => (on === 'cancel' ? { label: 'Cancel alarm' } : undefined),
    }),
    allClear: defineRequest({
      update: allClearUpdate,
      body: noFields,
      roles: ['owner'],
      summary: 'All-clear after escalation: siren off, session resolved (refused: not-escalated)',
      answer: alarmDecisionSchema,
      args: byCaller,
      retryWhile: [AlarmRefusal.escalating],
      action: (on) => (on === 'allClear' ? { label: 'All clear' } : undefined),
    }),
  },
  viewers: ['owner'],
  homeOf: (homeId) => homeId,
  startInput: (homeId, { settings, home, hardwareTaskQueue }): SmokeAlarmInput => ({
    homeId,
    cancelWindowMs:
      ((home as Partial<AlarmHome> | undefined)?.cancelWindowSeconds ?? settings.cancelWindowSeconds) * 1000,
    wrapUpTimeoutMs: settings.wrapUpTimeoutSeconds * 1000,
    // Siren commands go to the gateway that owns this home's board.
    hardwareTaskQueue,
  }),
  settings: {
    section: 'alarm',
    schema: alarmSettingsSchema,
    env: {
      ALARM_CANCEL_WINDOW_SECONDS: 'cancelWindowSeconds',
      ALARM_WRAP_UP_TIMEOUT_SECONDS: 'wrapUpTimeoutSeconds',
    },
  },
  home: alarmHomeSchema,
  deadlines: (s) =>
    s.state === 'waiting-for-cancel' ? [{ label: 'cancel window', at: s.cancelDeadline }] : [],
  summary: (s) => ({ outcome: s.outcome }),
  closed: (s) => ({ code: 'no-active-alarm', message: `home '${s.homeId}' has no running alarm` }),
  inputs: {
    section: 'detectors',
    summary: 'Smoke detector inputs by id; the id is the detectorId of the smoke event',
    key: (homeId) => homeId,
    active: { event: 'smokeDetected', body: (detectorId) => ({ detectorId }) },
  },
  sirens: {
    key: (homeId) => homeId,
    wanted: (state) => !smokeAlarmModel.isFinal(state),
    knows: (s, detectorId) => s.detectors.some((d) => d.detectorId === detectorId),
  },
});

/** Workflow id of a home's alarm session. */
export const smokeAlarmWorkflowId = (homeId: string) => sessionId(sessionKind, homeId);
