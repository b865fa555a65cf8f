// How every session workflow refuses a request: a typed, non-retryable failure the API maps to an
// HTTP code. Thrown from update validators, a refusal changes neither state nor history.
import { ApplicationFailure } from '@temporalio/workflow';

export const refuse = (type: string, message: string) =>
  ApplicationFailure.create({ type, message, nonRetryable: true });

/** The caller's name is recorded in the session for audit: reject a malformed one outright. */
export function checkActor(actor: { by?: unknown } | undefined): void {
  if (typeof actor?.by !== 'string' || actor.by.length === 0 || actor.by.length > 100) {
    throw refuse('bad-request', 'by must be a short string');
  }
}
