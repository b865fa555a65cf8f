// Door-left-open session: one per door, opened when its contact reports the door open. The owner is
// reminded after a while, a second contact is told after longer; the owner may snooze; closing the door
// ends the session. The declaration the platform reads. Sandbox-safe: no Node built-ins and no I/O here.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { defineEvent, defineRequest, defineSessionKind, sessionId } from './session-kind';
import { SessionModel, isoTime, sessionStepSchema, transitionTakenSchema } from './session-model';

export const doorStates = ['open', 'reminded', 'snoozed', 'escalated', 'closed'] as const;
export type DoorState = (typeof doorStates)[number];

export const doorModel = new SessionModel<DoorState>({
  kind: 'door-left-open',
  initial: 'open',
  states: doorStates,
  final: ['closed'],
  transitions: [
    { from: 'open', to: 'reminded', on: 'timer:reminder' },
    { from: 'reminded', to: 'escalated', on: 'timer:escalation' },
    { from: 'open', to: 'snoozed', on: 'snooze' },
    { from: 'reminded', to: 'snoozed', on: 'snooze' },
    { from: 'snoozed', to: 'snoozed', on: 'snooze' },
    { from: 'snoozed', to: 'reminded', on: 'timer:snooze-end' },
    ...(['open', 'reminded', 'snoozed', 'escalated'] as const).map((from) => ({
      from,
      to: 'closed' as const,
      on: 'doorClosed',
    })),
  ],
});

/** `<homeId>.<doorId>`: the door's own id has no dot, so the home is everything before the last one. */
export const doorKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}\.[A-Za-z0-9_-]{1,64}$/, 'a door key such as home-42.front (home.door)');
export const homeOfDoor = (key: string) => key.slice(0, key.lastIndexOf('.'));
export const doorOfKey = (key: string) => key.slice(key.lastIndexOf('.') + 1);

export const doorStatusSchema = z.strictObject({
  sessionId: z.string(),
  homeId: z.string(),
  doorId: z.string(),
  state: z.enum(doorStates),
  openedAt: isoTime,
  /** When the owner is (or was) reminded; null once snoozed or past. */
  remindAt: isoTime.nullable(),
  /** When the second contact is told, once the owner has been reminded. */
  escalateAt: isoTime.nullable(),
  snoozedUntil: isoTime.nullable(),
  reminders: z.int(),
  snoozes: z.array(z.strictObject({ by: z.string(), minutes: z.int(), at: isoTime })),
  closedAt: isoTime.nullable(),
  steps: z.array(sessionStepSchema),
  path: z.array(transitionTakenSchema),
});
export type DoorStatus = z.infer<typeof doorStatusSchema>;

export interface DoorInput {
  homeId: string;
  doorId: string;
  remindAfterMs: number;
  /** Counted from the opening; after a snooze, the same gap after the reminder that ends it. */
  escalateAfterMs: number;
  maxSnoozeMinutes: number;
}

/** Door events carry nothing: which door is in the key, and when is when they arrive. */
const noFields = z.strictObject({}).optional();
type NoFields = z.infer<typeof noFields>;
export const doorOpenedSignal = defineSignal<[NoFields]>('doorOpened');
export const doorClosedSignal = defineSignal<[NoFields]>('doorClosed');
export interface SnoozeRequest {
  by: string;
  minutes: number;
}
export const snoozeUpdate = defineUpdate<DoorStatus, [SnoozeRequest]>('snooze');
export const doorStatusQuery = defineQuery<DoorStatus>('status');

export const DoorRefusal = {
  tooLate: 'too-late',
  closed: 'door-closed',
  badRequest: 'bad-request',
} as const;

export interface DoorNotice {
  homeId: string;
  doorId: string;
  /** The same on every retry: each reminder is sent once. */
  idempotencyKey: string;
  text: string;
}

/** Side effects of a door session; contacts come from configuration inside the activities. */
export interface DoorActivities {
  remindOwner: (n: DoorNotice) => Promise<void>;
  alertSecondContact: (n: DoorNotice) => Promise<void>;
}

export const doorSettingsSchema = z
  .strictObject({
    remindAfterSeconds: z.number().positive().max(86_400).default(600),
    escalateAfterSeconds: z
      .number()
      .positive()
      .max(7 * 86_400)
      .default(1800),
    maxSnoozeMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(120),
  })
  .prefault({})
  .refine(
    (d) => d.escalateAfterSeconds > d.remindAfterSeconds,
    'escalateAfterSeconds must be longer than remindAfterSeconds',
  );
export type DoorSettings = z.output<typeof doorSettingsSchema>;

/** Who hears of a door left open after the owner (a neighbour, a caretaker); default the owner again. */
export const doorHomeSchema = z.strictObject({
  secondContact: z
    .strictObject({ name: z.string().max(100).optional(), phone: z.string().min(3).max(32) })
    .optional(),
});
export type DoorHome = z.output<typeof doorHomeSchema>;

export const snoozeBody = z.strictObject({
  minutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60),
});

export const sessionKind = defineSessionKind<DoorStatus, DoorSettings>({
  name: 'door-left-open',
  title: 'Door left open',
  workflowType: 'doorLeftOpenWorkflow',
  key: { name: 'door', schema: doorKeySchema, example: 'home-42.front' },
  model: doorModel,
  // A door may stay open for days: its sessions follow every deploy, so changes are patched().
  versioning: 'auto-upgrade',
  status: doorStatusSchema,
  statusQuery: doorStatusQuery,
  events: {
    doorOpened: defineEvent({
      signal: doorOpenedSignal,
      body: noFields,
      roles: ['device'],
      opens: true,
      summary: 'The door contact reports the door open: opens its session (or joins the open one)',
    }),
    doorClosed: defineEvent({
      signal: doorClosedSignal,
      body: noFields,
      roles: ['device'],
      opens: false,
      summary: 'The door contact reports the door closed: ends its session',
    }),
  },
  requests: {
    snooze: defineRequest({
      update: snoozeUpdate,
      body: snoozeBody,
      roles: ['owner'],
      summary: 'Snooze the reminders for a while (refused once the second contact was told: too-late)',
      answer: doorStatusSchema,
      args: (body, caller) => ({ by: caller.name, minutes: body.minutes }),
      refusals: { 'bad-request': 400 },
      action: (on) => (on === 'snooze' ? { label: 'Snooze 15 min', body: { minutes: 15 } } : undefined),
    }),
  },
  viewers: ['owner'],
  homeOf: homeOfDoor,
  startInput: (key, { settings }): DoorInput => ({
    homeId: homeOfDoor(key),
    doorId: doorOfKey(key),
    remindAfterMs: settings.remindAfterSeconds * 1000,
    escalateAfterMs: settings.escalateAfterSeconds * 1000,
    maxSnoozeMinutes: settings.maxSnoozeMinutes,
  }),
  settings: {
    section: 'doors',
    schema: doorSettingsSchema,
    env: {
      DOOR_REMIND_AFTER_SECONDS: 'remindAfterSeconds',
      DOOR_ESCALATE_AFTER_SECONDS: 'escalateAfterSeconds',
    },
  },
  home: doorHomeSchema,
  deadlines: (s) => [
    ...(s.state === 'open' && s.remindAt ? [{ label: 'reminder', at: s.remindAt }] : []),
    ...(s.state === 'reminded' && s.escalateAt ? [{ label: 'second contact', at: s.escalateAt }] : []),
    ...(s.state === 'snoozed' && s.snoozedUntil ? [{ label: 'snooze', at: s.snoozedUntil }] : []),
  ],
  // Whether anyone had to be told before the door was closed.
  summary: (s) => ({
    outcome:
      s.state !== 'closed'
        ? null
        : s.path.some((t) => t.to === 'escalated')
          ? 'closed-after-escalation'
          : s.reminders > 0
            ? 'closed-after-reminder'
            : 'closed',
  }),
  closed: (s) => ({ code: DoorRefusal.closed, message: `door '${s.doorId}' in '${s.homeId}' is closed` }),
  inputs: {
    section: 'doors',
    summary: 'Door contacts by door id: active while the door is open',
    key: (homeId, doorId) => `${homeId}.${doorId}`,
    active: { event: 'doorOpened', body: () => ({}) },
    inactive: { event: 'doorClosed', body: () => ({}) },
  },
});

/** Workflow id of a door's session. */
export const doorWorkflowId = (homeId: string, doorId: string) =>
  sessionId(sessionKind, `${homeId}.${doorId}`);
