// The limiter's memory stays bounded whatever keys callers bring (one bucket per order token, per
// address...), while a key that is being limited keeps being limited.
import { HttpError } from '../../src/api/errors';
import { RateLimiter } from '../../src/api/rate-limit';

const refusal = (fn: () => void): HttpError | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
};

describe('rate limiter', () => {
  test('When 100k distinct keys each send one request, then the limiter holds at most its cap of buckets', () => {
    let now = 0;
    const limiter = new RateLimiter(60, () => now, 1_000);
    for (let i = 0; i < 100_000; i++) {
      now += 1; // all inside one refill period: no bucket has refilled yet
      limiter.take(`order-token-${i}`);
      expect(limiter.size).toBeLessThanOrEqual(1_000);
    }
    expect(limiter.size).toBe(1_000);
  });

  test('When keys go quiet, then their refilled buckets are dropped as traffic goes on', () => {
    let now = 0;
    const limiter = new RateLimiter(60, () => now);
    for (let i = 0; i < 5_000; i++) limiter.take(`burst-${i}`);
    expect(limiter.size).toBe(5_000);
    now += 60_000; // every bucket has refilled
    for (let i = 0; i < 3_000; i++) refusal(() => limiter.take('one-steady-client'));
    // Two refilled buckets go per request: the idle ones are gone, the steady client's remains.
    expect(limiter.size).toBe(1);
  });

  test('When one key is over its limit, then 429 with Retry-After, and a flood of other keys does not reset it', () => {
    let now = 0;
    const limiter = new RateLimiter(3, () => now, 100);
    for (let i = 0; i < 3; i++) limiter.take('looping-device');
    const refused = refusal(() => limiter.take('looping-device'));
    expect(refused?.status).toBe(429);
    expect(refused?.headers).toEqual({ 'Retry-After': '20' });
    // Fewer other keys than the cap: the drained bucket is kept and still refuses.
    for (let i = 0; i < 99; i++) limiter.take(`other-${i}`);
    now += 1_000;
    expect(refusal(() => limiter.take('looping-device'))?.status).toBe(429);
    // It refills at perMinute: one request every 20 s here.
    now += 20_000;
    expect(refusal(() => limiter.take('looping-device'))).toBeUndefined();
  });
});
