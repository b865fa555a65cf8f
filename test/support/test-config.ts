// Builds real configurations for tests: homes with owner/device tokens and the webhook channel.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Config } from '../../src/config/config';

/** A sent-log file of its own, in a new temporary directory. */
export const freshSentLogPath = () => join(mkdtempSync(join(tmpdir(), 'sessionflow-sent-')), 'sent.db');

/** A read-model file of its own: a store left by another test's server would answer for its sessions. */
export const freshReadModelPath = () =>
  join(mkdtempSync(join(tmpdir(), 'sessionflow-read-model-')), 'read-model.db');

export const ownerToken = (homeId: string) => `owner-token-of-${homeId}-0123456789`;
export const deviceToken = (homeId: string) => `device-token-of-${homeId}-0123456789`;

/** A fixed test key (never used outside tests) and a viewer token for the codec endpoint. */
export const codecViewerToken = 'codec-viewer-token-0123456789';
export const testCodec = {
  keys: [{ id: 'test-key-1', key: Buffer.alloc(32, 7).toString('base64') }],
  endpoint: {
    tokens: [{ name: 'web-ui', role: 'codec-viewer', token: codecViewerToken }],
    corsOrigins: ['http://127.0.0.1:8233'],
  },
};
export const staffToken = 'staff-token-of-the-kitchen-0123456789';
export const customerToken = (name: string) => `customer-token-of-${name}-0123456789`;
export const testCustomers = ['ada', 'bob'];
export const operatorToken = 'operator-token-of-the-centre-0123456789';

/** The shop side: one staff token and two customers. */
export const testTokens = [
  { name: 'kitchen-staff', role: 'staff', token: staffToken },
  ...testCustomers.map((name) => ({ name, role: 'customer', token: customerToken(name) })),
];

/** The pizza kind's settings for tests (its defaults, guests welcome, plus what a test sets). */
export function testPizza(extra: Record<string, unknown> = {}) {
  // Guests on (off by default) and limits no test story reaches: the guest-limit tests set their own.
  return {
    guestOrders: true,
    guestLimits: { perAddressPerHour: 100_000, perPhonePerHour: 100_000 },
    ...extra,
  };
}

/** Detector ids every test home has configured. */
export const testDetectors = ['kitchen', 'hall', 'bedroom', 'attic', 'garage'];

export function testHome(homeId: string, extra: Record<string, unknown> = {}) {
  return {
    owner: { name: `Owner of ${homeId}`, phone: '+15550000001' },
    emergency: { phone: '+15550000911', address: `1 Test Street, ${homeId}` },
    siren: { pin: 13, component: 'relay' },
    // The detectors tests name: the API refuses smoke from any other id.
    detectors: Object.fromEntries(testDetectors.map((id, i) => [id, { pin: 2 + i }])),
    tokens: [
      { name: `${homeId}-owner`, role: 'owner', token: ownerToken(homeId) },
      { name: `${homeId}-detector`, role: 'device', token: deviceToken(homeId) },
    ],
    ...extra,
  };
}

export function testConfig(opts: {
  taskQueue: string;
  homes: string[];
  webhookUrl?: string;
  /** The webhook channel's own timeout (default 5 s). */
  webhookTimeoutMs?: number;
  address?: string;
  cancelWindowSeconds?: number;
  overrides?: Record<string, unknown>;
}): Config {
  return parseConfig({
    temporal: { address: opts.address ?? '127.0.0.1:7233', taskQueue: opts.taskQueue, callTimeoutMs: 3000 },
    alarm: { cancelWindowSeconds: opts.cancelWindowSeconds ?? 60, wrapUpTimeoutSeconds: 30 },
    // A fresh sent log per config: tests reuse idempotency keys, and a record left by an earlier run would
    // (rightly) stop the send.
    notifications: opts.webhookUrl
      ? {
          channel: 'webhook',
          webhook: { url: opts.webhookUrl, timeoutMs: opts.webhookTimeoutMs },
          sentLog: { path: freshSentLogPath() },
        }
      : { channel: 'log' },
    board: { readyTimeoutMs: 300 },
    readModel: { path: freshReadModelPath() },
    homes: Object.fromEntries(opts.homes.map((h) => [h, testHome(h)])),
    codec: testCodec,
    pizza: testPizza(),
    tokens: testTokens,
    tokenSecret: 'test-session-token-secret-0123456789abcdef',
    operators: [{ name: 'test-operator', role: 'operator', token: operatorToken }],
    // Every test calls from 127.0.0.1: only the tests of the per-address limit run with a small one.
    rateLimit: { unauthenticatedPerMinute: 100_000 },
    ...opts.overrides,
  });
}
