// The read model as an API process uses it: the shared store, the feed of its changes, and the sync
// that keeps it in line with Temporal.
import type { TemporalGateway } from '../api/temporal-gateway';
import type { Config } from '../config/config';
import type { Logger } from '../config/logger';
import type { AnySessionKind } from '../shared/session-kind';
import { ChangeFeed } from './feed';
import { readModelAt, type ReadModelStore } from './store';
import { ReadModelSync, abortable, bindToNamespace } from './sync';

export class ReadModel {
  readonly feed: ChangeFeed;
  readonly sync: ReadModelSync;
  private bound: Promise<void> | undefined;
  // Ends the sync's rounds and the namespace binding: their calls are cancelled.
  private readonly stopped = new AbortController();

  constructor(
    readonly store: ReadModelStore,
    private readonly temporal: TemporalGateway,
    kinds: AnySessionKind[],
    private readonly logger: Logger,
    syncEveryMs: number,
  ) {
    this.feed = new ChangeFeed(store);
    this.sync = new ReadModelSync(store, temporal, kinds, logger, syncEveryMs, this.stopped.signal);
  }

  static of(config: Config, temporal: TemporalGateway, kinds: AnySessionKind[], logger: Logger): ReadModel {
    const log = logger.child({ component: 'read-model' });
    return new ReadModel(
      readModelAt(config.readModel.path),
      temporal,
      kinds,
      log,
      config.readModel.syncSeconds * 1000,
    );
  }

  /**
   * Settles once the store was bound to the namespace the API serves (a store of another one is emptied
   * first), or the first try failed: reads wait for it, so a wiped dev server's old sessions are never
   * answered, but a Temporal outage does not hold reads up (binding is tried again in the background).
   */
  ready(): Promise<void> {
    this.bound ??= this.bind();
    return this.bound;
  }

  private bind(): Promise<void> {
    const c = this.temporal.client;
    return abortable(this.temporal, this.stopped.signal, () =>
      bindToNamespace(this.store, c.workflowService, c.options.namespace),
    ).then(
      (emptied) => {
        if (emptied)
          this.logger.warn({ path: this.store.path }, 'read model was of another namespace: emptied');
      },
      (err: unknown) => {
        if (this.stopped.signal.aborted) return;
        this.logger.warn({ err: String(err) }, 'read model not bound to its namespace yet; retrying');
        setTimeout(() => void this.bind(), 5000).unref();
      },
    );
  }

  start(): void {
    void this.ready().then(() => this.sync.start());
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    this.feed.stop();
    await Promise.all([this.sync.stop(), this.bound]);
  }
}
