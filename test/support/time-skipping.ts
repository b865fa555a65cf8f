// One time-skipping world per workflow test file: the Java test server, a webhook sink and a worker with
// the real activities on a fresh task queue. Torn down in afterAll.
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import type { Config } from '../../src/config/config';
import { buildActivityDeps, type BuiltActivityDeps } from '../../src/worker/activity-deps';
import { eventually } from './eventually';
import { testLogger } from './silent-logger';
import { timeSkippingServerExecutable } from './temporal-binaries';
import { testConfig } from './test-config';
import { WebhookSink } from './webhook-sink';
import { testWorkflowBundle } from './workflow-bundle';

export interface TimeSkippingWorld {
  env: TestWorkflowEnvironment;
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
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: timeSkippingServerExecutable() },
  });
  const sink = await new WebhookSink().start();
  const taskQueue = `${opts.name}-${randomUUID()}`;
  const config = testConfig({ taskQueue, homes: opts.homes ?? [], webhookUrl: sink.url });
  const deps = buildActivityDeps(config, testLogger);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: testWorkflowBundle(),
    activities: createActivities(deps),
  });
  const running = worker.run();
  return {
    env,
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
