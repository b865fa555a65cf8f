// A worker of its own beside a local stack (started with `worker: false`): the stack's task queue,
// activities, read-model sink and codec, the test's connection (direct, or through a proxy the test can cut).
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { dataConverterFor } from '../../src/codec/aes-gcm-codec';
import { sessionServices, workerTuning } from '../../src/worker/create-worker';
import type { LocalStack } from './local-stack';
import { testWorkflowBundle } from './workflow-bundle';

export function createStackWorker(
  stack: LocalStack,
  connection: NativeConnection,
  extra: Partial<WorkerOptions> = {},
): Promise<Worker> {
  return Worker.create({
    connection,
    taskQueue: stack.config.temporal.taskQueue,
    workflowBundle: testWorkflowBundle(),
    ...sessionServices(stack.deps),
    dataConverter: dataConverterFor(stack.config),
    ...workerTuning(stack.config),
    ...extra,
  });
}

/** Runs one until `stop()`, which shuts it down and waits for it. */
export async function runStackWorker(
  stack: LocalStack,
  connection: NativeConnection,
  extra: Partial<WorkerOptions> = {},
): Promise<{ stop: () => Promise<void> }> {
  const worker = await createStackWorker(stack, connection, extra);
  const running = worker.run();
  return {
    stop: async () => {
      worker.shutdown();
      await running;
    },
  };
}
