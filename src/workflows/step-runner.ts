// Side effects as recorded steps, shared by every session workflow: each step shows in the status with
// its outcome, and a failure is recorded instead of thrown so it cannot stall the session's story.
import { isCancellation } from '@temporalio/workflow';
import type { SessionStep } from '../shared/session-model';

export const iso = (ms: number) => new Date(ms).toISOString();

/** Activity failures wrap the real error as their cause: show that one. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? err.cause.message : err.message;
}

export class StepRunner<S extends string = string> {
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(private readonly steps: SessionStep[]) {}

  /** Steps still running; a session closes only when this is 0. */
  get pending(): number {
    return this.inflight.size;
  }

  /** Runs one side effect as a recorded step and passes its result or error on. */
  track<T>(step: S, act: () => Promise<T>): Promise<T> {
    const rec: SessionStep<S> = {
      step,
      status: 'pending',
      startedAt: iso(Date.now()),
      completedAt: null,
      error: null,
    };
    this.steps.push(rec);
    const done: Promise<T> = act()
      .then(
        (value) => {
          rec.status = 'done';
          return value;
        },
        (err: unknown) => {
          rec.status = isCancellation(err) ? 'cancelled' : 'failed';
          rec.error = describeError(err);
          throw err;
        },
      )
      .finally(() => {
        rec.completedAt = iso(Date.now());
        this.inflight.delete(done);
      });
    this.inflight.add(done);
    return done;
  }

  /** Like track, but never rejects: a failed step is recorded, and the story goes on. */
  run(step: S, act: () => Promise<void>): Promise<void> {
    return this.track(step, act).catch(() => undefined);
  }
}
