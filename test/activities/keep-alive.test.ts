// Kinds' activities get a heartbeat timeout (5 s) so that an attempt on a dead worker is retried in
// seconds; the worker heartbeats them while they run, so a slow provider is not mistaken for a dead worker.
// Real dev server, the in-process worker with the real activities, a real HTTP webhook receiver that takes
// longer than the heartbeat timeout to answer. (The dead worker's side, a real SIGKILL: channels-crash.)
import '../support/quiet-runtime';
import { smokeAlarmWorkflowId } from '../../src/shared/smoke-alarm';
import { activityAttempts } from '../support/activity-attempts';
import { eventually, http, startLocalStack, type LocalStack } from '../support/local-stack';
import { deviceToken, ownerToken } from '../support/test-config';

const HOME = 'home-slow-provider';
const SLOW_MS = 8000;
let stack: LocalStack;

beforeAll(async () => {
  // The webhook's own timeout must outlast the slow answer; the cancel window keeps the story at its first notice.
  stack = await startLocalStack({ homes: [HOME], cancelWindowSeconds: 120, webhookTimeoutMs: 20_000 });
});
afterAll(async () => {
  await stack?.stop();
});

test('When the provider takes longer to answer than the heartbeat timeout, then the notice is one attempt kept alive by heartbeats, sent once', async () => {
  stack.sink.slowNext = [SLOW_MS];
  const sentAt = Date.now();
  const opened = await http(stack.api.url, 'POST', `/homes/${HOME}/smoke`, {
    token: deviceToken(HOME),
    body: { detectorId: 'kitchen' },
  });
  expect(opened.status).toBe(202);
  await stack.sink.waitFor((all) => all.some((n) => n.channel === 'notify'), SLOW_MS + 15_000);
  const notice = stack.sink.of('notify', HOME)[0];
  expect(notice.receivedAt - sentAt).toBeGreaterThanOrEqual(SLOW_MS - 100);

  const handle = stack.client.workflow.getHandle(smokeAlarmWorkflowId(HOME));
  const first = await eventually(
    async () => (await activityAttempts(handle)).find((a) => a.name === 'notifyOwner'),
    (a) => a?.completed === true,
    10_000,
  );
  expect(first!.heartbeatTimeoutSeconds).toBe(5);
  // Without heartbeats the server would have timed the attempt out at 5 s and run a second one.
  expect(first!.attempt).toBe(1);
  expect(stack.sink.of('notify', HOME)).toHaveLength(1);

  const cancelled = await http(stack.api.url, 'POST', `/homes/${HOME}/alarm/cancel`, {
    token: ownerToken(HOME),
  });
  expect(cancelled.status).toBe(200);
});
