// The smoke-alarm activities with their real dependencies, run in the SDK's activity environment.
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { ApplicationFailure } from '@temporalio/common';
import { hardwareActivities } from '../../src/activities/hardware';
import { activities } from '../../src/activities/smoke-alarm';
import { buildActivityDeps } from '../../src/worker/activity-deps';
import { testLogger } from '../support/silent-logger';
import { testConfig } from '../support/test-config';
import { WebhookSink } from '../support/webhook-sink';

let sink: WebhookSink;
beforeAll(async () => {
  sink = await new WebhookSink().start();
});
afterAll(async () => {
  await sink.stop();
});

const setup = () => {
  const config = testConfig({ taskQueue: 'unused', homes: ['h1'], webhookUrl: sink.url });
  const deps = buildActivityDeps(config, testLogger);
  return {
    deps,
    acts: { ...activities(deps), ...hardwareActivities(deps.sirens) },
    env: new MockActivityEnvironment(),
  };
};

describe('smoke-alarm activities', () => {
  test('When setSiren runs, then the home board pin follows', async () => {
    const { deps, acts, env } = setup();
    await env.run(acts.setSiren, { homeId: 'h1', on: true });
    expect(deps.simulatedBoards.get('h1')!.pinValue(13)).toBe(1);
    await env.run(acts.setSiren, { homeId: 'h1', on: false });
    expect(deps.simulatedBoards.get('h1')!.pinValue(13)).toBe(0);
  });

  test('When the emergency call goes out, then it is addressed from configuration with the home address', async () => {
    const { acts, env } = setup();
    await env.run(acts.callEmergency, { homeId: 'h1', idempotencyKey: 'k-call', text: 'Fire.' });
    const [call] = sink.of('call', 'h1');
    expect(call).toMatchObject({ to: '+15550000911', text: 'Fire. Address: 1 Test Street, h1.' });
  });

  test('When the emergency call goes to the log channel, then its line shows neither phone number nor street address', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const config = testConfig({ taskQueue: 'unused', homes: ['h1'] });
    const acts = activities(buildActivityDeps(config, logger));
    const text = 'Fire. Owner on +1 555 000 0001 was told.';
    await new MockActivityEnvironment().run(acts.callEmergency, {
      homeId: 'h1',
      idempotencyKey: 'k-log',
      text,
    });
    const line = lines.find((l) => l.includes('k-log'));
    expect(JSON.parse(line!)).toMatchObject({
      channel: 'call',
      to: '***911',
      text: 'Fire. Owner on ***001 was told. Address: [withheld].',
    });
    for (const secret of ['+15550000911', '0000911', '1 Test Street', '555 000 0001'])
      expect(line).not.toContain(secret);
  });

  test('When a home is not configured, then notifications and sirens fail as non-retryable bad configuration', async () => {
    const { acts, env } = setup();
    for (const run of [
      () => env.run(acts.smsOwner, { homeId: 'ghost', idempotencyKey: 'k', text: 't' }),
      () => env.run(acts.setSiren, { homeId: 'ghost', on: true }),
    ]) {
      const err = await run().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: 'BadConfiguration', nonRetryable: true });
    }
  });
});
