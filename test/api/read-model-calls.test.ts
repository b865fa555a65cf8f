// The read model's calls to Temporal run under one process-long stop signal. The SDK adds an 'abort'
// listener to that signal for every request and never removes it; the chaos run's restarted API warned of
// them piling up (MaxListenersExceededWarning) in its first repair round.
import '../support/quiet-runtime';
import { getEventListeners } from 'node:events';
import { smokeAlarmWorkflowId } from '../../src/shared/smoke-alarm';
import { abortable } from '../../src/read-model/sync';
import { http, startLocalStack, type LocalStack } from '../support/local-stack';
import { deviceToken } from '../support/test-config';

const HOME = 'home-read-calls';
let stack: LocalStack;

beforeAll(async () => {
  // No worker: the session's result is a long poll that stays open until it is cancelled.
  stack = await startLocalStack({ homes: [HOME], worker: false, cancelWindowSeconds: 600 });
});

afterAll(async () => {
  await stack?.stop();
});

test('When the read model makes many calls to Temporal, then its stop signal keeps no listener from them, and stopping still cancels a call under way', async () => {
  const stopped = new AbortController();
  const { temporal } = stack;
  const namespace = stack.config.temporal.namespace;
  for (let i = 0; i < 25; i++)
    await abortable(temporal, stopped.signal, () =>
      temporal.client.workflowService.describeNamespace({ namespace }),
    );
  expect(getEventListeners(stopped.signal, 'abort')).toHaveLength(0);

  const opened = await http(stack.api.url, 'POST', `/homes/${HOME}/smoke`, {
    token: deviceToken(HOME),
    body: { detectorId: 'kitchen' },
  });
  expect(opened.status).toBe(202);
  const handle = temporal.client.workflow.getHandle(smokeAlarmWorkflowId(HOME));
  const waiting = abortable(temporal, stopped.signal, () => handle.result(), 60_000);
  const outcome = waiting.then(
    () => 'answered',
    // The SDK wraps the gRPC error: the cause says the request was cancelled (code 1).
    (err: Error & { cause?: { code?: number } }) => err.cause?.code,
  );
  await new Promise((r) => setTimeout(r, 500));
  expect(getEventListeners(stopped.signal, 'abort')).toHaveLength(1);
  const at = Date.now();
  stopped.abort();
  expect(await outcome).toBe(1);
  expect(Date.now() - at).toBeLessThan(5000);
  expect(getEventListeners(stopped.signal, 'abort')).toHaveLength(0);
});
