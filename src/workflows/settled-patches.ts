// The framework's patches without their markers for sessions that began under them (a guard around an SDK
// cost): `patched()` writes a marker and a TemporalChangeVersion search-attribute upsert per patch in a new
// session's first task, three of each for every session, though a session started today takes every one
// of them. A start input that says so (`withSettledPatches`, src/shared/session-kind.ts) skips them.
// Bundled as a workflow interceptor module (src/worker/workflow-bundle.ts): it reads the input before the
// workflow runs, so no kind has to pass it on.
import { patched, workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { frameworkPatches, settledPatchesOf, type FrameworkPatch } from '../shared/session-kind';

// Per workflow: the worker evaluates a workflow's modules in that workflow's own scope.
let settled = 0;

/** `patched(id)` for a framework patch: true without a marker when the session began under it. */
export function frameworkPatched(id: FrameworkPatch): boolean {
  if (frameworkPatches.indexOf(id) >= settled) return patched(id);
  // A worker of an older build (one that does not read the count) may have run this task and written the
  // marker: on replay the marker must be consumed, or core reports it as nondeterminism. Where there is
  // none, `patched()` on replay answers false and records nothing; the session took the patch either way.
  if (workflowInfo().unsafe.isReplaying) patched(id);
  return true;
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      execute(input, next) {
        settled = settledPatchesOf(input.args[0]);
        return next(input);
      },
    },
  ],
});
