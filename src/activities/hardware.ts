// The platform's hardware activities, run by whichever gateway owns the home's board (the worker's
// embedded one or an edge gateway on its own task queue). The siren command heartbeats while it waits for
// the board, so a dead gateway is noticed. On the embedded gateway a session first runs it as a local
// activity that does not wait (`waitForBoard: false`, src/workflows/hardware.ts).
import { ApplicationFailure, Context } from '@temporalio/activity';
import { UnknownSirenError, type SirenBank } from '../hardware/siren-bank';
import type { HardwareActivities, SetSirenInput } from '../shared/hardware';

export function hardwareActivities(sirens: SirenBank): HardwareActivities {
  return {
    async setSiren({ homeId, on, issuedAt, waitForBoard = true }: SetSirenInput): Promise<void> {
      try {
        await sirens.set(
          homeId,
          on,
          waitForBoard ? { issuedAt, onWait: () => Context.current().heartbeat() } : { issuedAt, waitMs: 0 },
        );
      } catch (err) {
        if (err instanceof UnknownSirenError)
          throw ApplicationFailure.nonRetryable(err.message, 'BadConfiguration');
        throw err;
      }
    },
  };
}
