// A session whose workflow task keeps failing (a worker killed while holding it, twice; or a broken
// deploy, as here) is refused queries and updates by Temporal until a worker completes a task. The API
// says so with a 503 the caller may retry, not a 500, and the request counts once the session recovers.
// The small chaos run hit this on a slow machine: a cancel answered 500 and was never retried.
import '../support/quiet-runtime';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { dataConverterFor } from '../../src/codec/aes-gcm-codec';
import { bundlerLogger } from '../../src/worker/workflow-bundle';
import { eventually, http, startLocalStack, type LocalStack } from '../support/local-stack';
import { runStackWorker } from '../support/stack-worker';
import { deviceToken, ownerToken } from '../support/test-config';

const HOME = 'home-broken-deploy';
let stack: LocalStack;
let connection: NativeConnection;

beforeAll(async () => {
  stack = await startLocalStack({ homes: [HOME], worker: false, cancelWindowSeconds: 600 });
  connection = await NativeConnection.connect({ address: stack.server.address });
});

afterAll(async () => {
  await connection?.close();
  await stack?.stop();
});

const status = () =>
  http(stack.api.url, 'GET', `/homes/${HOME}/alarm?consistent=true`, { token: ownerToken(HOME) });
const cancel = () => http(stack.api.url, 'POST', `/homes/${HOME}/alarm/cancel`, { token: ownerToken(HOME) });

test('When a session’s workflow task keeps failing, then its status and requests answer 503 session-not-ready with Retry-After, and a cancel sent again once a sound worker runs it cancels the alarm', async () => {
  const opened = await http(stack.api.url, 'POST', `/homes/${HOME}/smoke`, {
    token: deviceToken(HOME),
    body: { detectorId: 'kitchen' },
  });
  expect(opened.status).toBe(202);

  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./fixtures/broken-smoke-alarm'),
    logger: bundlerLogger,
  });
  const broken = await Worker.create({
    connection,
    taskQueue: stack.config.temporal.taskQueue,
    workflowBundle: { code },
    dataConverter: dataConverterFor(stack.config),
  });
  await broken.runUntil(async () => {
    // The first failure is reported, the next attempt times out (10 s); until then a query waits for the
    // task and runs out of time. From the third attempt on Temporal refuses queries and updates at once.
    const read = await eventually(
      status,
      (r) => !(r.status === 503 && r.body?.error?.code === 'temporal-unavailable'),
      40_000,
    );
    expect({ status: read.status, code: read.body?.error?.code }).toEqual({
      status: 503,
      code: 'session-not-ready',
    });
    expect(read.headers.get('retry-after')).toBe('5');

    const request = await cancel();
    expect({ status: request.status, code: request.body?.error?.code }).toEqual({
      status: 503,
      code: 'session-not-ready',
    });
    expect(request.headers.get('retry-after')).toBe('5');
  });

  // The fix is deployed: the session runs from its start, and the owner's app sends the cancel again.
  const sound = await runStackWorker(stack, connection);
  try {
    const answered = await eventually(cancel, (r) => r.status !== 503, 60_000);
    expect(answered.status).toBe(200);
    const after = await eventually(status, (r) => r.body?.state === 'cancelled', 15_000);
    expect(after.body).toMatchObject({ state: 'cancelled', siren: 'off' });
  } finally {
    await sound.stop();
  }
});
