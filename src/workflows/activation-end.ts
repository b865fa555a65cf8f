// Work a session does once at the end of every activation, after its jobs and everything they set off
// have run: one synchronous call, where a `condition` loop costs several promises per wake-up (and the SDK
// records a stack trace for each promise a workflow makes: bench scenario 1, docs/performance.md).
// Bundled as a workflow interceptor module (src/worker/workflow-bundle.ts).
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';

// Per workflow: the worker evaluates a workflow's modules in that workflow's own scope (only the
// preloaded declarations are shared, and those hold no state).
const hooks: (() => void)[] = [];

/** Calls `hook` at the end of every activation of this workflow from now on (queries' included). */
export function atActivationEnd(hook: () => void): void {
  hooks.push(hook);
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  internals: [
    {
      concludeActivation(input, next) {
        for (const hook of hooks) hook();
        return next(input);
      },
    },
  ],
});
