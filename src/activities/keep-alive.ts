// A kind's activity is one call to somebody else's service (an SMS provider, a payment API). If the
// worker running it dies, Temporal only retries it after its start-to-close timeout (20 s for an alarm's
// SMS) unless the attempt heartbeats: then a missed heartbeat is noticed within the heartbeat timeout.
// The worker wraps every kind's activity in this, and `kindActivities` gives them a heartbeat timeout,
// so a kind's own code never has to think about it.
import { Context } from '@temporalio/activity';

/** How often a running activity tells Temporal it is alive; the first time after this long. */
const EVERY_MS = 1000;

/**
 * Worker option: send each activity's heartbeat to the server at most this late. The SDK otherwise holds
 * them back for 80 % of the heartbeat timeout, which would leave one second of slack in five.
 */
export const heartbeatDelivery = { maxHeartbeatThrottleInterval: '1s' } as const;

/** `fn`, heartbeating every second while it runs, when its attempt has a heartbeat timeout. */
export function keptAlive<Args extends unknown[], R>(
  fn: (...args: Args) => Promise<R>,
): (...args: Args) => Promise<R> {
  return async (...args) => {
    const context = Context.current();
    if (!context.info.heartbeatTimeoutMs) return fn(...args);
    const beat = setInterval(() => context.heartbeat(), EVERY_MS);
    try {
      return await fn(...args);
    } finally {
      clearInterval(beat);
    }
  };
}
