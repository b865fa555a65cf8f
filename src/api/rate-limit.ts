// Per-token rate limit: a token bucket per token *name* (a leaked or looping device cannot flood
// Temporal), refilled continuously; beyond it the API answers 429 with Retry-After.
import { HttpError } from './errors';

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = perMinute / 60_000;
  }

  /** Takes one request from `key`'s bucket, or throws 429 saying when the next one is allowed. */
  take(key: string): void {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
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
}
