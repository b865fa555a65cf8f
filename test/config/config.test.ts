// The typed configuration: defaults, file < env precedence, clear errors, and no plain tokens kept.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig, parseConfig, sha256Hex, type Config } from '../../src/config/config';
import { settingsOf } from '../../src/config/kinds';
import { sessionKind as smokeAlarm, type SmokeAlarmInput } from '../../src/shared/smoke-alarm';
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
    expect(c.api).toEqual({ host: '127.0.0.1', port: 3000 });
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
});
