// Creates the central worker: every session workflow plus the activities that need no local hardware
// (in the embedded default, the simulated siren boards too).
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { heartbeatDelivery } from '../activities/keep-alive';
import { dataConverterFor } from '../codec/aes-gcm-codec';
import type { Config } from '../config/config';
import { temporalConnectionSettings } from '../config/temporal-connection';
import { activityTracing, workflowSpanSink } from '../config/tracing';
import { preloadedDeclarations, prebuiltWorkflowBundle, workflowInterceptorModules } from './workflow-bundle';
import { bindToNamespace } from '../read-model/sync';
import { readModelSinks } from '../read-model/sink';

export interface CreateWorkerOptions {
  config: Config;
  deps: ActivityDeps;
  connection?: NativeConnection;
  /** A workflow bundle (tests build theirs once); default: the build's, else bundle the workflows at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
  /** Sessions open here with eager starts: the API or an ingress shares this worker's connection. */
  eagerStarts?: boolean;
}

/** Worker tuning from the config's `worker` section; the benchmark's raw-client baseline runs with it too. */
export function workerTuning(config: Config, opts: { eagerStarts?: boolean } = {}) {
  const w = config.worker;
  return {
    // 500 cached sessions keep 10,000 open ones well under 1 GiB (bench scenario 5).
    maxCachedWorkflows: w.maxCachedWorkflows,
    // After a worker crash its sticky queue is dead; fall back to the shared queue fast so a timer that
    // fires meanwhile (an escalation!) is not held back by the default 10 s.
    stickyQueueScheduleToStartTimeout: '3s',
    shutdownGraceTime: '5s',
    // Events to a session that already has a task in flight wait for it and then all arrive in its next
    // task, so a session under a storm of events costs a task per batch, not per event. The SDK's default
    // (2 of 10 polls on the shared queue, 8 on the worker's own, 40 tasks at once) fetches such tasks as
    // fast as they appear, one event each; ours (10 polls shared and 1 own, 16 tasks) ran the bench's mixed
    // load at 744-748 instead of 542-664 requests/s with a quarter less CPU (docs/performance.md).
    // An eager start takes a slot that no poll holds, or falls back to the queue. Each poll holds one while
    // it waits, and each queue's poller one more before it may poll: 13 of 16 with 10 + 1 polls, so only
    // three openings could be in flight at once (bench/results/experiments-2026-11-30-eager-slots/).
    maxConcurrentWorkflowTaskExecutions:
      w.maxConcurrentWorkflowTaskExecutions + (opts.eagerStarts ? w.eagerStartSlots : 0),
    // The SDK takes its polls from here (`maxConcurrentWorkflowTaskPolls` is ignored beside a tuner).
    workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: w.workflowTaskPolls },
    nonStickyToStickyPollRatio: w.nonStickyToStickyPollRatio,
  } satisfies Partial<WorkerOptions>;
}

export async function connectWorker(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect(temporalConnectionSettings(config));
}

/**
 * Worker Deployment Versioning when the config names a deployment. The default behaviour covers only
 * workflows outside the registry: every kind declares its own (`SessionKindDecl.versioning`).
 */
export function deploymentOptions(config: Config): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  const deployment = config.temporal.deployment;
  if (!deployment) return {};
  return {
    workerDeploymentOptions: {
      version: { deploymentName: deployment.name, buildId: deployment.buildId },
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'AUTO_UPGRADE',
    },
  };
}

/**
 * What a session worker serves besides workflows: the activities (and their heartbeats' prompt
 * delivery), the sink sessions publish to, and the one the prebuilt bundle's tracing interceptors hand
 * their spans to.
 */
export const sessionServices = (deps: ActivityDeps) => ({
  activities: createActivities(deps),
  ...heartbeatDelivery,
  sinks: { ...readModelSinks(deps.readModel), ...workflowSpanSink() },
});

const workflowsOf = (bundle: WorkerOptions['workflowBundle'] | undefined) =>
  bundle
    ? { workflowBundle: bundle }
    : {
        workflowsPath: require.resolve('../workflows'),
        interceptors: { workflowModules: workflowInterceptorModules },
        bundlerOptions: { preloadModules: preloadedDeclarations(require.resolve('../workflows')) },
      };

export async function createWorker(opts: CreateWorkerOptions): Promise<Worker> {
  const connection = opts.connection ?? (await connectWorker(opts.config));
  // Before the first publication: a read model left from another (e.g. wiped dev) server is emptied.
  // Unreachable here means unreachable for the worker too; its own errors say so.
  await bindToNamespace(
    opts.deps.readModel,
    connection.workflowService,
    opts.config.temporal.namespace,
  ).catch(() => false);
  return Worker.create({
    connection,
    namespace: opts.config.temporal.namespace,
    taskQueue: opts.config.temporal.taskQueue,
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...workflowsOf(opts.workflowBundle ?? prebuiltWorkflowBundle()),
    ...sessionServices(opts.deps),
    // Encrypts every payload before it reaches the server (codecs run outside the workflow sandbox).
    dataConverter: dataConverterFor(opts.config),
    ...deploymentOptions(opts.config),
    ...activityTracing(),
    ...workerTuning(opts.config, { eagerStarts: opts.eagerStarts }),
  });
}
