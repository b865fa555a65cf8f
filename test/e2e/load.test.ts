// Load: many concurrent clients (autocannon) on the API with a real worker and dev server for a bounded
// time. Devices post smoke and owners read status across many homes: no 5xx but deliberate 503, every
// accepted event counted in its session; and one token flooding the API gets 429s while others pass.
// LOAD_SECONDS sets the duration (default 10 s).
import '../support/quiet-runtime';
import autocannon from 'autocannon';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startLocalStack, type LocalStack } from '../support/local-stack';
import { deviceToken, ownerToken } from '../support/test-config';
import { eventually, http } from '../support/local-stack';

const SECONDS = Number(process.env.LOAD_SECONDS ?? 10);
const homes = Array.from({ length: 40 }, (_, i) => `load-${i}`);
let stack: LocalStack;
/** autocannon's per-connection context: the home of the current smoke → status pair. */
type Ctx = { homeId: string };

beforeAll(async () => {
  // Long windows: sessions stay open, so every accepted smoke event is counted in one session per home.
  stack = await startLocalStack({ homes, cancelWindowSeconds: 3600 });
});

afterAll(async () => {
  await stack?.stop();
});

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((done, fail) => {
    autocannon(opts, (err: Error | null, result) => (err ? fail(err) : done(result)));
  });
}

test('When 50 clients post smoke and read status for a while, then no 5xx, and every accepted event is in its session', async () => {
  const accepted = new Map<string, number>();
  let next = 0;
  const statuses: Record<number, number> = {};
  const result = await run({
    url: stack.api.url,
    connections: 50,
    duration: SECONDS,
    requests: [
      {
        // Each request picks the next home: devices report smoke, then its owner reads the status.
        setupRequest: (req, ctx: object) => {
          const homeId = homes[next++ % homes.length];
          (ctx as Ctx).homeId = homeId;
          return {
            ...req,
            method: 'POST',
            path: `/homes/${homeId}/smoke`,
            headers: { authorization: `Bearer ${deviceToken(homeId)}`, 'content-type': 'application/json' },
            body: JSON.stringify({ detectorId: 'kitchen' }),
          };
        },
        onResponse: (status, _body, ctx: object) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === 202) accepted.set((ctx as Ctx).homeId, (accepted.get((ctx as Ctx).homeId) ?? 0) + 1);
        },
      },
      {
        setupRequest: (req, ctx: object) => ({
          ...req,
          method: 'GET',
          path: `/homes/${(ctx as Ctx).homeId}/alarm`,
          headers: { authorization: `Bearer ${ownerToken((ctx as Ctx).homeId)}` },
        }),
        onResponse: (status) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
        },
      },
    ],
  });
  const dir = resolve(__dirname, '../../test-artifacts/load');
  mkdirSync(dir, { recursive: true });
  const summary = {
    seconds: SECONDS,
    connections: 50,
    requests: result.requests.total,
    requestsPerSecond: result.requests.average,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
  };
  writeFileSync(resolve(dir, 'summary.json'), JSON.stringify(summary, null, 2));
  process.stderr.write(`load: ${JSON.stringify(summary)}\n`);

  expect(result.errors).toBe(0);
  expect(Object.keys(statuses).filter((s) => Number(s) >= 500 && Number(s) !== 503)).toEqual([]);
  expect(statuses[202]).toBeGreaterThan(homes.length);
  // No lost events: each home's session counted exactly the smoke events the API accepted.
  for (const homeId of homes) {
    const want = accepted.get(homeId) ?? 0;
    await eventually(
      () => http(stack.api.url, 'GET', `/homes/${homeId}/alarm`, { token: ownerToken(homeId) }),
      (r) => r.body?.detectors?.[0]?.events === want,
      20_000,
    );
  }
});

test('When one token floods the API, then it gets 429 with Retry-After while another token still passes', async () => {
  const flooder = 'load-0';
  const result = await run({
    url: `${stack.api.url}/homes/${flooder}/alarm`,
    connections: 20,
    amount: 900, // above the default 600 per minute
    headers: { authorization: `Bearer ${ownerToken(flooder)}` },
  });
  const codes = result.statusCodeStats ?? {};
  expect(codes['429']?.count ?? 0).toBeGreaterThan(0);
  expect(Object.keys(codes).filter((s) => Number(s) >= 500)).toEqual([]);
  const other = await http(stack.api.url, 'GET', '/homes/load-1/alarm', { token: ownerToken('load-1') });
  expect(other.status).toBe(200);
  const limited = await http(stack.api.url, 'GET', `/homes/${flooder}/alarm`, { token: ownerToken(flooder) });
  expect(limited.status).toBe(429);
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
});
