// The smoke-alarm session as plain async code: one workflow per home, opened by the first smoke event.
import {
  CancellationScope,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { HardwareActivities } from '../shared/hardware';
import {
  AlarmRefusal,
  MAX_DETECTORS,
  alarmDefaults,
  alarmStatusQuery,
  allClearUpdate,
  cancelAlarmUpdate,
  nonRetryableErrorTypes,
  smokeAlarmModel,
  sessionKind,
  smokeDetectedSignal,
  type Actor,
  type AlarmDecision,
  type AlarmOutcome,
  type AlarmState,
  type AlarmStatus,
  type AlarmStep,
  type EscalationReason,
  type NotificationInput,
  type SmokeAlarmActivities,
  type SmokeAlarmInput,
  type SmokeEvent,
} from '../shared/smoke-alarm';
import { localFirst } from './hardware';
import { checkActor, refuse } from './requests';
import {
  SessionTrack,
  TransitionTaskGuard,
  allWorkFinished,
  dueToContinueAsNew,
  handleEvent,
  kindActivities,
  sessionOpenedAt,
} from './session';
import { StepRunner, iso } from './step-runner';

// Escalation messages matter for an hour; after that a retry would only confuse people.
const escalation = kindActivities<SmokeAlarmActivities>(sessionKind.name, {
  startToCloseTimeout: '20s',
  scheduleToCloseTimeout: '1h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes },
});

export async function smokeAlarmWorkflow(input: SmokeAlarmInput): Promise<AlarmStatus> {
  const info = workflowInfo();
  const historyLimit = input.historyLimit ?? alarmDefaults.historyLimit;
  // Siren commands run on the gateway that owns the board. They heartbeat while they wait for it, so a
  // dead gateway is noticed in seconds and the retry reaches its restarted successor.
  const sirenOptions = {
    ...(input.hardwareTaskQueue ? { taskQueue: input.hardwareTaskQueue } : {}),
    startToCloseTimeout: '10s',
    heartbeatTimeout: '5s',
    retry: {
      initialInterval: '500ms',
      backoffCoefficient: 2,
      maximumInterval: '10s',
      nonRetryableErrorTypes,
    },
  } as const;
  // A siren command retries for as long as the session wants that state; a newer command cancels it.
  // A board in this worker's own process is switched at once, inside the task (hardware.ts).
  const siren = localFirst(proxyActivities<HardwareActivities>(sirenOptions), input.hardwareTaskQueue);
  // Wrap-up commands give up after a bound so an unplugged board cannot keep a finished session open
  // (the gateway still holds "off" as the desired state and applies it when the board returns).
  const wrapUpTimeout = input.wrapUpTimeoutMs ?? alarmDefaults.wrapUpTimeoutMs;
  const wrapUpSiren = localFirst(
    proxyActivities<HardwareActivities>({ ...sirenOptions, scheduleToCloseTimeout: wrapUpTimeout }),
    input.hardwareTaskQueue,
  );
  const wrapUp = kindActivities<SmokeAlarmActivities>(sessionKind.name, {
    startToCloseTimeout: '10s',
    scheduleToCloseTimeout: wrapUpTimeout,
    retry: sirenOptions.retry,
  });

  // A session carried over from a version without `path` starts its path here.
  const openedAt = input.carried ? 0 : sessionOpenedAt();
  const s: AlarmStatus = input.carried
    ? { ...input.carried, path: input.carried.path ?? [] }
    : {
        sessionId: info.workflowId,
        openedInRun: info.runId,
        homeId: input.homeId,
        state: smokeAlarmModel.decl.initial,
        outcome: null,
        startedAt: iso(openedAt),
        cancelWindowSeconds: input.cancelWindowMs / 1000,
        cancelDeadline: iso(openedAt + input.cancelWindowMs),
        detectors: [],
        escalation: null,
        steps: [],
        path: [],
        siren: 'unknown',
        endedAt: null,
        endedBy: null,
      };
  const lateEvents: SmokeEvent[] = [];
  const steps = new StepRunner<AlarmStep>(s.steps);
  const track = new SessionTrack<AlarmState>(sessionKind.name, smokeAlarmModel, s);
  const move = (to: AlarmState, on: string) => track.move(to, on);
  const escalationTask = new TransitionTaskGuard();
  let sirenScope: CancellationScope | undefined;
  const decision = (): AlarmDecision => ({ state: s.state, outcome: s.outcome });

  function notify(
    step: AlarmStep,
    send: (n: NotificationInput) => Promise<void>,
    text: string,
  ): Promise<void> {
    // Same key on every retry and after continue-as-new: the channel sends it at most once.
    const idempotencyKey = `${s.sessionId}/${s.openedInRun}/${step}`;
    return steps.run(step, () => send({ homeId: s.homeId, idempotencyKey, text }));
  }

  function driveSiren(on: boolean, via: HardwareActivities): Promise<void> {
    sirenScope?.cancel();
    const scope = new CancellationScope();
    sirenScope = scope;
    return steps.run(on ? 'siren-on' : 'siren-off', async () => {
      await scope.run(() => via.setSiren({ homeId: s.homeId, on, issuedAt: Date.now() }));
      s.siren = on ? 'on' : 'off';
    });
  }

  function escalate(reason: EscalationReason, on: string) {
    escalationTask.mark();
    move('escalated', on);
    s.escalation = { reason, at: iso(Date.now()) };
    const where = s.detectors.map((d) => d.detectorId).join(', ');
    // Not awaited: SMS and call go out side by side, and neither waits on the siren.
    void notify(
      'sms-owner',
      escalation.smsOwner,
      `FIRE ALARM at ${s.homeId}: smoke at ${where} (${reason}). Emergency services are being called.`,
    );
    void notify(
      'call-emergency',
      escalation.callEmergency,
      `Automatic fire alarm at ${s.homeId}: smoke at ${where}, not cancelled by the owner.`,
    );
  }

  function onSmoke(e: SmokeEvent) {
    if (smokeAlarmModel.isFinal(s.state)) {
      // The session is ending: a new fire must not be lost, it opens the next session (once per detector).
      if (!lateEvents.some((l) => l.detectorId === e.detectorId) && lateEvents.length < MAX_DETECTORS)
        lateEvents.push(e);
      return;
    }
    const at = iso(Date.now());
    const known = s.detectors.find((d) => d.detectorId === e.detectorId);
    if (known) {
      known.lastAt = at;
      known.events += 1;
      return;
    }
    if (s.detectors.length < MAX_DETECTORS)
      s.detectors.push({ detectorId: e.detectorId, firstAt: at, lastAt: at, events: 1 });
    else
      log.warn('detector not recorded: the session keeps at most MAX_DETECTORS', {
        detectorId: e.detectorId,
      });
    if (s.state === 'waiting-for-cancel' && s.detectors.length > 1)
      escalate('second-detector', 'smokeDetected');
  }

  const endedRefusal = () => refuse(AlarmRefusal.alreadyEnded, `the alarm already ended (${s.outcome})`);

  setHandler(alarmStatusQuery, () => s);
  handleEvent(input, smokeDetectedSignal, onSmoke);
  /** Ends the story (cancel or all-clear); the main loop then turns the siren off and closes. */
  const end = (outcome: AlarmOutcome, on: string, by: string): AlarmDecision => {
    move(outcome, on);
    s.outcome = outcome;
    s.endedAt = iso(Date.now());
    s.endedBy = by;
    return decision();
  };

  setHandler(cancelAlarmUpdate, ({ by }) => end('cancelled', 'cancel', by), {
    // Validators refuse without touching state or history.
    validator: (actor: Actor) => {
      checkActor(actor);
      if (s.state === 'escalated') {
        throw refuse(
          AlarmRefusal.tooLate,
          `too late to cancel: escalated at ${s.escalation?.at} (${s.escalation?.reason}); send all-clear once safe`,
        );
      }
      if (s.state !== 'waiting-for-cancel') throw endedRefusal();
    },
  });
  setHandler(allClearUpdate, ({ by }) => end('resolved', 'allClear', by), {
    validator: (actor: Actor) => {
      checkActor(actor);
      if (s.state === 'waiting-for-cancel') {
        // The window ran out but its timer is in this same task, after the update (a worker was down as
        // it fell due): the escalation happens now, so ask for a retry instead of refusing for good.
        if (Date.now() >= Date.parse(s.cancelDeadline))
          throw refuse(AlarmRefusal.escalating, 'the alarm is escalating right now; retry in a moment');
        throw refuse(AlarmRefusal.notEscalated, 'the alarm is not escalated: cancel it instead');
      }
      if (s.state !== 'escalated') throw endedRefusal();
      escalationTask.check(AlarmRefusal.escalating, 'the alarm is escalating right now; retry in a moment');
    },
  });

  const mustRollOver = () => dueToContinueAsNew(historyLimit, steps);
  const rollOver = () => {
    log.info('continuing as new to keep history small', { historyLength: workflowInfo().historyLength });
    return continueAsNew<typeof smokeAlarmWorkflow>({ ...input, carried: s, pending: undefined });
  };

  track.publish({ key: s.homeId, homeId: s.homeId });

  if (!input.carried) {
    for (const e of input.pending ?? []) onSmoke(e);
    void driveSiren(true, siren);
    // The opening event came in this same first activation (signal-with-start's signal, or the input).
    await condition(() => s.detectors.length > 0);
    void notify(
      'notify-owner',
      escalation.notifyOwner,
      `Smoke detected at ${s.detectors[0]?.detectorId} in ${s.homeId}. ` +
        `Cancel within ${s.cancelWindowSeconds} s if this is a false alarm.`,
    );
  } else if (!smokeAlarmModel.isFinal(s.state)) {
    // Resumed after continue-as-new: put the siren where the session wants it (idempotent).
    void driveSiren(true, siren);
  }

  while (s.state === 'waiting-for-cancel') {
    const remaining = Date.parse(s.cancelDeadline) - Date.now();
    const changed =
      remaining > 0 && (await condition(() => s.state !== 'waiting-for-cancel' || mustRollOver(), remaining));
    if (!changed && s.state === 'waiting-for-cancel') escalate('window-expired', 'timer:cancel-window');
    else if (s.state === 'waiting-for-cancel') await rollOver();
  }
  while (s.state === 'escalated') {
    await condition(() => s.state !== 'escalated' || mustRollOver());
    if (s.state === 'escalated') await rollOver();
  }

  const by = s.endedBy ?? 'unknown';
  await Promise.all([
    driveSiren(false, wrapUpSiren),
    s.outcome === 'cancelled'
      ? notify('notify-cancelled', wrapUp.notifyOwner, `Alarm at ${s.homeId} cancelled by ${by}; siren off.`)
      : notify('notify-resolved', wrapUp.notifyOwner, `All-clear at ${s.homeId} given by ${by}; siren off.`),
  ]);
  // Escalation messages still retrying are part of this session: finish them before closing.
  await allWorkFinished(steps);

  if (lateEvents.length > 0) {
    log.warn('smoke events arrived while the session was ending: opening the next session', {
      detectors: lateEvents.map((e) => e.detectorId),
    });
    return continueAsNew<typeof smokeAlarmWorkflow>({
      homeId: input.homeId,
      cancelWindowMs: input.cancelWindowMs,
      wrapUpTimeoutMs: input.wrapUpTimeoutMs,
      hardwareTaskQueue: input.hardwareTaskQueue,
      historyLimit: input.historyLimit,
      pending: lateEvents,
    });
  }
  return s;
}
