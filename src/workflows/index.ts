// Every registered kind's workflow, found by its file name (src/workflows/<kind>.ts). Temporal calls the
// default export for any workflow type; it runs the kind's workflow function of that name.
import { ApplicationFailure, setWorkflowOptions, workflowInfo } from '@temporalio/workflow';
import type { AnySessionKind, SessionVersioning } from '../shared/session-kind';
import { registeredKinds } from '../shared/session-kinds';

type WorkflowFn = (...args: unknown[]) => Promise<unknown>;

const workflows = new Map<string, WorkflowFn>();
const versioning = new Map<string, SessionVersioning>();
for (const name of registeredKinds) {
  // webpack bundles these as contexts of the two folders (every file there is sandbox-safe).
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { sessionKind } = require(`../shared/${name}`) as { sessionKind: AnySessionKind };
  const mod = require(`./${name}`) as Record<string, WorkflowFn | undefined>;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const fn = mod[sessionKind.workflowType];
  if (fn) workflows.set(sessionKind.workflowType, fn);
  versioning.set(sessionKind.workflowType, sessionKind.versioning);
}

export default function sessionWorkflow(...args: unknown[]): Promise<unknown> {
  const { workflowType } = workflowInfo();
  const run = workflows.get(workflowType);
  if (!run) {
    throw ApplicationFailure.nonRetryable(`no registered session kind has a workflow '${workflowType}'`);
  }
  return run(...args);
}

const behaviors = { pinned: 'PINNED', 'auto-upgrade': 'AUTO_UPGRADE' } as const;

// Each kind's declared versioning, for workers in a Worker Deployment: the server refuses a behaviour from
// an unversioned worker, whose version carries a build id but no deployment name (createWorker joins a
// deployment only with versioning on).
setWorkflowOptions(() => {
  const { workflowType, currentDeploymentVersion } = workflowInfo();
  const declared = versioning.get(workflowType);
  return currentDeploymentVersion?.deploymentName && declared
    ? { versioningBehavior: behaviors[declared] }
    : {};
}, sessionWorkflow);
