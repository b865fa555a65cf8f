// Load shedding for openings. A signal-with-start is cheap for the server, so the write gate (writes in
// flight) never engages while sessions pile up waiting for their first workflow task: at 30,000 openings
// the API accepted 63/s where worker and server ran 40/s, and sirens came minutes late. This counts the
// runs this API process opened that have not published yet (their first task has not run); past the
// limit a new opening is refused with 429 and Retry-After before anything is sent. Events for sessions
// that run (or wait for their first task) still pass: they open nothing.
import type { ChangeFeed } from '../read-model/feed';
import type { ReadModelStore } from '../read-model/store';
import { HttpError } from './errors';

export interface OpeningBacklogOptions {
  /** Openings waiting for their first workflow task at once; beyond: 429. */
  limit: number;
  retryAfterSeconds: number;
  /** A run that never publishes (it failed at once, or it was never ours) stops counting after this. */
  forgetAfterMs: number;
}

export class OpeningBacklog {
  /** runId → workflowId and when it was opened; Map keeps insertion order, so the oldest come first. */
  private readonly pending = new Map<string, { workflowId: string; at: number }>();
  private readonly pendingWorkflows = new Map<string, number>();
  /** Status reads waiting for a pending workflow's first publication. */
  private readonly readers = new Map<string, Set<() => void>>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly store: ReadModelStore,
    private readonly feed: ChangeFeed,
    private readonly o: OpeningBacklogOptions,
  ) {}

  get size(): number {
    this.forgetOld();
    return this.pending.size;
  }

  /** Whether an event for this workflow joins a run this process opened that has not published yet. */
  isPending(workflowId: string): boolean {
    return this.pendingWorkflows.has(workflowId);
  }

  /**
   * Resolves once a run of this workflow that this process opened has published (or after `timeoutMs`,
   * or at once when none is pending): a status read can then answer from the read model.
   */
  published(workflowId: string, timeoutMs: number): Promise<void> {
    if (!this.isPending(workflowId)) return Promise.resolve();
    return new Promise((resolve) => {
      const waiting = this.readers.get(workflowId) ?? new Set<() => void>();
      this.readers.set(workflowId, waiting);
      const done = () => {
        clearTimeout(timer);
        waiting.delete(done);
        if (waiting.size === 0 && this.readers.get(workflowId) === waiting) this.readers.delete(workflowId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      waiting.add(done);
    });
  }

  /** Throws 429 when an opening now would wait behind `limit` others. */
  admit(): void {
    if (this.size < this.o.limit) return;
    const s = this.o.retryAfterSeconds;
    throw new HttpError(
      429,
      'overloaded',
      `${this.pending.size} sessions are waiting to start; nothing was sent, retry in ${s} s`,
      { 'Retry-After': String(s) },
    );
  }

  /** A run this process opened: it counts until the read model hears of it. */
  opened(workflowId: string, runId: string): void {
    if (this.pending.has(runId)) return;
    // Listen first, then look: a publication is either in the store already or arrives on the feed.
    this.unsubscribe ??= this.feed.subscribe(undefined, (item) => {
      if ('change' in item) this.publishedRun(item.change.runId);
      else if ('end' in item) this.unsubscribe = undefined;
    });
    if (this.store.get(workflowId)?.publication.runId === runId) {
      if (this.pending.size === 0) this.close();
      return;
    }
    this.pending.set(runId, { workflowId, at: Date.now() });
    this.pendingWorkflows.set(workflowId, (this.pendingWorkflows.get(workflowId) ?? 0) + 1);
  }

  /** Stops listening to the feed (the API is stopping); waiting reads go on to Temporal. */
  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const waiting of [...this.readers.values()]) for (const done of [...waiting]) done();
  }

  private publishedRun(runId: string): void {
    const entry = this.pending.get(runId);
    if (!entry) return;
    this.pending.delete(runId);
    const n = (this.pendingWorkflows.get(entry.workflowId) ?? 1) - 1;
    if (n > 0) this.pendingWorkflows.set(entry.workflowId, n);
    else this.pendingWorkflows.delete(entry.workflowId);
    for (const done of [...(this.readers.get(entry.workflowId) ?? [])]) done();
    // Nothing to wait for: the feed needs no listener (it polls the store while one listens).
    if (this.pending.size === 0) this.close();
  }

  private forgetOld(): void {
    const before = Date.now() - this.o.forgetAfterMs;
    for (const [runId, { at }] of this.pending) {
      if (at > before) break;
      this.publishedRun(runId);
    }
  }
}
