// One time-skipping world per workflow test file: the Java test server, a webhook sink and a worker with
// the real activities on a fresh task queue. Torn down in afterAll.
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError, type WorkflowClientInterceptor } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Config } from '../../src/config/config';
import type { SessionModel, TransitionTaken } from '../../src/shared/session-model';
import { sessionServices } from '../../src/worker/create-worker';
import { buildActivityDeps, type BuiltActivityDeps } from '../../src/worker/activity-deps';
import { eventually } from './eventually';
import { testLogger } from './silent-logger';
import { timeSkippingServerExecutable } from './temporal-binaries';
import { testConfig } from './test-config';
import { WebhookSink } from './webhook-sink';
import { timeSkippingWorkflowBundle } from './workflow-bundle';

export interface TimeSkippingWorld {
  /** Its client remembers every workflow it starts, for the model-coverage check. */
  env: TestWorkflowEnvironment;
  /** Every state change the sessions started through `client` took (latest run of each). */
  transitionsTaken(): Promise<TransitionTaken[]>;
  sink: WebhookSink;
  deps: BuiltActivityDeps;
  config: Config;
  taskQueue: string;
  stop(): Promise<void>;
}

export async function startTimeSkippingWorld(opts: {
  name: string;
  homes?: string[];
}): Promise<TimeSkippingWorld> {
  const started = new Set<string>();
  const recorder: WorkflowClientInterceptor = {
    start: (input, next) => {
      started.add(input.options.workflowId);
      return next(input);
    },
    signalWithStart: (input, next) => {
      started.add(input.options.workflowId);
      return next(input);
    },
  };
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: timeSkippingServerExecutable() },
    client: { interceptors: { workflow: [recorder] } },
  });
  const sink = await new WebhookSink().start();
  const taskQueue = `${opts.name}-${randomUUID()}`;
  const config = testConfig({ taskQueue, homes: opts.homes ?? [], webhookUrl: sink.url });
  const deps = buildActivityDeps(config, testLogger);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: timeSkippingWorkflowBundle(),
    ...sessionServices(deps),
  });
  const running = worker.run();
  return {
    env,
    async transitionsTaken() {
      const paths = await Promise.all(
        [...started].map((id) =>
          env.client.workflow.getHandle(id).query<{ path: TransitionTaken[] }>('status'),
        ),
      );
      return paths.flatMap((s) => s.path);
    },
    sink,
    deps,
    config,
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
      await sink.stop();
      await env.teardown();
    },
  };
}

/** Waits until pred() holds (the time-skipping tests poll queries with it). */
export const eventuallyTrue = (pred: () => Promise<boolean>, timeoutMs = 10_000) =>
  eventually(pred, (holds) => holds, timeoutMs);

/** The refusal's type, after checking that the update really was refused. */
export async function refusal(p: Promise<unknown>): Promise<string | undefined> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  return ((err as WorkflowUpdateFailedError).cause as { type?: string } | undefined)?.type;
}

/** The declared model and the code agree: every transition taken is declared, and each declared one was taken. */
export function expectModelCovered(model: SessionModel<string>, taken: TransitionTaken[]): void {
  const key = (t: { from: string; to: string; on: string }) => `${t.from} -> ${t.to} on '${t.on}'`;
  const seen = new Set(taken.map(key));
  const declared = model.decl.transitions.map(key);
  expect({ undeclared: [...seen].filter((k) => !declared.includes(k)) }).toEqual({ undeclared: [] });
  expect({ neverTaken: declared.filter((k) => !seen.has(k)) }).toEqual({ neverTaken: [] });
}
