// Every registered kind's workflow, found by its file name (src/workflows/<kind>.ts). Temporal calls the
// default export for any workflow type; it runs the kind's workflow function of that name.
import { ApplicationFailure, setWorkflowOptions, workflowInfo } from '@temporalio/workflow';
import type { AnySessionKind, SessionVersioning } from '../shared/session-kind';
import { registeredKinds } from '../shared/session-kinds';
import { assertOpeningHandled } from './session';

type WorkflowFn = (...args: unknown[]) => Promise<unknown>;

/** Workflow type → its kind's name and declared versioning (declarations are preloaded once per worker). */
const kinds = new Map<string, { name: string; versioning: SessionVersioning }>();
for (const name of registeredKinds) {
  // webpack bundles these as contexts of the two folders (every file there is sandbox-safe).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { sessionKind } = require(`../shared/${name}`) as { sessionKind: AnySessionKind };
  kinds.set(sessionKind.workflowType, { name, versioning: sessionKind.versioning });
}

export default function sessionWorkflow(...args: unknown[]): Promise<unknown> {
  const { workflowType } = workflowInfo();
  const kind = kinds.get(workflowType);
  // Only the running kind's workflow module is evaluated: each session evaluates its modules anew, so
  // loading every kind's would make each kind pay for all of them.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const run = kind && (require(`./${kind.name}`) as Record<string, WorkflowFn | undefined>)[workflowType];
  if (!run) {
    throw ApplicationFailure.nonRetryable(`no registered session kind has a workflow '${workflowType}'`);
  }
  const result = run(...args);
  // Its handlers are set by now (before the workflow's first await), the opening among them.
  assertOpeningHandled(args[0]);
  return result;
}

const behaviors = { pinned: 'PINNED', 'auto-upgrade': 'AUTO_UPGRADE' } as const;

// Each kind's declared versioning, for workers in a Worker Deployment: the server refuses a behaviour from
// an unversioned worker, whose version carries a build id but no deployment name (createWorker joins a
// deployment only with versioning on).
setWorkflowOptions(() => {
  const { workflowType, currentDeploymentVersion } = workflowInfo();
  const declared = kinds.get(workflowType)?.versioning;
  return currentDeploymentVersion?.deploymentName && declared
    ? { versioningBehavior: behaviors[declared] }
    : {};
}, sessionWorkflow);
