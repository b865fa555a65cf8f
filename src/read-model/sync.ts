// Keeps the read model honest against Temporal, the source of truth: rebuilds an empty store, and
// repairs what a lost publication (a store that was down, a wiped file, a session from before the read
// model) left behind. Cheap when nothing is wrong: one visibility listing per round, and a query or a
// result only for the sessions that differ.
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { SessionKey, SessionKind, SessionState, HomeId, CustomerId } from '../shared/search-attributes';
import type { AnySessionKind } from '../shared/session-kind';
import { sessionPublicationQuery } from '../shared/session-change';
import type { Logger } from '../config/logger';
import type { TemporalGateway } from '../api/temporal-gateway';
import type { ReadModelStore } from './store';

type WorkflowService = {
  describeNamespace(req: { namespace: string }): Promise<{ namespaceInfo?: { id?: string | null } | null }>;
};

/**
 * Binds the store to the namespace the process talks to (see ReadModelStore.bindNamespace); says
 * whether it emptied a store of another namespace.
 */
export async function bindToNamespace(
  store: ReadModelStore,
  service: WorkflowService,
  namespace: string,
): Promise<boolean> {
  const id = (await service.describeNamespace({ namespace })).namespaceInfo?.id;
  return id ? store.bindNamespace(id) : false;
}

/** A round lists every open session: generous, but bounded, so a stuck server cannot hold a round. */
const LISTING_TIMEOUT_MS = 5 * 60_000;

export interface SyncReport {
  checked: number;
  repaired: number;
  forgotten: number;
}

/**
 * A call to Temporal bounded by `timeoutMs` (default: the configured deadline) that `signal` cancels: a
 * connection closed under a call still retrying throws from a timer.
 *
 * The SDK (1.24) adds an 'abort' listener to the signal for every gRPC request and never removes it, so
 * on the read model's process-long signal they piled up, each holding its finished call (Node warned of
 * it after an API restart's repair round). Each call gets its own signal, linked to `signal` only while
 * it runs.
 */
export async function abortable<T>(
  temporal: TemporalGateway,
  signal: AbortSignal,
  fn: () => Promise<T>,
  timeoutMs?: number,
): Promise<T> {
  const own = new AbortController();
  const cancel = () => own.abort(signal.reason);
  if (signal.aborted) cancel();
  else signal.addEventListener('abort', cancel, { once: true });
  try {
    return await temporal.client.connection.withAbortSignal(own.signal, () => temporal.call(fn, timeoutMs));
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

export class ReadModelSync {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SyncReport> | undefined;
  private lastRound = 0;

  /** `stopped`: aborted by the owner when it stops; rounds end and their calls are cancelled. */
  constructor(
    private readonly store: ReadModelStore,
    private readonly temporal: TemporalGateway,
    private readonly kinds: AnySessionKind[],
    private readonly logger: Logger,
    private readonly everyMs: number,
    private readonly stopped: AbortSignal,
  ) {}

  /**
   * A first round at once (it rebuilds an empty store), then one every `everyMs`, or longer: a round lists
   * every open session (100 pages at 100,000), so the pause is at least nine times the round's own time
   * and the sync never takes more than a tenth of server and API.
   */
  start(): void {
    const tick = () => {
      const began = Date.now();
      void this.round()
        .catch((err: unknown) => this.logger.warn({ err: String(err) }, 'read model sync failed'))
        .finally(() => {
          if (this.stopped.aborted) return;
          const took = Date.now() - began;
          if (took > 1000) this.logger.info({ ms: took }, 'read model sync round was long: next one later');
          this.timer = setTimeout(tick, Math.max(this.everyMs, 9 * took));
          this.timer.unref();
        });
    };
    tick();
  }

  /** Once `stopped` is aborted: no next round, and the one under way has ended. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private call<T>(fn: () => Promise<T>, timeoutMs?: number): Promise<T> {
    return abortable(this.temporal, this.stopped, fn, timeoutMs);
  }

  /** When the last finished round started (ms since epoch), or undefined before the first: its age is the lag. */
  get lastRoundAt(): number | undefined {
    return this.lastRound || undefined;
  }

  /** One round (joins the one under way): open sessions whose state differs, and recently closed ones. */
  round(): Promise<SyncReport> {
    if (this.stopped.aborted) return Promise.reject(new Error('read model sync stopped'));
    this.running ??= this.compare().finally(() => (this.running = undefined));
    return this.running;
  }

  private async compare(): Promise<SyncReport> {
    const startedAt = Date.now();
    const known = this.store.states();
    const report: SyncReport = { checked: 0, repaired: 0, forgotten: 0 };
    const kindsClause = `SessionKind IN (${this.kinds.map((k) => `'${k.name}'`).join(', ')})`;
    // Closed since the last round (with a margin for visibility's delay); all of them on the first.
    const closedSince = this.lastRound
      ? ` AND CloseTime > '${new Date(this.lastRound - 60_000).toISOString()}'`
      : '';
    const queries = [
      `${kindsClause} AND ExecutionStatus = 'Running'`,
      `${kindsClause} AND ExecutionStatus != 'Running'${closedSince}`,
    ];
    for (const query of queries) {
      await this.each(query, async (wf) => {
        report.checked++;
        const stored = known.get(wf.workflowId);
        const running = wf.status.name === 'RUNNING';
        const state = wf.typedSearchAttributes.get(SessionState);
        if (running && stored && stored.state === state) return;
        const outcome = await this.repair(wf, stored?.version ?? 0);
        if (outcome === 'repaired') report.repaired++;
        if (outcome === 'forgotten') report.forgotten++;
      });
    }
    this.lastRound = startedAt;
    if (report.repaired + report.forgotten > 0) this.logger.info(report, 'read model repaired from Temporal');
    return report;
  }

  private async each(query: string, fn: (wf: WorkflowExecutionInfo) => Promise<void>): Promise<void> {
    await this.call(async () => {
      for await (const wf of this.temporal.client.workflow.list({ query, pageSize: 1000 })) {
        await fn(wf).catch((err: unknown) =>
          this.logger.debug({ workflowId: wf.workflowId, err: String(err) }, 'read model repair skipped'),
        );
      }
    }, LISTING_TIMEOUT_MS);
  }

  /** Writes what Temporal says of one session: its publication query, or its result once closed. */
  private async repair(
    wf: WorkflowExecutionInfo,
    storedVersion: number,
  ): Promise<'repaired' | 'forgotten' | 'unchanged'> {
    const sa = wf.typedSearchAttributes;
    const kind = this.kinds.find((k) => k.name === sa.get(SessionKind));
    const key = sa.get(SessionKey);
    if (!kind || key === undefined) return 'unchanged';
    const handle = this.temporal.client.workflow.getHandle(wf.workflowId, wf.runId);
    const stored = this.store.get(wf.workflowId)?.publication;
    let version: number;
    let asOf: string;
    let status: Record<string, unknown>;
    if (wf.status.name === 'RUNNING') {
      // Sessions from before the read model answer no publication query: their reads stay queries.
      const p = await this.call(() => handle.query(sessionPublicationQuery));
      ({ version, asOf, status } = p);
    } else if (wf.status.name === 'COMPLETED') {
      status = (await this.call(() => handle.result())) as Record<string, unknown>;
      // Nothing publishes after the close: the result wins over whatever was last stored.
      version = storedVersion + 1;
      asOf = (wf.closeTime ?? new Date()).toISOString();
    } else {
      // Ended without a result (terminated, failed): reads answer that from Temporal.
      this.store.forget(wf.workflowId);
      return 'forgotten';
    }
    const state = String(status.state);
    // The query answers after any task under way, so a lower version than this run's stored one means
    // that publication's task was never committed (its worker died first): Temporal's answer replaces it.
    const uncommitted = stored?.runId === wf.runId && version < stored.version ? stored.version : undefined;
    const publication = {
      workflowId: wf.workflowId,
      runId: wf.runId,
      kind: kind.name,
      key,
      version,
      asOf,
      state,
      final: kind.model.isFinal(state),
      homeId: sa.get(HomeId) ?? null,
      customerId: sa.get(CustomerId) ?? null,
      status,
    };
    const written =
      uncommitted === undefined
        ? this.store.write(publication)
        : this.store.replace(publication, uncommitted);
    if (written && uncommitted !== undefined)
      this.logger.warn(
        { workflowId: wf.workflowId, uncommitted, state },
        'read model held a state Temporal never committed: replaced',
      );
    return written ? 'repaired' : 'unchanged';
  }
}
