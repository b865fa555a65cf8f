// A guard for an SDK quirk: a session's clock never reads earlier than a timer it has seen fire.
//
// A worker that answers a query for a session it does not hold (a gateway's sync just after a worker
// restart, say) replays the history, and the SDK also applies the events no workflow task has delivered
// yet, such as a fired timer, in an activation stamped with the time of the last task that ran. Before this
// guard a smoke alarm whose worker was killed escalated "4 s before its window ended": the query's
// activation wrote that stale time into the escalation, the path and the steps, the read model published
// it, and the cached session kept it (test/e2e/durability.test.ts). In a real workflow task, and on
// replay, the clock is already at or past every fired timer's due time, so this changes nothing there.
// test/workflows/timer-clock.test.ts rebuilds such an activation by replay, with and without the guard.
// Bundled as a workflow interceptor module (src/worker/workflow-bundle.ts).
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
// The one SDK internal this needs: the activation's clock (what Date.now() reads in a workflow).
import { getActivator } from '@temporalio/workflow/lib/global-attributes';

// Per workflow: the worker evaluates a workflow's modules in that workflow's own scope.
/** Timer seq → when it is due on the session's clock. */
const due = new Map<number, number>();
let floor = 0;

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      startTimer(input, next) {
        due.set(input.seq, Date.now() + input.durationMs);
        return next(input);
      },
    },
  ],
  internals: [
    {
      activate(input, next) {
        for (const job of input.activation.jobs ?? []) {
          const seq = job.fireTimer?.seq;
          if (seq === undefined || seq === null) continue;
          floor = Math.max(floor, due.get(seq) ?? 0);
          due.delete(seq);
        }
        const activator = getActivator();
        if (activator.now < floor) activator.now = floor;
        return next(input);
      },
    },
  ],
});
