// A session's commands to its home's board. When the board hangs off the session's own worker (the
// embedded gateway: the session names no hardware queue), a command first runs as a local
// activity inside the workflow task that issued it, so the siren sounds without the round trips of
// reporting that task, dispatching an activity and reporting it back (bench scenario 1, docs/performance.md).
// The local try never waits for an absent board, so it cannot hold the task and the requests queued behind
// it; when it fails for any reason the durable activity takes the command over and waits for the board,
// heartbeats and retries as before. Sessions that ran before this path replay their durable commands.
import { isCancellation, proxyLocalActivities } from '@temporalio/workflow';
import type { HardwareActivities } from '../shared/hardware';
import { frameworkPatched } from './settled-patches';

// One attempt: a retry is the durable activity's job.
const local = proxyLocalActivities<HardwareActivities>({
  startToCloseTimeout: '2s',
  retry: { maximumAttempts: 1 },
});

/** `durable` (the activities on the board's gateway queue), tried locally first when the board is ours. */
export function localFirst(
  durable: HardwareActivities,
  hardwareTaskQueue: string | undefined,
): HardwareActivities {
  // From the input, as history has it: a replayer polls a queue of its own name. Sessions that named the
  // central queue explicitly (before this path) keep the durable commands.
  const embedded = hardwareTaskQueue === undefined;
  return {
    async setSiren(input) {
      if (embedded && frameworkPatched('board-commands-local-first')) {
        try {
          return await local.setSiren({ ...input, waitForBoard: false });
        } catch (err) {
          // A newer command superseded this one: it must not be retried either.
          if (isCancellation(err)) throw err;
        }
      }
      return durable.setSiren(input);
    },
  };
}
