// The door-left-open session as plain async code: one per door, from the contact opening to it closing.
import { condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  DoorRefusal,
  doorClosedSignal,
  doorModel,
  doorOpenedSignal,
  doorStatusQuery,
  sessionKind,
  snoozeUpdate,
  type DoorActivities,
  type DoorInput,
  type DoorState,
  type DoorStatus,
  type SnoozeRequest,
} from '../shared/door-left-open';
import { checkActor, refuse } from './requests';
import { SessionTrack, allWorkFinished, handleEvent, kindActivities, sessionOpenedAt } from './session';
import { StepRunner, iso } from './step-runner';

// A reminder about a door is worth sending for an hour at most.
const notices = kindActivities<DoorActivities>(sessionKind.name, {
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '1h',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: ['BadConfiguration', 'NotificationRejected'],
  },
});

export async function doorLeftOpenWorkflow(input: DoorInput): Promise<DoorStatus> {
  const { homeId, doorId } = input;
  const { workflowId, runId } = workflowInfo();
  const openedAt = sessionOpenedAt();
  const s: DoorStatus = {
    sessionId: workflowId,
    homeId,
    doorId,
    state: doorModel.decl.initial,
    openedAt: iso(openedAt),
    remindAt: iso(openedAt + input.remindAfterMs),
    escalateAt: null,
    snoozedUntil: null,
    reminders: 0,
    snoozes: [],
    closedAt: null,
    steps: [],
    path: [],
  };
  const steps = new StepRunner(s.steps);
  const track = new SessionTrack<DoorState>(sessionKind.name, doorModel, s);
  /** The door opened again while this session was closing: it opens the next session. */
  let reopened = false;

  const tell = (step: string, send: DoorActivities['remindOwner'], text: string) =>
    steps.run(step, () => send({ homeId, doorId, idempotencyKey: `${workflowId}/${runId}/${step}`, text }));
  const remind = (on: string) => {
    track.move('reminded', on);
    s.reminders += 1;
    s.remindAt = null;
    s.snoozedUntil = null;
    s.escalateAt = iso(Date.now() + input.escalateAfterMs - input.remindAfterMs);
    void tell(
      `reminder-${s.reminders}`,
      notices.remindOwner,
      `The ${doorId} door in ${homeId} is still open.`,
    );
  };

  setHandler(doorStatusQuery, () => s);
  handleEvent(input, doorOpenedSignal, () => {
    if (track.ended) reopened = true;
  });
  handleEvent(input, doorClosedSignal, () => {
    // While this run is ending, the contact's latest report decides whether a next session opens.
    if (track.ended) {
      reopened = false;
      return;
    }
    track.move('closed', 'doorClosed');
    s.closedAt = iso(Date.now());
    s.remindAt = s.escalateAt = s.snoozedUntil = null;
  });
  setHandler(
    snoozeUpdate,
    ({ by, minutes }: SnoozeRequest) => {
      track.move('snoozed', 'snooze');
      s.snoozedUntil = iso(Date.now() + minutes * 60_000);
      s.remindAt = s.escalateAt = null;
      s.snoozes.push({ by, minutes, at: iso(Date.now()) });
      return s;
    },
    {
      // Validators refuse without touching state or history.
      validator: (req: SnoozeRequest) => {
        checkActor(req);
        if (!Number.isInteger(req.minutes) || req.minutes < 1 || req.minutes > input.maxSnoozeMinutes) {
          throw refuse(
            DoorRefusal.badRequest,
            `minutes must be a whole number from 1 to ${input.maxSnoozeMinutes}`,
          );
        }
        if (s.state === 'escalated')
          throw refuse(
            DoorRefusal.tooLate,
            'too late to snooze: the second contact was told; close the door',
          );
        if (track.ended) throw refuse(DoorRefusal.closed, 'the door is closed');
      },
    },
  );

  track.publish({ key: `${homeId}.${doorId}`, homeId });

  /** Waits until the state changes (or a snooze is extended) or `at` passes; true when `at` passed first. */
  const timedOut = async (at: string | null) => {
    const state = s.state;
    const until = s.snoozedUntil;
    const changed = () => s.state !== state || s.snoozedUntil !== until;
    if (at === null) {
      await condition(changed);
      return false;
    }
    return !(await condition(changed, Math.max(0, Date.parse(at) - Date.now())));
  };
  while (!track.ended) {
    if (s.state === 'open' && (await timedOut(s.remindAt))) remind('timer:reminder');
    else if (s.state === 'snoozed' && (await timedOut(s.snoozedUntil))) remind('timer:snooze-end');
    else if (s.state === 'reminded' && (await timedOut(s.escalateAt))) {
      track.move('escalated', 'timer:escalation');
      s.escalateAt = null;
      void tell(
        'second-contact',
        notices.alertSecondContact,
        `The ${doorId} door in ${homeId} has been open since ${s.openedAt}; the owner did not close it.`,
      );
    } else if (s.state === 'escalated') await condition(() => track.ended);
  }

  if (s.reminders > 0) {
    void tell('closed', notices.remindOwner, `The ${doorId} door in ${homeId} is closed again.`);
  }
  await allWorkFinished(steps);
  // The door opened again as this session closed: that opening must not be lost.
  if (reopened) return continueAsNew<typeof doorLeftOpenWorkflow>(input);
  return s;
}
