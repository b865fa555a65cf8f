// Retrying a call to Temporal until it is accepted (the gateway's input events, the MQTT ingress's
// messages): what a device reported must not be lost to an outage, only delayed.
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryOptions {
  /** Aborted when the caller stops: the wait ends and the last error is thrown. */
  signal: AbortSignal;
  /** Told of every failed attempt before the pause. */
  onError(err: Error, retryInMs: number): void;
  /** Give up after the first failure (a periodic resync that the next round repeats anyway). */
  once?: boolean;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

export async function retryUntilDone<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  let delay = opts.firstDelayMs ?? 500;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (opts.signal.aborted || opts.once) throw err;
      opts.onError(err as Error, delay);
      await sleep(delay, undefined, { signal: opts.signal }).catch(() => undefined);
      if (opts.signal.aborted) throw err;
      delay = Math.min(delay * 2, opts.maxDelayMs ?? 10_000);
    }
  }
}
