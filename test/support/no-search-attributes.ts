// Workflow interceptor for the Java time-skipping test server only, which cannot register custom search
// attributes: it drops the upserts from each activation's commands, so production workflows need no flag
// for it. The dev-server tests use the plain bundle and assert the search attributes there.
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  internals: [
    {
      concludeActivation(input, next) {
        return next({ ...input, commands: input.commands.filter((c) => !c.upsertWorkflowSearchAttributes) });
      },
    },
  ],
});
