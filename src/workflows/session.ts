// Plumbing every session workflow shares, named for what it does, so a kind's workflow file reads like
// its use case: search attributes and moves through the declared model, per-kind activity names, the
// same-task guard, when to continue as new, and closing only once handlers and side effects are done.
import {
  allHandlersFinished,
  condition,
  log,
  metricMeter,
  proxyActivities,
  proxySinks,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
  type SignalDefinition,
} from '@temporalio/workflow';
import { sessionPublicationQuery, type ReadModelSinks } from '../shared/session-change';
import { CustomerId, HomeId, SessionKey, SessionKind, SessionState } from '../shared/search-attributes';
import { openingOf } from '../shared/session-kind';
import type { SessionModel, TransitionTaken } from '../shared/session-model';
import { atActivationEnd } from './activation-end';
import { frameworkPatched } from './settled-patches';
import { refuse } from './requests';
import type { StepRunner } from './step-runner';
import { iso } from './step-runner';

/** Who a session belongs to, as visibility (and so the API's access rules and /ui) sees it. */
export interface SessionScope {
  key: string;
  homeId?: string;
  customerId?: string;
}

// Session lifecycle metrics, on the worker's SDK metrics endpoint (not emitted on replay, so each counts
// once; nothing of them enters history). The exporter adds `_total`. Made on use: the meter exists only
// inside a workflow.
const counter = (name: string, description: string) => metricMeter.createCounter(name, '', description);
const sessionMetrics = {
  opened: () => counter('sessionflow_sessions_opened', 'Sessions opened, by kind'),
  transitions: () =>
    counter('sessionflow_session_transitions', 'Moves along the declared model, by kind, from and to state'),
  ended: () =>
    counter(
      'sessionflow_sessions_ended',
      'Sessions that reached a final state, by kind and outcome (that state)',
    ),
};

// A sink, not an activity: the worker writes the read model after the activation that changed the status
// and before it reports the workflow task complete (so before the request that caused the change is
// answered), and it leaves no trace in history: nothing to replay, no extra workflow tasks.
const { readModel } = proxySinks<ReadModelSinks>();

/** A session's state in its declared model: every move is checked, recorded and made searchable. */
export class SessionTrack<S extends string> {
  constructor(
    private readonly kind: string,
    private readonly model: SessionModel<S>,
    private readonly status: { state: S; path: TransitionTaken[] },
  ) {
    // A run continued as new carries on the same session.
    if (workflowInfo().continuedFromExecutionRunId === undefined) {
      sessionMetrics.opened().add(1, { kind });
      // Through the SDK's logger to the worker's log (not on replay), with workflow and run id.
      log.info('session opened', { state: status.state });
    }
  }

  /**
   * Makes the session findable by kind, key, state and owner (Temporal visibility, its Web UI, /ui),
   * and from now on publishes every change of its status to the read model.
   */
  publish(scope: SessionScope): void {
    new Publication(this.kind, scope, this.status, (s) => this.model.isFinal(s));
    upsertSearchAttributes([
      { key: SessionKind, value: this.kind },
      { key: SessionKey, value: scope.key },
      { key: SessionState, value: this.status.state },
      ...(scope.homeId ? [{ key: HomeId, value: scope.homeId }] : []),
      ...(scope.customerId ? [{ key: CustomerId, value: scope.customerId }] : []),
    ]);
  }

  /** Moves along a declared transition (throws on an undeclared one) and records it on the path. */
  move(to: S, on: string): TransitionTaken {
    const from = this.status.state;
    this.status.state = this.model.move(from, to, on);
    const taken = { from, to, on, at: iso(Date.now()) };
    this.status.path.push(taken);
    upsertSearchAttributes([{ key: SessionState, value: to }]);
    log.info('session moved', { from, to, on });
    sessionMetrics.transitions().add(1, { kind: this.kind, from, to });
    if (this.model.isFinal(to)) sessionMetrics.ended().add(1, { kind: this.kind, outcome: to });
    return taken;
  }

  get ended(): boolean {
    return this.model.isFinal(this.status.state);
  }
}

/**
 * Publishes the status at the end of every activation that changed it (changes made together go out
 * together). Not on replay: what a replayed activation published, the read model has already.
 */
class Publication {
  private sent = '';
  private version = 0;
  private asOf = '';

  constructor(
    private readonly kind: string,
    private readonly scope: SessionScope,
    private readonly status: { state: string },
    private readonly isFinal: (state: string) => boolean,
  ) {
    setHandler(sessionPublicationQuery, () => ({
      version: this.version,
      asOf: this.asOf,
      status: this.status,
    }));
    atActivationEnd(() => this.publishIfChanged());
  }

  private publishIfChanged(): void {
    const next = JSON.stringify(this.status);
    if (next === this.sent) return;
    this.sent = next;
    // Workflow time in µs, never below the last: it keeps growing across continue-as-new.
    this.version = Math.max(this.version + 1, Date.now() * 1000);
    this.asOf = new Date().toISOString();
    const { workflowId, runId, unsafe } = workflowInfo();
    // The worker would drop it anyway; a replayer (tests, CI) has no such sink to drop it.
    if (unsafe.isReplaying) return;
    readModel.publish({
      workflowId,
      runId,
      kind: this.kind,
      key: this.scope.key,
      version: this.version,
      asOf: this.asOf,
      state: this.status.state,
      final: this.isFinal(this.status.state),
      homeId: this.scope.homeId ?? null,
      customerId: this.scope.customerId ?? null,
      status: JSON.parse(next) as Record<string, unknown>,
    });
  }
}

let openingHandled = false;

/**
 * Handles one of the session's events: its signal, and the event that opened the session when that came
 * in the start input instead (an eager start, `OpeningEvent`). The opening is handled here, in the first
 * activation, where signal-with-start's signal would be; a run continued as new never repeats it.
 */
export function handleEvent<Body>(
  input: unknown,
  signal: SignalDefinition<[Body]>,
  handler: (body: Body) => void,
): void {
  setHandler(signal, handler);
  const opening = openingOf(input);
  if (opening?.signal !== signal.name || workflowInfo().continuedFromExecutionRunId) return;
  openingHandled = true;
  handler(opening.body as Body);
}

/**
 * Fails the workflow task when the start input carries an opening event that no `handleEvent` took: the
 * event would be lost otherwise. The task is retried, so the session waits, visibly, for a build whose
 * workflow handles it (as for any bug in a first task) instead of running without it.
 */
export function assertOpeningHandled(input: unknown): void {
  const opening = openingOf(input);
  if (!opening || openingHandled || workflowInfo().continuedFromExecutionRunId) return;
  throw new Error(
    `${workflowInfo().workflowType} was started with its opening event '${opening.signal}' in the input, ` +
      'but does not handle it: register that signal with handleEvent()',
  );
}

/**
 * Activities of one kind, registered by the worker as `<kind>.<name>` so two kinds' activities can never
 * overwrite each other. Sessions started before the names were namespaced keep the plain names on replay.
 * The worker heartbeats them while they run (src/activities/keep-alive.ts), so an attempt cut off by a
 * dying worker is retried after `heartbeatTimeout` (default 5 s), not after its start-to-close timeout.
 */
export function kindActivities<A extends object>(kind: string, options: ActivityOptions): A {
  const raw = proxyActivities<Record<string, (...args: unknown[]) => Promise<unknown>>>({
    heartbeatTimeout: '5s',
    ...options,
  });
  return new Proxy({} as A, {
    get: (_target, name) => {
      if (typeof name !== 'string') return undefined;
      return (...args: unknown[]) =>
        (frameworkPatched('kind-namespaced-activities') ? raw[`${kind}.${name}`] : raw[name])(...args);
    },
  });
}

/**
 * Refuses an update accepted in the very workflow task that made a timer-driven move: such histories
 * replay in the other order, update first (an SDK replay-ordering bug, test/workflows/replay), so the
 * update is refused until that task is committed and the API asks again a moment later (`retryWhile`).
 * Validators do not run on replay, so the refusal leaves no trace.
 */
export class TransitionTaskGuard {
  private markedAt: number | undefined;

  mark(): void {
    this.markedAt = workflowInfo().historyLength;
  }

  check(code: string, message: string): void {
    if (this.markedAt === workflowInfo().historyLength) throw refuse(code, message);
  }
}

/**
 * When the session opened: when Temporal accepted its opening event (the run's started event), not when a
 * worker first ran it. Its windows and timers count from here, so a worker that was down or restarting as
 * the session opened does not stretch them by its outage (an alarm then escalates as soon as a worker is
 * back, if its window ran out meanwhile). `runStartTime` is the first activation's time, not the event's.
 * A run continued from another one starts with a worker at hand; runs that began before this rule keep
 * their first task's clock.
 */
export function sessionOpenedAt(): number {
  const { startTime, continuedFromExecutionRunId } = workflowInfo();
  if (continuedFromExecutionRunId || !frameworkPatched('opened-at-run-start')) return Date.now();
  return startTime.getTime();
}

/** History has grown past the limit (or the server suggests it) and nothing is in flight to carry over. */
export function dueToContinueAsNew(historyLimit: number, steps: StepRunner): boolean {
  const { continueAsNewSuggested, historyLength } = workflowInfo();
  return (
    (continueAsNewSuggested || historyLength > historyLimit) && steps.pending === 0 && allHandlersFinished()
  );
}

/** Side effects still retrying and handlers still running belong to the session: close after them. */
export function allWorkFinished(steps: StepRunner): Promise<void> {
  return condition(() => steps.pending === 0 && allHandlersFinished());
}
