// The HTTP API against a real Temporal dev server, a real worker and real HTTP: the curl story,
// and every refusal, each checked to have started or signalled nothing.
import '../support/quiet-runtime';
import { WorkflowNotFoundError } from '@temporalio/client';
import { startWebServer, stopWebServer } from '../../src/api/server';
import { createTemporalGateway } from '../../src/api/temporal-gateway';
import type { Config } from '../../src/config/config';
import { freePort } from '../../src/dev/temporal-dev-server';
import { alarmStatusQuery, smokeAlarmWorkflowId, smokeDetectedSignal } from '../../src/shared/smoke-alarm';
import { AesGcmCodec } from '../../src/codec/aes-gcm-codec';
import { decodedText } from '../support/history-payloads';
import { eventually, http, startLocalStack, type LocalStack } from '../support/local-stack';
import { testLogger } from '../support/silent-logger';
import { deviceToken, ownerToken } from '../support/test-config';

const homes = [
  'home-a',
  'home-b',
  'home-c',
  'home-d',
  'home-e',
  'home-quick',
  'home-bad',
  'home-idle',
  'home-chatty',
  'home-trust',
];
let stack: LocalStack;
let url: string;

beforeAll(async () => {
  stack = await startLocalStack({
    homes,
    cancelWindowSeconds: 60,
    homeOverrides: { 'home-quick': { cancelWindowSeconds: 1 } },
  });
  url = stack.api.url;
});

afterAll(async () => {
  await stack?.stop();
});

const smoke = (homeId: string, detectorId: string, token = deviceToken(homeId)) =>
  http(url, 'POST', `/homes/${homeId}/smoke`, { token, body: { detectorId } });
const status = (homeId: string, token = ownerToken(homeId)) =>
  http(url, 'GET', `/homes/${homeId}/alarm`, { token });
const cancel = (homeId: string, token = ownerToken(homeId)) =>
  http(url, 'POST', `/homes/${homeId}/alarm/cancel`, { token });
const allClear = (homeId: string, token = ownerToken(homeId)) =>
  http(url, 'POST', `/homes/${homeId}/alarm/all-clear`, { token });

async function expectNoSession(homeId: string) {
  await expect(
    stack.client.workflow.getHandle(smokeAlarmWorkflowId(homeId)).describe(),
  ).rejects.toBeInstanceOf(WorkflowNotFoundError);
}
/** Waits until the opening side effects are done, so history only grows if something is signalled. */
// A consistent read (a query) is answered once the workflow task that made the change is in history; the
// read model has the change a moment before, while that task is still being completed.
const settled = (homeId: string) =>
  eventually(
    () => http(url, 'GET', `/homes/${homeId}/alarm?consistent=true`, { token: ownerToken(homeId) }),
    (r) =>
      r.body?.steps?.length >= 2 && r.body.steps.every((x: { status: string }) => x.status !== 'pending'),
  );
const historyLength = async (homeId: string) =>
  (await stack.client.workflow.getHandle(smokeAlarmWorkflowId(homeId)).describe()).historyLength;
const visible = async (query: string) => {
  const ids: string[] = [];
  for await (const wf of stack.client.workflow.list({ query })) ids.push(wf.workflowId);
  return ids;
};

describe('smoke-alarm HTTP API', () => {
  test('When a device posts a detector id its home does not have, then 422 on every event route and nothing is started or signalled', async () => {
    const generic = (detectorId: string) =>
      http(url, 'POST', '/sessions/smoke-alarm/home-trust/events/smokeDetected', {
        token: deviceToken('home-trust'),
        body: { detectorId },
      });
    for (const refused of [await smoke('home-trust', 'made-up-1'), await generic('made-up-2')]) {
      expect(refused.status).toBe(422);
      expect(refused.body.error).toEqual({
        code: 'not-configured',
        message: expect.stringContaining('is not configured for this home'),
      });
    }
    await expectNoSession('home-trust');
    // A configured detector opens the session; two made-up ids then neither escalate nor grow it.
    expect((await smoke('home-trust', 'kitchen')).status).toBe(202);
    await settled('home-trust');
    const before = await historyLength('home-trust');
    expect((await smoke('home-trust', 'made-up-3')).status).toBe(422);
    expect((await generic('made-up-4')).status).toBe(422);
    const s = await status('home-trust');
    expect(s.body.state).toBe('waiting-for-cancel');
    expect(s.body.detectors.map((d: { detectorId: string }) => d.detectorId)).toEqual(['kitchen']);
    expect(await historyLength('home-trust')).toBe(before);
    expect(stack.sink.of('sms', 'home-trust')).toHaveLength(0);
    expect((await cancel('home-trust')).status).toBe(200);
  });

  test('When a detector reports smoke and the owner cancels, then the session is opened, shown and cancelled', async () => {
    const started = await smoke('home-a', 'kitchen');
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toBe('/homes/home-a/alarm');
    expect(started.body).toMatchObject({ sessionId: 'smoke-alarm:home-a', state: 'waiting-for-cancel' });

    const shown = await eventually(
      () => status('home-a'),
      (r) => r.body?.siren === 'on',
    );
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      homeId: 'home-a',
      state: 'waiting-for-cancel',
      cancelWindowSeconds: 60,
    });
    expect(stack.deps.simulatedBoards.get('home-a')!.pinValue(13)).toBe(1);

    // A second event from the same detector joins the same session.
    expect((await smoke('home-a', 'kitchen')).body.runId).toBe(started.body.runId);

    const cancelled = await cancel('home-a');
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toEqual({ state: 'cancelled', outcome: 'cancelled' });
    await stack.deps.simulatedBoards.get('home-a')!.waitForPin(13, 0);
    const after = await status('home-a');
    expect(after.body).toMatchObject({ state: 'cancelled', outcome: 'cancelled', endedBy: 'home-a-owner' });

    // Tokens never reach history, not even encrypted (only their names), and contacts are looked up by
    // the activities. (That the history is ciphertext without the key is test/api/payload-codec.)
    const history = await decodedText(
      await stack.client.workflow.getHandle(smokeAlarmWorkflowId('home-a')).fetchHistory(),
      AesGcmCodec.fromConfig(stack.config),
    );
    expect(history).toContain('home-a-owner');
    for (const secret of [deviceToken('home-a'), ownerToken('home-a'), '+15550000001', '+15550000911']) {
      expect(history).not.toContain(secret);
    }

    // Too late now: nothing is running (once the wrap-up closed the session).
    await stack.client.workflow.getHandle(smokeAlarmWorkflowId('home-a')).result();
    const again = await cancel('home-a');
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('no-active-alarm');

    // The next fire in the same home opens a fresh session under the same id.
    const next = await smoke('home-a', 'bedroom');
    expect(next.status).toBe(202);
    expect(next.body.runId).not.toBe(started.body.runId);
    expect(next.body.state).toBe('waiting-for-cancel');
    expect((await cancel('home-a')).status).toBe(200);
  });

  test('When a second detector fires, then the home is escalated, listed by search attribute, and all-clear resolves it', async () => {
    await smoke('home-b', 'kitchen');
    const second = await smoke('home-b', 'hall');
    expect(second.status).toBe(202);
    // Accepted, not yet processed: the answer names the state the event joined.
    expect(second.body.state).toBe('waiting-for-cancel');
    await eventually(
      () => status('home-b'),
      (r) => r.body?.state === 'escalated',
    );
    await stack.sink.waitFor(
      () => stack.sink.of('sms', 'home-b').length === 1 && stack.sink.of('call', 'home-b').length === 1,
    );

    const ids = await eventually(
      () => visible(`HomeId = 'home-b' AND SessionState = 'escalated' AND SessionKind = 'smoke-alarm'`),
      (found) => found.length === 1,
    );
    expect(ids).toEqual(['smoke-alarm:home-b']);

    const tooLate = await cancel('home-b');
    expect(tooLate.status).toBe(409);
    expect(tooLate.body.error.code).toBe('too-late');
    expect((await status('home-b')).body.state).toBe('escalated');

    const cleared = await allClear('home-b');
    expect(cleared.status).toBe(200);
    expect(cleared.body).toEqual({ state: 'resolved', outcome: 'resolved' });
    await eventually(
      () => visible(`HomeId = 'home-b' AND SessionState = 'resolved' AND ExecutionStatus = 'Completed'`),
      (found) => found.length === 1,
    );
    expect(stack.sink.of('sms', 'home-b')).toHaveLength(1);
    expect(stack.sink.of('call', 'home-b')).toHaveLength(1);
  });

  test('When the window of a home passes unanswered, then its session escalates on its own', async () => {
    await smoke('home-quick', 'garage');
    const escalated = await eventually(
      () => status('home-quick'),
      (r) => r.body?.state === 'escalated',
    );
    expect(escalated.body.escalation.reason).toBe('window-expired');
    expect(escalated.body.cancelWindowSeconds).toBe(1);
    await stack.sink.waitFor(() => stack.sink.of('call', 'home-quick').length === 1);
    expect((await allClear('home-quick')).status).toBe(200);
  });

  test('When all-clear or cancel come with nothing escalated or running, then 409 and nothing changes', async () => {
    expect((await cancel('home-c')).status).toBe(409);
    expect((await allClear('home-c')).status).toBe(409);
    await expectNoSession('home-c');

    await smoke('home-c', 'kitchen');
    await settled('home-c');
    const before = await historyLength('home-c');
    const early = await allClear('home-c');
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('not-escalated');
    expect(await historyLength('home-c')).toBe(before);
    expect((await cancel('home-c')).status).toBe(200);
  });

  test('When a chatty detector grows the history past its limit, then the session continues as new and counts every event', async () => {
    // Straight through the client: the history limit is a workflow input the API does not expose.
    const workflowId = smokeAlarmWorkflowId('home-chatty');
    const first = await stack.client.workflow.signalWithStart('smokeAlarmWorkflow', {
      workflowId,
      taskQueue: stack.config.temporal.taskQueue,
      args: [{ homeId: 'home-chatty', cancelWindowMs: 60_000, historyLimit: 30 }],
      signal: smokeDetectedSignal,
      signalArgs: [{ detectorId: 'kitchen' }],
    });
    for (let i = 0; i < 40; i++) await first.signal(smokeDetectedSignal, { detectorId: 'kitchen' });
    const latest = stack.client.workflow.getHandle(workflowId);
    const s = await eventually(
      () => latest.query(alarmStatusQuery),
      (q) => q.detectors[0]?.events === 41,
    );
    expect((await latest.describe()).runId).not.toBe(first.signaledRunId);
    expect(s).toMatchObject({ state: 'waiting-for-cancel', openedInRun: first.signaledRunId });
    expect(
      (await http(url, 'POST', '/homes/home-chatty/alarm/cancel', { token: ownerToken('home-chatty') }))
        .status,
    ).toBe(200);
  });

  test('When a home has no session, then its status is 404', async () => {
    const res = await status('home-d');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('no-session');
  });

  describe('refusals start and signal nothing', () => {
    test.each([
      ['no token', 401, undefined],
      ['an unknown token', 401, 'not-a-real-token-000000000'],
      ["another home's device token", 403, deviceToken('home-a')],
      ['an owner token on the device route', 403, ownerToken('home-bad')],
    ])('When smoke is posted with %s, then %i', async (_what, code, token) => {
      const res = await http(url, 'POST', '/homes/home-bad/smoke', {
        token,
        body: { detectorId: 'kitchen' },
      });
      expect(res.status).toBe(code);
      expect(res.body.error.code).toBe(code === 401 ? 'unauthorized' : 'forbidden');
      await expectNoSession('home-bad');
    });

    test.each([
      ['bad JSON', 400, 'invalid-json', { rawBody: '{"detectorId":' }],
      ['a missing detectorId', 400, 'validation-failed', { body: {} }],
      ['an oversized detectorId', 400, 'validation-failed', { body: { detectorId: 'x'.repeat(65) } }],
      ['an unknown field', 400, 'validation-failed', { body: { detectorId: 'kitchen', extra: 1 } }],
      [
        'a non-JSON body',
        415,
        'unsupported-media-type',
        { rawBody: 'detectorId=kitchen', contentType: 'text/plain' },
      ],
      ['a huge body', 413, 'payload-too-large', { body: { detectorId: 'kitchen', pad: 'x'.repeat(20_000) } }],
      ['an array body', 400, 'validation-failed', { body: ['kitchen'] }],
    ])('When smoke is posted with %s, then %i', async (_what, code, errorCode, opts) => {
      const res = await http(url, 'POST', '/homes/home-bad/smoke', {
        token: deviceToken('home-bad'),
        ...opts,
      });
      expect(res.status).toBe(code);
      expect(res.body.error).toEqual({ code: errorCode, message: expect.any(String) });
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts|node_modules/);
      await expectNoSession('home-bad');
    });

    test('When owner routes get a device token, another home token or no token, then 403/401 and no update', async () => {
      await smoke('home-e', 'kitchen');
      await settled('home-e');
      const before = await historyLength('home-e');
      expect((await cancel('home-e', deviceToken('home-e'))).status).toBe(403);
      expect((await cancel('home-e', ownerToken('home-a'))).status).toBe(403);
      expect((await http(url, 'POST', '/homes/home-e/alarm/cancel')).status).toBe(401);
      expect((await status('home-e', deviceToken('home-e'))).status).toBe(403);
      const withBody = await http(url, 'POST', '/homes/home-e/alarm/cancel', {
        token: ownerToken('home-e'),
        body: { force: true },
      });
      expect(withBody.status).toBe(400);
      expect(await historyLength('home-e')).toBe(before);
      expect((await status('home-e')).body.state).toBe('waiting-for-cancel');
      expect((await cancel('home-e')).status).toBe(200);
    });

    test('When a route does not exist, then 404 JSON', async () => {
      const res = await http(url, 'GET', '/nope');
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('route-not-found');
      const badHome = await http(url, 'POST', `/homes/${'h'.repeat(80)}/smoke`, {
        token: deviceToken('home-bad'),
        body: { detectorId: 'kitchen' },
      });
      expect(badHome.status).toBe(403);
    });
  });

  test('When asked for health and readiness, then both answer ok', async () => {
    expect((await http(url, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await http(url, 'GET', '/readyz')).status).toBe(200);
  });

  /** A second API on the same config but other Temporal settings, for the duration of `use`. */
  async function withApi(temporalSettings: Partial<Config['temporal']>, use: (url: string) => Promise<void>) {
    const config = { ...stack.config, temporal: { ...stack.config.temporal, ...temporalSettings } };
    const temporal = createTemporalGateway(config);
    const api = await startWebServer({ config, temporal, logger: testLogger }, 0);
    try {
      await use(api.url);
    } finally {
      await stopWebServer(api);
      await temporal.close();
    }
  }

  test('When no worker is running, then a smoke event is still accepted at once and waits durably', async () => {
    // Same server, a task queue nobody polls: the event must not be lost or held up by the missing worker.
    await withApi({ taskQueue: 'nobody-polls-this' }, async (idleUrl) => {
      const t0 = Date.now();
      const res = await http(idleUrl, 'POST', '/homes/home-idle/smoke', {
        token: deviceToken('home-idle'),
        body: { detectorId: 'kitchen' },
      });
      expect(res.status).toBe(202);
      // The state a session this event opens begins in; no worker was asked.
      expect(res.body.state).toBe('waiting-for-cancel');
      expect(Date.now() - t0).toBeLessThan(3_000);
      const handle = stack.client.workflow.getHandle(smokeAlarmWorkflowId('home-idle'));
      expect((await handle.describe()).status.name).toBe('RUNNING');
      await handle.terminate('test cleanup');
    });
  });

  test('When Temporal is unreachable, then requests answer 503 with Retry-After quickly instead of hanging', async () => {
    await withApi({ address: `127.0.0.1:${await freePort()}`, callTimeoutMs: 1000 }, async (downUrl) => {
      const t0 = Date.now();
      const res = await http(downUrl, 'POST', '/homes/home-d/smoke', {
        token: deviceToken('home-d'),
        body: { detectorId: 'kitchen' },
      });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('temporal-unavailable');
      expect(res.headers.get('retry-after')).toBe('2');
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect((await http(downUrl, 'GET', '/readyz')).status).toBe(503);
      expect((await http(downUrl, 'GET', '/healthz')).status).toBe(200);
    });
  });
});
