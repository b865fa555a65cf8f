// Load: many concurrent clients (autocannon) on the API with a real worker and dev server for a bounded
// time. Devices post smoke and owners read status across many homes: no 5xx but deliberate 503, every
// accepted event counted in its session; and one token flooding the API gets 429s while others pass.
// LOAD_REQUESTS sets the size (default 1200 requests, about 10 s here).
import '../support/quiet-runtime';
import autocannon from 'autocannon';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startLocalStack, type LocalStack } from '../support/local-stack';
import { deviceToken, ownerToken } from '../support/test-config';
import { http } from '../support/local-stack';

// A request count rather than a duration: autocannon then waits for every answer, so each accepted
// event is known (a timed run drops the answers still in flight when it stops).
const REQUESTS = Number(process.env.LOAD_REQUESTS ?? 1200);
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

/** autocannon hands response headers over keyed by their raw (case-preserved) names. */
function headerValue(headers: unknown, name: string): string | undefined {
  const found = Object.entries((headers ?? {}) as Record<string, string>).find(
    ([k]) => k.toLowerCase() === name,
  );
  return found?.[1];
}

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((done, fail) => {
    autocannon(opts, (err: Error | null, result) => (err ? fail(err) : done(result)));
  });
}

test('When 50 clients post smoke and read status for a while, then no 5xx, and every accepted event is in its session', async () => {
  const accepted = new Map<string, number>();
  // A 503 on smoke means "not confirmed": the event may or may not have been taken.
  const unconfirmed = new Map<string, number>();
  let next = 0;
  const statuses: Record<number, number> = {};
  const result = await run({
    url: stack.api.url,
    connections: 50,
    amount: REQUESTS,
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
          const { homeId } = ctx as Ctx;
          if (status === 202) accepted.set(homeId, (accepted.get(homeId) ?? 0) + 1);
          if (status === 503) unconfirmed.set(homeId, (unconfirmed.get(homeId) ?? 0) + 1);
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
    seconds: result.duration,
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
  // No lost events: each home's session counted every smoke event the API accepted, and none it refused.
  await new Promise((r) => setTimeout(r, 2000));
  const mismatches: string[] = [];
  for (const homeId of homes) {
    const want = accepted.get(homeId) ?? 0;
    const r = await http(stack.api.url, 'GET', `/homes/${homeId}/alarm`, { token: ownerToken(homeId) });
    const events = (r.body?.detectors?.[0]?.events as number | undefined) ?? 0;
    if (events < want || events > want + (unconfirmed.get(homeId) ?? 0))
      mismatches.push(`${homeId}: ${events} events, ${want} accepted`);
  }
  expect(mismatches).toEqual([]);
});

test('When one token floods the API, then it gets 429 with Retry-After while another token still passes', async () => {
  const flooder = 'load-0';
  const retryAfter: number[] = [];
  const result = await run({
    url: `${stack.api.url}/homes/${flooder}/alarm`,
    connections: 20,
    amount: 900, // above the default 600 per minute
    headers: { authorization: `Bearer ${ownerToken(flooder)}` },
    requests: [
      {
        onResponse: (status, _body, _ctx, headers) => {
          if (status === 429) retryAfter.push(Number(headerValue(headers, 'retry-after')));
        },
      },
    ],
  });
  const codes = result.statusCodeStats ?? {};
  expect(codes['429']?.count ?? 0).toBeGreaterThan(0);
  expect(Object.keys(codes).filter((s) => Number(s) >= 500)).toEqual([]);
  // Straight after the flood: this token is still over its budget, another token is not.
  const [limited, other] = await Promise.all([
    http(stack.api.url, 'GET', `/homes/${flooder}/alarm`, { token: ownerToken(flooder) }),
    http(stack.api.url, 'GET', '/homes/load-1/alarm', { token: ownerToken('load-1') }),
  ]);
  expect(other.status).toBe(200);
  expect(limited.status).toBeLessThan(500);
  expect(retryAfter.length).toBe(codes['429']?.count);
  expect(Math.min(...retryAfter)).toBeGreaterThanOrEqual(1);
});
