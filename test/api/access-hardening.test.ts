// Access hardening at the HTTP edge: security headers, per-token rate limit (429, nothing signalled),
// 405 for known paths with the wrong method, and the OpenAPI document built from the route schemas.
import '../support/quiet-runtime';
import { WorkflowNotFoundError } from '@temporalio/client';
import { startWebServer, stopWebServer, type RunningWebServer } from '../../src/api/server';
import { createTemporalGateway, type TemporalGateway } from '../../src/api/temporal-gateway';
import { smokeAlarmWorkflowId } from '../../src/shared/smoke-alarm';
import { http, startLocalStack, type LocalStack } from '../support/local-stack';
import { testLogger } from '../support/silent-logger';
import { deviceToken, ownerToken } from '../support/test-config';

let stack: LocalStack;
let limited: RunningWebServer;
let limitedTemporal: TemporalGateway;
const PER_MINUTE = 3;
/** APIs with a small per-address limit for requests without a valid token: direct, and behind a proxy. */
const STRANGERS_PER_MINUTE = 5;
let guarded: RunningWebServer;
let proxied: RunningWebServer;

beforeAll(async () => {
  stack = await startLocalStack({ homes: ['home-h', 'home-flood'] });
  // The same stack behind an API with a tiny per-token limit.
  const config = { ...stack.config, rateLimit: { ...stack.config.rateLimit, perTokenPerMinute: PER_MINUTE } };
  limitedTemporal = createTemporalGateway(config);
  limited = await startWebServer({ config, temporal: limitedTemporal, logger: testLogger }, 0);
  const strangers = { ...stack.config.rateLimit, unauthenticatedPerMinute: STRANGERS_PER_MINUTE };
  guarded = await startWebServer(
    { config: { ...stack.config, rateLimit: strangers }, temporal: limitedTemporal, logger: testLogger },
    0,
  );
  proxied = await startWebServer(
    {
      config: {
        ...stack.config,
        rateLimit: strangers,
        api: { ...stack.config.api, trustProxy: ['loopback'] },
      },
      temporal: limitedTemporal,
      logger: testLogger,
    },
    0,
  );
});

afterAll(async () => {
  for (const api of [limited, guarded, proxied]) if (api) await stopWebServer(api);
  await limitedTemporal?.close();
  await stack?.stop();
});

describe('access hardening', () => {
  test('When any route answers, then it carries the security headers and no X-Powered-By', async () => {
    for (const path of ['/healthz', '/nope', '/homes/home-h/alarm']) {
      const res = await http(stack.api.url, 'GET', path);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  test('When one token sends more than its limit, then 429 with Retry-After, other tokens pass and nothing more is signalled', async () => {
    const owner = (home: string) =>
      http(limited.url, 'GET', `/homes/${home}/alarm`, { token: ownerToken(home) });
    for (let i = 0; i < PER_MINUTE; i++) expect((await owner('home-flood')).status).toBe(404);
    const refused = await owner('home-flood');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.body.error).toEqual({ code: 'rate-limited', message: expect.any(String) });
    // The device token of the same home has its own budget; and a refused smoke starts nothing.
    const device = () =>
      http(limited.url, 'POST', '/homes/home-flood/smoke', { token: deviceToken('home-flood'), body: {} });
    for (let i = 0; i < PER_MINUTE; i++) expect((await device()).status).toBe(400);
    expect((await device()).status).toBe(429);
    await expect(
      stack.client.workflow.getHandle(smokeAlarmWorkflowId('home-flood')).describe(),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError);
    // The default limit is far above normal use: the unlimited API still answers this token.
    expect(
      (await http(stack.api.url, 'GET', '/homes/home-flood/alarm', { token: ownerToken('home-flood') }))
        .status,
    ).toBe(404);
  });

  test('When requests without a valid token exceed the per-address limit, then 429 with Retry-After whatever token or X-Forwarded-For they carry, and a valid token still passes', async () => {
    const call = (path: string, headers: Record<string, string>, method = 'GET', body?: unknown) =>
      fetch(`${guarded.url}${path}`, {
        method,
        headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    const strangers = [
      () => call('/homes/home-h/alarm', {}),
      () => call('/homes/home-h/alarm', { authorization: 'Bearer not-a-known-token-0123456789' }),
      () => call('/sessions', { authorization: 'Basic abc' }),
      () =>
        call('/codec/decode', { authorization: 'Bearer unknown-viewer-0123456789' }, 'POST', {
          payloads: [],
        }),
      () => call('/homes/home-h/smoke', { authorization: 'Bearer guessed-device-0123456789' }, 'POST', {}),
    ];
    for (const stranger of strangers) expect((await stranger()).status).toBe(401);
    for (const stranger of strangers) {
      const refused = await stranger();
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate-limited');
    }
    // X-Forwarded-For is not believed unless a proxy is trusted: a new "address" per request gets nowhere.
    expect((await call('/homes/home-h/alarm', { 'x-forwarded-for': '198.51.100.7' })).status).toBe(429);
    const owner = await call('/homes/home-h/alarm', { authorization: `Bearer ${ownerToken('home-h')}` });
    expect(owner.status).toBe(404);
  });

  test('When a trusted proxy forwards for several clients, then each client address has its own budget', async () => {
    const from = (client: string) =>
      fetch(`${proxied.url}/homes/home-h/alarm`, { headers: { 'x-forwarded-for': client } });
    for (let i = 0; i < STRANGERS_PER_MINUTE; i++) expect((await from('203.0.113.1')).status).toBe(401);
    expect((await from('203.0.113.1')).status).toBe(429);
    expect((await from('203.0.113.2')).status).toBe(401);
  });

  test('When a known path is called with the wrong method, then 405 with Allow', async () => {
    const res = await http(stack.api.url, 'DELETE', '/homes/home-h/smoke');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(res.body.error.code).toBe('method-not-allowed');
    expect((await http(stack.api.url, 'PUT', '/homes/home-h/alarm')).headers.get('allow')).toBe('GET, HEAD');
  });

  test('When the OpenAPI document is fetched, then it is 3.1 and lists every route with its schemas and refusals', async () => {
    const { status, body } = await http(stack.api.url, 'GET', '/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    const smoke = body.paths['/homes/{homeId}/smoke'].post;
    expect(smoke.requestBody.content['application/json'].schema).toMatchObject({
      type: 'object',
      required: ['detectorId'],
      additionalProperties: false,
    });
    expect(Object.keys(smoke.responses).sort()).toEqual(
      ['202', '400', '401', '403', '404', '413', '415', '422', '429', '503'].sort(),
    );
    expect(smoke.parameters[0].schema.pattern).toBe('^[A-Za-z0-9._-]{1,64}$');
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining([
        '/homes/{homeId}/alarm',
        '/homes/{homeId}/alarm/cancel',
        '/homes/{homeId}/alarm/all-clear',
        '/codec/decode',
        '/healthz',
        '/readyz',
      ]),
    );
  });
});
