// The platform's hardware activities, run by whichever gateway owns the home's board (the worker's
// embedded one or an edge gateway on its own task queue). The siren command heartbeats while it waits for
// the board, so a dead gateway is noticed.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { UnknownSirenError, type SirenBank } from '../hardware/siren-bank';
import type { HardwareActivities, SetSirenInput } from '../shared/hardware';

export function hardwareActivities(sirens: SirenBank): HardwareActivities {
  return {
    async setSiren({ homeId, on, issuedAt }: SetSirenInput): Promise<void> {
      try {
        await sirens.set(homeId, on, { issuedAt, onWait: () => Context.current().heartbeat() });
      } catch (err) {
        if (err instanceof UnknownSirenError)
          throw ApplicationFailure.nonRetryable(err.message, 'BadConfiguration');
        throw err;
      }
    },
  };
}
