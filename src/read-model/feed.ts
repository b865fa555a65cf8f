// The change feed: every change the read model's store logs, in order, to whoever listens (the API's
// server-sent events, /ui, Node-RED, MQTT out). Changes this process wrote arrive at once; other
// processes' (the workers of a multi-process deployment) within one tick of a cheap data_version check.
import type { SessionChange } from '../shared/session-change';
import type { ReadModelStore } from './store';

export type FeedItem =
  | { change: SessionChange }
  | { reset: { newest: number } }
  /** Where the listener is now in the log (after its catch-up): the place to resume from. */
  | { position: number }
  | { end: true };
export type FeedListener = (item: FeedItem) => void;

const TICK_MS = 10;
const BATCH = 1000;

export class ChangeFeed {
  private readonly listeners = new Set<FeedListener>();
  private timer: NodeJS.Timeout | undefined;
  private seen = 0;
  private dataVersion = -1;
  private readonly onWritten = () => this.pump();

  constructor(private readonly store: ReadModelStore) {}

  /**
   * Calls `listener` with every change after `after` (the last seq the listener saw), then with each new
   * one. When `after` is older than the log keeps, the listener gets a `reset` first: reload everything.
   * Without `after`, only changes from now on. Returns the unsubscribe function.
   */
  subscribe(after: number | undefined, listener: FeedListener): () => void {
    if (this.listeners.size === 0) this.open();
    if (after !== undefined) {
      const { oldest, newest } = this.store.bounds();
      if (after > newest) {
        // A seq from another store (a rebuilt one): start over.
        listener({ reset: { newest } });
      } else {
        if (oldest > 0 && after < oldest - 1) listener({ reset: { newest } });
        // Catch up to what the feed has dispatched; from there on the listener is live.
        for (let from = Math.max(after, oldest - 1); from < this.seen;) {
          const batch = this.store.changesAfter(from, BATCH).filter((c) => c.seq <= this.seen);
          if (batch.length === 0) break;
          for (const change of batch) listener({ change });
          from = batch[batch.length - 1].seq;
        }
      }
    }
    listener({ position: this.seen });
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.close();
    };
  }

  /** Tells every listener the feed ends (the server is stopping), and lets them go. */
  stop(): void {
    for (const l of [...this.listeners]) l({ end: true });
    this.listeners.clear();
    this.close();
  }

  get listening(): number {
    return this.listeners.size;
  }

  private open(): void {
    this.seen = this.store.bounds().newest;
    this.dataVersion = this.store.dataVersion();
    this.store.events.on('written', this.onWritten);
    this.timer = setInterval(() => {
      const v = this.store.dataVersion();
      if (v === this.dataVersion) return;
      this.dataVersion = v;
      this.pump();
    }, TICK_MS);
    this.timer.unref();
  }

  private close(): void {
    clearInterval(this.timer);
    this.store.events.off('written', this.onWritten);
  }

  /** Dispatches what the log has beyond what was dispatched. */
  private pump(): void {
    for (;;) {
      const batch = this.store.changesAfter(this.seen, BATCH);
      for (const change of batch) {
        this.seen = change.seq;
        for (const l of this.listeners) l({ change });
      }
      if (batch.length < BATCH) return;
    }
  }
}
