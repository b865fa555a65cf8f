// Load shedding for the API's Temporal writes (signal-with-start, updates, starts): at most `concurrency`
// in flight per API process and a short queue behind them. Past that — or after waiting `maxWaitMs` in the
// queue — a write is refused at once with 429 and Retry-After, before anything reaches Temporal, instead of
// piling up until the call deadline answers 503 with the outcome unknown. A refused write was never sent,
// so a client may simply retry it.
//
// Not p-limit (installed, ESM-only from v4 and without a queue bound) or p-queue: neither refuses when
// full; the gate below is a counter and a FIFO of waiters.
import { HttpError } from './errors';

export interface WriteGateOptions {
  concurrency: number;
  queue: number;
  maxWaitMs: number;
  retryAfterSeconds: number;
}

interface Waiter {
  admit: () => void;
  timer: NodeJS.Timeout;
}

export class WriteGate {
  private inFlight = 0;
  private readonly waiting: Waiter[] = [];
  /** Writes refused since start (metrics, tests). */
  shed = 0;

  constructor(private readonly o: WriteGateOptions) {}

  get active(): number {
    return this.inFlight;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Runs fn once a slot is free, or throws 429 when the queue is full or the wait too long. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inFlight >= this.o.concurrency) await this.enqueue();
    else this.inFlight += 1;
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private enqueue(): Promise<void> {
    if (this.waiting.length >= this.o.queue) return Promise.reject(this.refusal());
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        // The slot passes straight from the finishing write to this one (inFlight unchanged).
        admit: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          reject(this.refusal());
        }, this.o.maxWaitMs),
      };
      this.waiting.push(waiter);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.admit();
    else this.inFlight -= 1;
  }

  private refusal(): HttpError {
    this.shed += 1;
    const s = this.o.retryAfterSeconds;
    return new HttpError(
      429,
      'overloaded',
      `the server is at its write capacity; nothing was sent, retry in ${s} s`,
      { 'Retry-After': String(s) },
    );
  }
}
