// The typed configuration: defaults, file < env precedence, clear errors, and no plain tokens kept.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig, parseConfig, sha256Hex, type Config } from '../../src/config/config';
import { settingsOf } from '../../src/config/kinds';
import { sessionKind as smokeAlarm, type SmokeAlarmInput } from '../../src/shared/smoke-alarm';
import { workerTuning } from '../../src/worker/create-worker';
import { testHome } from '../support/test-config';

const withFile = (content: unknown) => {
  const file = join(mkdtempSync(join(tmpdir(), 'sf-config-')), 'config.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
};

describe('configuration', () => {
  test('When the example deployment config is loaded, then every section of it is read', () => {
    const c = loadConfig({
      SESSIONFLOW_CONFIG_FILE: resolve(__dirname, '../../deploy/sessionflow.example.json'),
    });
    expect(c.tokens.map((t) => t.role).sort()).toEqual(['customer', 'staff']);
    expect(Object.keys(c.homes)).toEqual(['home-42']);
    expect(settingsOf(smokeAlarm, c).cancelWindowSeconds).toBe(60);
  });

  test('When nothing is configured, then local defaults apply', () => {
    const c = loadConfig({});
    expect(c.temporal).toMatchObject({
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'sessionflow',
    });
    // No proxy is trusted: a client cannot choose its own address with X-Forwarded-For.
    // Load shedding: 16 Temporal writes in flight per API process, 256 waiting at most 1 s, then 429;
    // openings are refused while 200 sessions it opened wait for their first workflow task.
    expect(c.api).toEqual({
      host: '127.0.0.1',
      port: 3000,
      trustProxy: false,
      writes: { concurrency: 16, queue: 256, maxWaitMs: 1000, retryAfterSeconds: 1, openingBacklog: 200 },
    });
    expect(settingsOf(smokeAlarm, c).cancelWindowSeconds).toBe(60);
    expect(c.notifications.channel).toBe('log');
  });

  test('When a file and the environment both set a value, then the environment wins', () => {
    const file = withFile({
      temporal: { address: 'file:7233', namespace: 'from-file' },
      api: { port: 4000 },
    });
    const c = loadConfig({ SESSIONFLOW_CONFIG_FILE: file, TEMPORAL_ADDRESS: 'env:7233', API_PORT: '5000' });
    expect(c.temporal.address).toBe('env:7233');
    expect(c.temporal.namespace).toBe('from-file');
    expect(c.api.port).toBe(5000);
  });

  test('When homes come with plain tokens, then only their sha256 is kept', () => {
    const c = parseConfig({ homes: { h: testHome('h') } });
    const serialized = JSON.stringify(c);
    expect(serialized).not.toContain('owner-token-of-h');
    expect(c.homes.h.tokens[0]).toEqual({
      name: 'h-owner',
      role: 'owner',
      sha256: sha256Hex('owner-token-of-h-0123456789'),
    });
  });

  test('When a home overrides the cancel window, then that home uses it and others the default', () => {
    const c = parseConfig({
      alarm: { cancelWindowSeconds: 30 },
      homes: { a: testHome('a', { cancelWindowSeconds: 5 }), b: testHome('b') },
    });
    const cancelWindowMs = (config: Config, homeId: string) =>
      (
        smokeAlarm.startInput!(homeId, {
          settings: settingsOf(smokeAlarm, config),
          home: config.homes[homeId],
          hardwareTaskQueue: 'unused',
        }) as SmokeAlarmInput
      ).cancelWindowMs;
    expect(cancelWindowMs(c, 'a')).toBe(5000);
    expect(cancelWindowMs(c, 'b')).toBe(30_000);
  });

  test.each([
    ['a pin out of range', { homes: { h: testHome('h', { siren: { pin: 42 } }) } }, 'homes.h.siren.pin'],
    [
      'a short token',
      { homes: { h: testHome('h', { tokens: [{ name: 'x', role: 'owner', token: 'short' }] }) } },
      'homes.h.tokens.0.token',
    ],
    [
      'both token and sha256',
      {
        homes: {
          h: testHome('h', {
            tokens: [{ name: 'x', role: 'owner', token: 'a'.repeat(20), sha256: 'a'.repeat(64) }],
          }),
        },
      },
      'exactly one of token or sha256',
    ],
    [
      'an unknown role',
      { homes: { h: testHome('h', { tokens: [{ name: 'x', role: 'admin', token: 'a'.repeat(20) }] }) } },
      'homes.h.tokens.0.role',
    ],
    ['a bad home id', { homes: { 'bad home!': testHome('x') } }, 'homes.bad home!'],
    [
      'the webhook channel without a URL',
      { notifications: { channel: 'webhook' } },
      'webhook channel needs notifications.webhook.url',
    ],
    ['a non-numeric port', { api: { port: 'eighty' } }, 'api.port'],
  ])('When the config has %s, then loading fails naming it', (_what, raw, mention) => {
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    expect(() => parseConfig(raw)).toThrow(mention);
  });

  test('When the config file is missing or not JSON, then the error names the file', () => {
    expect(() => loadConfig({ SESSIONFLOW_CONFIG_FILE: '/nonexistent/sf.json' })).toThrow(
      '/nonexistent/sf.json',
    );
    const bad = withFile('{ not json');
    expect(() => loadConfig({ SESSIONFLOW_CONFIG_FILE: bad })).toThrow(`${bad}: not valid JSON`);
  });

  test('When a variable is set but empty, then it counts as unset', () => {
    const c = loadConfig({
      NOTIFY_WEBHOOK_URL: '',
      TEMPORAL_ADDRESS: '',
      API_PORT: '',
      SESSIONFLOW_CONFIG_FILE: '',
    });
    expect(c.notifications.webhook.url).toBeUndefined();
    expect(c.temporal.address).toBe('127.0.0.1:7233');
    expect(c.api.port).toBe(3000);
  });

  test('When an environment number is not a number, then loading fails', () => {
    expect(() => loadConfig({ API_PORT: 'abc' })).toThrow('api.port');
  });

  test.each([
    ['a misspelt top-level section', { notification: { channel: 'webhook' } }, 'notification: unknown key'],
    [
      'a misspelt platform field',
      { temporal: { tls: { enable: true } } },
      'temporal.tls.enable: unknown key',
    ],
    [
      'a misspelt home field',
      { homes: { h: testHome('h', { emergancy: {} }) } },
      'homes.h.emergancy: unknown key',
    ],
    [
      'a misspelt field of a kind’s home fields',
      { homes: { h: testHome('h', { emergency: { phone: '+1555', adress: 'x' } }) } },
      'homes.h.emergency.adress: unknown key',
    ],
    [
      'a misspelt kind setting',
      { alarm: { cancelWindowSecond: 5 } },
      'alarm.cancelWindowSecond: unknown key',
    ],
    [
      'a misspelt token field',
      { tokens: [{ name: 'x', role: 'staff', tokn: 'a'.repeat(20) }] },
      'tokens.0.tokn',
    ],
  ])('When the config has %s, then loading fails naming its path', (_what, raw, mention) => {
    expect(() => parseConfig(raw)).toThrow(mention);
  });

  test.each([
    [{ TEMPORAL_TLS: 'yes' }, 'temporal.tls.enabled', 'TEMPORAL_TLS'],
    [{ TEMPORAL_TLS: '1' }, 'temporal.tls.enabled', 'TEMPORAL_TLS'],
    [{ API_PORT: 'abc' }, 'api.port', 'API_PORT'],
    [{ ALARM_CANCEL_WINDOW_SECONDS: 'soon' }, 'alarm.cancelWindowSeconds', 'ALARM_CANCEL_WINDOW_SECONDS'],
    [{ SESSIONFLOW_HOMES_JSON: '{"h":{"owner":{}}}' }, 'homes.h.owner.phone', 'SESSIONFLOW_HOMES_JSON'],
    [{ NOTIFY_CHANNEL: 'sms-please' }, 'notifications.channel', 'NOTIFY_CHANNEL'],
  ])(
    'When the environment sets %j badly, then the error names the path and the variable',
    (env, path, variable) => {
      expect(() => loadConfig(env)).toThrow(
        new RegExp(`${path.replace(/\./g, '\\.')}: .*\\(from ${variable}\\)`),
      );
    },
  );

  test('When the worker is not tuned, then it polls for a worker beside its server', () => {
    const c = loadConfig({});
    expect(c.worker).toEqual({
      maxCachedWorkflows: 500,
      maxConcurrentWorkflowTaskExecutions: 16,
      workflowTaskPolls: 10,
      nonStickyToStickyPollRatio: 1,
      eagerStartSlots: 8,
    });
    expect(workerTuning(c)).toMatchObject({
      maxCachedWorkflows: 500,
      maxConcurrentWorkflowTaskExecutions: 16,
      workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 10 },
      nonStickyToStickyPollRatio: 1,
    });
  });

  test('When the worker takes eager starts beside the API, then it gets the eager slots on top of its task slots', () => {
    expect(workerTuning(loadConfig({}), { eagerStarts: true }).maxConcurrentWorkflowTaskExecutions).toBe(24);
    const c = loadConfig({ WORKER_WORKFLOW_TASKS: '20', WORKER_EAGER_START_SLOTS: '4' });
    expect(workerTuning(c, { eagerStarts: true }).maxConcurrentWorkflowTaskExecutions).toBe(24);
    expect(workerTuning(c).maxConcurrentWorkflowTaskExecutions).toBe(20);
  });

  test('When a worker far from its server is tuned through the environment, then the SDK gets those settings', () => {
    const c = loadConfig({
      WORKER_MAX_CACHED_WORKFLOWS: '2000',
      WORKER_WORKFLOW_TASKS: '40',
      WORKER_WORKFLOW_TASK_POLLS: '20',
      WORKER_NON_STICKY_POLL_RATIO: '0.2',
    });
    expect(workerTuning(c)).toMatchObject({
      maxCachedWorkflows: 2000,
      maxConcurrentWorkflowTaskExecutions: 40,
      workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 20 },
      nonStickyToStickyPollRatio: 0.2,
    });
  });

  test.each([
    [{ WORKER_WORKFLOW_TASK_POLLS: '20' }, 'worker.workflowTaskPolls', 'must not exceed'],
    [{ WORKER_WORKFLOW_TASK_POLLS: '1' }, 'worker.workflowTaskPolls', 'WORKER_WORKFLOW_TASK_POLLS'],
    [
      { WORKER_NON_STICKY_POLL_RATIO: '0' },
      'worker.nonStickyToStickyPollRatio',
      'WORKER_NON_STICKY_POLL_RATIO',
    ],
    [{ WORKER_EAGER_START_SLOTS: '-1' }, 'worker.eagerStartSlots', 'WORKER_EAGER_START_SLOTS'],
    [
      { WORKER_NON_STICKY_POLL_RATIO: '1.5' },
      'worker.nonStickyToStickyPollRatio',
      'WORKER_NON_STICKY_POLL_RATIO',
    ],
    [
      { WORKER_WORKFLOW_TASKS: 'many' },
      'worker.maxConcurrentWorkflowTaskExecutions',
      'WORKER_WORKFLOW_TASKS',
    ],
  ])('When the worker is tuned with %j, then loading fails naming the setting', (env, path, mention) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`${path.replace(/\./g, '\\.')}: .*${mention}`));
  });

  test('When TEMPORAL_TLS is true or false, then that is what it means', () => {
    expect(loadConfig({ TEMPORAL_TLS: 'true' }).temporal.tls.enabled).toBe(true);
    expect(loadConfig({ TEMPORAL_TLS: 'false' }).temporal.tls.enabled).toBe(false);
  });

  test('When the production profile keeps the log channel, then loading fails unless it is allowed explicitly', () => {
    expect(() => loadConfig({ SESSIONFLOW_PROFILE: 'production' })).toThrow(
      /notifications\.channel: .*NOTIFY_ALLOW_LOG=true/,
    );
    expect(loadConfig({ SESSIONFLOW_PROFILE: 'production', NOTIFY_ALLOW_LOG: 'true' }).profile).toBe(
      'production',
    );
    const webhook = { NOTIFY_CHANNEL: 'webhook', NOTIFY_WEBHOOK_URL: 'https://hooks.example/n' };
    expect(loadConfig({ SESSIONFLOW_PROFILE: 'production', ...webhook }).notifications.channel).toBe(
      'webhook',
    );
    expect(loadConfig({}).profile).toBe('development');
  });

  test.each([
    [
      'a shop token named guest',
      { tokens: [{ name: 'guest', role: 'customer', token: 'a'.repeat(20) }] },
      'tokens.0.name',
    ],
    [
      'a home token named guest',
      { homes: { h: testHome('h', { tokens: [{ name: 'guest', role: 'owner', token: 'a'.repeat(20) }] }) } },
      'homes.h.tokens.0.name',
    ],
    [
      'a customer named like a session token’s principal',
      {
        tokens: [
          { name: 'session:pizza-order:0123456789abcdef01234567', role: 'customer', token: 'a'.repeat(20) },
        ],
      },
      'tokens.0.name',
    ],
    [
      'a customer and an operator of the same name',
      {
        tokens: [{ name: 'ada', role: 'customer', token: 'a'.repeat(20) }],
        operators: [{ name: 'ada', role: 'operator', token: 'b'.repeat(20) }],
      },
      "operators.0.name: 'ada' is already the name of tokens.0",
    ],
    [
      'a home token named like a staff token',
      {
        homes: { h: testHome('h', { tokens: [{ name: 'kitchen', role: 'owner', token: 'a'.repeat(20) }] }) },
        tokens: [{ name: 'kitchen', role: 'staff', token: 'b'.repeat(20) }],
      },
      "tokens.0.name: 'kitchen' is already the name of homes.h.tokens.0",
    ],
  ])('When the config has %s, then loading fails: identities cannot collide', (_what, raw, mention) => {
    expect(() => parseConfig(raw)).toThrow(mention);
  });
});
