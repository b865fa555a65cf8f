// Issue 16's intermittent 503 on the first status query after a restart. A session with a workflow task
// pending (left from before the restart) has its status queries held by the server until the task is
// done; with the server's default of one held query per workflow, the gateway's siren resync took the
// slot and the owner's query was refused (RESOURCE_EXHAUSTED), which the SDK retries only after 1 s,
// 1.7 s, 2.9 s... past the API's deadline. Here the pending task is real: no worker runs yet.
import '../support/quiet-runtime';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { smokeAlarmWorkflowId } from '../../src/shared/smoke-alarm';
import { http, startLocalStack, type LocalStack } from '../support/local-stack';
import { deviceToken } from '../support/test-config';
import { createStackWorker } from '../support/stack-worker';

const HOME = 'home-readers';
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ homes: [HOME], worker: false, cancelWindowSeconds: 600 });
});

afterAll(async () => {
  await stack?.stop();
});

test('When several readers query a session whose workflow task waits for a worker, then every query is held and answered, none refused', async () => {
  const opened = await http(stack.api.url, 'POST', `/homes/${HOME}/smoke`, {
    token: deviceToken(HOME),
    body: { detectorId: 'kitchen' },
  });
  expect(opened.status).toBe(202);

  // No retry interceptor: the server's own answer, not the SDK's retries around it.
  const raw = await Connection.connect({ address: stack.server.address, interceptors: [] });
  const query = () =>
    raw.withDeadline(Date.now() + 60_000, () =>
      raw.workflowService.queryWorkflow({
        namespace: stack.config.temporal.namespace,
        execution: { workflowId: smokeAlarmWorkflowId(HOME) },
        query: { queryType: 'status' },
      }),
    );
  // The gateway's resync, the owner's app and an operator's /ui page, all at once.
  const readers = Promise.allSettled([query(), query(), query()]);
  await new Promise((r) => setTimeout(r, 500));

  const connection = await NativeConnection.connect({ address: stack.server.address });
  const worker = await createStackWorker(stack, connection);
  try {
    await worker.runUntil(async () => {
      const answers = await readers;
      const refused = answers.flatMap((a) =>
        a.status === 'rejected' ? [String((a.reason as Error).message)] : [],
      );
      expect(refused).toEqual([]);
      for (const a of answers) {
        expect(a.status === 'fulfilled' && a.value.queryResult?.payloads?.length).toBe(1);
      }
    });
  } finally {
    await raw.close();
    await connection.close();
  }
});
