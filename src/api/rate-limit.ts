// Per-token rate limit: a token bucket per token *name* (a leaked or looping device cannot flood
// Temporal), refilled continuously; beyond it the API answers 429 with Retry-After.
//
// Memory is bounded: keys come from callers (one per order token, per client address), so the map is
// kept in least-recently-used order, a bucket that has refilled is dropped (a full bucket and no bucket
// mean the same), and past `maxKeys` the least recently used bucket goes. Only a flood of more than
// `maxKeys` distinct keys inside one refill period can forget a partly drained bucket; that key then
// starts full again, so the cap trades a little leniency under such a flood for bounded memory.
//
// Not `rate-limiter-flexible`: its memory store is a fixed window (bursts of twice the limit at a window
// edge), bounded only by time (a timer per key, no cap), and asynchronous, while the token check here
// runs synchronously inside token identification.
import { HttpError } from './errors';

interface Bucket {
  tokens: number;
  at: number;
}

export const DEFAULT_MAX_KEYS = 10_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = DEFAULT_MAX_KEYS,
  ) {
    this.perMs = perMinute / 60_000;
  }

  /** How many buckets are held (tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes one request from `key`'s bucket, or throws 429 saying when the next one is allowed. */
  take(key: string): void {
    const now = this.now();
    const held = this.buckets.get(key);
    const bucket = held ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    // Re-inserting moves the key to the end: the map's first key is the least recently used one.
    if (held) this.buckets.delete(key);
    this.evict(now, this.maxKeys - 1);
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) {
      const retryAfterS = Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000));
      throw new HttpError(
        429,
        'rate-limited',
        `too many requests for this token; retry in ${retryAfterS} s`,
        {
          'Retry-After': String(retryAfterS),
        },
      );
    }
    bucket.tokens -= 1;
  }

  /**
   * Constant work per call: the oldest buckets go while they have refilled (at most two, so idle keys
   * drain away faster than new ones arrive), then anything beyond `room`, oldest first. Runs while the
   * calling key is out of the map, so it never drops the bucket it is about to charge.
   */
  private evict(now: number, room: number): void {
    for (let i = 0; i < 2; i++) {
      const oldest = this.buckets.entries().next();
      if (oldest.done) return;
      const [key, b] = oldest.value;
      if (b.tokens + (now - b.at) * this.perMs < this.perMinute) break;
      this.buckets.delete(key);
    }
    while (this.buckets.size > room) {
      const oldest = this.buckets.keys().next();
      if (oldest.done) return;
      this.buckets.delete(oldest.value);
    }
  }
}
