// Sessions as the API sees them, for every registered kind alike: send an event (open or join), make a
// request (an update that answers or refuses), read the status, list. Routes stay thin on top of this.
import { QueryNotRegisteredError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { eventRefusal, type Config } from '../config/config';
import { noteSession } from '../config/log-context';
import { sendSessionEvent, startSearchAttributes } from '../config/session-events';
import { CustomerId, HomeId, SessionKey, SessionKind, SessionState } from '../shared/search-attributes';
import { sessionId, withSettledPatches, type AnySessionKind, type Caller } from '../shared/session-kind';
import { authorize, visibilityScope, type Principal } from './auth';
import {
  HttpError,
  conflict,
  forbidden,
  fromTemporal,
  isTemporalUnreachable,
  notFound,
  stillOpening,
} from './errors';
import type { ApiMetrics } from './metrics';
import { OpeningBacklog } from './opening-backlog';
import type { TemporalGateway } from './temporal-gateway';
import type { ReadModel } from '../read-model/read-model';
import { sessionPublicationQuery } from '../shared/session-change';
const RETRY_WHILE_ATTEMPTS = 15;
const RETRY_WHILE_PAUSE_MS = 200;

export interface SessionRow {
  workflowId: string;
  runId: string;
  kind: string | null;
  key: string | null;
  state: string | null;
  status: string;
  startedAt: string;
  closedAt: string | null;
  homeId: string | null;
  customerId: string | null;
}

/** How a route names a missing session (friendly routes keep their own codes). */
export interface Missing {
  missing?: () => HttpError;
}

/** What every status read adds to the kind's status: its version, and when it was published. */
export interface ReadStamp {
  version: number | null;
  asOf: string | null;
}
type StatusAnswer = { state: string } & ReadStamp & Record<string, unknown>;

const refusalOf = (err: unknown) =>
  err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure
    ? err.cause.type
    : undefined;

// A run that has not published after this long never will (it failed at once, or another process's).
const FORGET_OPENING_AFTER_MS = 5 * 60_000;
/** What a read's Temporal fallback keeps of the call deadline after waiting for a first publication. */
const fallbackMs = (callTimeoutMs: number) => Math.min(500, callTimeoutMs / 2);

export class Sessions {
  /** Runs opened here that wait for their first workflow task; openings are shed past its limit. */
  readonly openings: OpeningBacklog | undefined;

  constructor(
    private readonly config: Config,
    private readonly temporal: TemporalGateway,
    readonly kinds: AnySessionKind[],
    readonly readModel?: ReadModel,
    private readonly metrics?: ApiMetrics,
  ) {
    const { openingBacklog, retryAfterSeconds } = config.api.writes;
    this.openings =
      readModel &&
      new OpeningBacklog(readModel.store, readModel.feed, {
        limit: openingBacklog,
        retryAfterSeconds,
        forgetAfterMs: FORGET_OPENING_AFTER_MS,
      });
  }

  /** The session as the read model last heard of it (after binding the store to its namespace). */
  private async stored(kind: AnySessionKind, key: string) {
    if (!this.readModel) return undefined;
    await this.readModel.ready();
    return this.readModel.store.get(sessionId(kind, key))?.publication;
  }

  kind(name: string): AnySessionKind {
    const kind = this.kinds.find((k) => k.name === name);
    if (!kind) throw notFound('no-kind', `there is no session kind '${name}'`);
    return kind;
  }

  /** The session's workflow; the request's log line names it from here on. */
  handle(kind: AnySessionKind, key: string): WorkflowHandle {
    noteSession(sessionId(kind, key));
    return this.temporal.client.workflow.getHandle(sessionId(kind, key));
  }

  describe(kind: AnySessionKind, key: string) {
    return this.temporal.call(() => this.handle(kind, key).describe());
  }

  fetchHistory(handle: WorkflowHandle) {
    return this.temporal.call(() => handle.fetchHistory());
  }

  private missing(kind: AnySessionKind, key: string, opts?: Missing): HttpError {
    return opts?.missing?.() ?? notFound('no-session', `there is no ${kind.name} session '${key}'`);
  }

  /** Checks who may act, reading the session's owner only when a rule needs it. */
  authorize(
    p: Principal,
    kind: AnySessionKind,
    key: string,
    roles: AnySessionKind['viewers'],
    opts?: Missing,
  ) {
    return authorize(p, kind, key, roles, async () => {
      const known = await this.stored(kind, key);
      if (known) return { customerId: known.customerId ?? undefined };
      const d = await this.temporal
        .call(() => this.handle(kind, key).describe())
        .catch((err: unknown) => {
          throw fromTemporal(err, this.missing(kind, key, opts)) ?? err;
        });
      return { customerId: d.typedSearchAttributes.get(CustomerId) };
    });
  }

  /**
   * Starts a session with its input, once per key (a second start with the same key is refused with
   * WorkflowExecutionAlreadyStartedError), for kinds whose sessions a route opens rather than an event.
   */
  async start(
    kind: AnySessionKind,
    key: string,
    input: unknown,
    owner: { customerId?: string } = {},
  ): Promise<void> {
    noteSession(sessionId(kind, key));
    this.openings?.admit();
    const handle = await this.temporal.write((client) =>
      client.workflow.start(kind.workflowType, {
        workflowId: sessionId(kind, key),
        taskQueue: this.temporal.taskQueue,
        args: [withSettledPatches(input)],
        typedSearchAttributes: startSearchAttributes(kind, key, owner),
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      }),
    );
    noteSession(handle.workflowId, handle.firstExecutionRunId);
    this.openings?.opened(handle.workflowId, handle.firstExecutionRunId);
    this.metrics?.counters.sessionStarts.inc({ kind: kind.name });
  }

  /**
   * Sends an event; an opening event starts the session when none runs. Answers once it is durably
   * accepted, with the state the session had as the read model knows it: the event joined that run, or
   * it opened a new one (which begins in the model's initial state). No worker is waited for.
   */
  async event(kind: AnySessionKind, key: string, name: string, body: unknown, opts?: Missing) {
    this.checkEvent(kind, key, name, body);
    noteSession(sessionId(kind, key));
    const mayOpen = await this.mayOpen(kind, key, name);
    if (mayOpen) this.openings?.admit();
    const eager = mayOpen && this.temporal.eagerStarts;
    const sent = await this.temporal
      .write((client) => sendSessionEvent(client, this.config, kind, key, name, body, { eager }))
      .catch((err: unknown) => {
        throw fromTemporal(err, this.missing(kind, key, opts)) ?? err;
      });
    noteSession(sessionId(kind, key), sent.runId);
    this.metrics?.counters.sessionEvents.inc({ kind: kind.name, event: name });
    if (sent.eager) this.metrics?.counters.eagerOpenings.inc({ kind: kind.name });
    const known = await this.stored(kind, key);
    const joined = known && (known.runId === sent.runId || !known.final);
    const state = joined ? known.state : kind.model.decl.initial;
    if (!joined && sent.runId) this.openings?.opened(sessionId(kind, key), sent.runId);
    return { sessionId: sessionId(kind, key), runId: sent.runId ?? null, state };
  }

  /** Whether the event would open a session: an opening event, and no run of it is known to go on. */
  private async mayOpen(kind: AnySessionKind, key: string, name: string): Promise<boolean> {
    if (!kind.events[name]?.opens || this.openings?.isPending(sessionId(kind, key))) return false;
    const known = await this.stored(kind, key);
    return !known || known.final;
  }

  /** The event's own check against the configuration (422, before anything is started or signalled). */
  private checkEvent(kind: AnySessionKind, key: string, name: string, body: unknown): void {
    const refusal = eventRefusal(this.config, kind, key, name, body);
    if (refusal !== undefined) throw new HttpError(422, 'not-configured', refusal);
  }

  /**
   * Runs a request: its answer, or its refusal as an HTTP error (409 unless the kind maps the code). A
   * request to a closed session is refused with the kind's `closed` code; one the workflow lifts within a
   * moment (`retryWhile`) is asked again.
   */
  async request(
    kind: AnySessionKind,
    key: string,
    name: string,
    body: unknown,
    caller: Caller,
    opts?: Missing & { idempotencyKey?: string },
  ) {
    const decl = kind.requests[name];
    // The same key, the same update: Temporal answers a retry with the first one's outcome.
    const updateId = opts?.idempotencyKey && `${name}/${caller.name}/${opts.idempotencyKey}`;
    const arg = decl.args ? decl.args(body, caller) : { ...(body as object), by: caller.name };
    for (let attempt = 1; ; attempt++) {
      try {
        const answer = await this.temporal.write(() =>
          this.handle(kind, key).executeUpdate(decl.update, {
            args: [arg],
            ...(updateId ? { updateId } : {}),
          }),
        );
        this.metrics?.counters.sessionRequests.inc({ kind: kind.name, request: name, result: 'answered' });
        return answer;
      } catch (err) {
        const refusal = refusalOf(err);
        if (refusal && decl.retryWhile?.includes(refusal) && attempt < RETRY_WHILE_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, RETRY_WHILE_PAUSE_MS));
          continue;
        }
        this.metrics?.counters.sessionRequests.inc({
          kind: kind.name,
          request: name,
          result: refusal ?? 'failed',
        });
        const mapped = fromTemporal(err, this.missing(kind, key, opts));
        if (!mapped) throw err;
        if (mapped.status === 404) {
          // Updates cannot reach a closed session; its result says how it ended.
          const closed = await this.finalStatus(kind, key);
          if (closed) {
            const { code, message } = kind.closed?.(closed) ?? {
              code: 'session-closed',
              message: `the session is ${closed.state} and closed`,
            };
            throw conflict(code, message);
          }
          throw mapped;
        }
        const status = refusal ? decl.refusals?.[refusal] : undefined;
        throw status ? new HttpError(status, mapped.code, mapped.message) : mapped;
      }
    }
  }

  /**
   * The one way to read a session: from the read model, which every status change reaches before the
   * request that made it is answered. `consistent` (and a session the read model does not know) asks
   * Temporal instead: a running session answers its publication query; a closed one its result, read
   * from history (nothing is replayed, no worker is needed).
   */
  async status<S extends object = StatusAnswer>(
    kind: AnySessionKind,
    key: string,
    opts: Missing & { consistent?: boolean } = {},
  ): Promise<S & ReadStamp> {
    return (await this.answer(kind, key, opts)) as unknown as S & ReadStamp;
  }

  private async answer(
    kind: AnySessionKind,
    key: string,
    opts: Missing & { consistent?: boolean },
  ): Promise<StatusAnswer> {
    const { callTimeoutMs } = this.config.temporal;
    const deadline = Date.now() + callTimeoutMs;
    let known = opts.consistent ? undefined : await this.stored(kind, key);
    const opening = !known && !opts.consistent && this.openings?.isPending(sessionId(kind, key)) === true;
    if (opening) {
      // Opened here, its first task not run yet: that task publishes. A query would wait for the same
      // task, and cost a describe, a query task and the worker's replies on top. The wait leaves the
      // deadline's last half second to Temporal (for a publication that was lost: the session answers
      // its query at once), so a session no worker runs gets its 503 within one deadline, not two.
      await this.openings.published(sessionId(kind, key), callTimeoutMs - fallbackMs(callTimeoutMs));
      known = await this.stored(kind, key);
    }
    this.metrics?.counters.statusReads.inc({ kind: kind.name, source: known ? 'read-model' : 'temporal' });
    if (known) return { ...known.status, state: known.state, version: known.version, asOf: known.asOf };
    return this.temporal
      .call(
        () => this.temporalStatus(kind, key, opening),
        Math.max(deadline - Date.now(), fallbackMs(callTimeoutMs)),
      )
      .catch((err: unknown) => {
        throw fromTemporal(err, this.missing(kind, key, opts)) ?? err;
      });
  }

  /**
   * A session's status as Temporal has it (see `status`), within the caller's deadline. `opening`: this
   * API accepted the session's opening and has seen no publication of it yet.
   */
  private async temporalStatus(kind: AnySessionKind, key: string, opening = false): Promise<StatusAnswer> {
    const handle = this.handle(kind, key);
    const { status, closeTime, runId } = await handle.describe();
    noteSession(handle.workflowId, runId);
    if (status.name === 'RUNNING') {
      const p = await handle.query(sessionPublicationQuery).catch(async (err: unknown) => {
        // Temporal answered the describe: what has not run in time is the session's first task.
        if (opening && isTemporalUnreachable(err))
          throw stillOpening(this.config.api.writes.retryAfterSeconds);
        // A session from before the read model publishes nothing: its status query, unversioned.
        if (!(err instanceof QueryNotRegisteredError)) throw err;
        return { status: await handle.query(kind.statusQuery), version: null, asOf: null };
      });
      return { ...p.status, state: String(p.status.state), version: p.version, asOf: p.asOf };
    }
    if (status.name === 'COMPLETED') {
      const result = (await handle.result()) as { state: string };
      return { ...result, version: null, asOf: closeTime?.toISOString() ?? null };
    }
    throw new HttpError(
      410,
      'session-gone',
      `the session ended ${status.name.toLowerCase()}, without a result`,
    );
  }

  /** A closed session's final status, or undefined when there is none (never existed, or no result). */
  private async finalStatus(kind: AnySessionKind, key: string): Promise<{ state: string } | undefined> {
    const handle = this.handle(kind, key);
    return this.temporal
      .call(async () => {
        if ((await handle.describe()).status.name !== 'COMPLETED') return undefined;
        return (await handle.result()) as { state: string };
      })
      .catch(() => undefined);
  }

  /** Sessions the principal may see, newest first, through Temporal visibility. */
  async list(
    p: Principal,
    filter: { kind?: string; state?: string; open?: boolean; limit: number },
  ): Promise<SessionRow[]> {
    const scope = visibilityScope(p, this.kinds);
    if (!scope) throw forbidden('this token cannot view sessions');
    // Values are registered kind names and validated states: safe to quote.
    const clauses = [scope];
    if (filter.kind) clauses.push(`${SessionKind.name} = '${this.kind(filter.kind).name}'`);
    if (filter.state) clauses.push(`${SessionState.name} = '${filter.state}'`);
    if (filter.open !== undefined) clauses.push(`ExecutionStatus ${filter.open ? '=' : '!='} 'Running'`);
    return this.temporal.list(clauses.join(' AND '), filter.limit, (wf) => {
      const sa = wf.typedSearchAttributes;
      return {
        workflowId: wf.workflowId,
        runId: wf.runId,
        kind: sa.get(SessionKind) ?? null,
        key: sa.get(SessionKey) ?? null,
        state: sa.get(SessionState) ?? null,
        status: wf.status.name,
        startedAt: wf.startTime.toISOString(),
        closedAt: wf.closeTime?.toISOString() ?? null,
        homeId: sa.get(HomeId) ?? null,
        customerId: sa.get(CustomerId) ?? null,
      };
    });
  }
}
