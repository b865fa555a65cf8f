// Operating it: the smoke-alarm story played through the built API, worker and gateway, each its own
// process with its own log file, against a real dev server. Then: one grep for the session's workflow id
// finds its story in every log, each line naming kind, key, workflow and run id; the API's /metrics and
// the SDK metrics endpoints of worker and gateway count what happened.
import '../support/quiet-runtime';
import { type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { dataConverterFor } from '../../src/codec/aes-gcm-codec';
import { parseConfig } from '../../src/config/config';
import { freePort, type RunningDevServer } from '../../src/dev/temporal-dev-server';
import { eventually, http } from '../support/local-stack';
import { spawnBuilt } from '../support/processes';
import { scrape, total, type Sample } from '../support/prometheus';
import { deviceToken, freshReadModelPath, ownerToken, testCodec, testHome } from '../support/test-config';
import { startTestTemporalServer } from '../support/test-server';

const root = resolve(__dirname, '../..');
const artifacts = resolve(root, 'test-artifacts');
const main = (role: string) => resolve(root, `dist/${role}/main.js`);
const HOME = 'home-obs';
const WORKFLOW_ID = `smoke-alarm:${HOME}`;
const GATEWAY_ID = 'edge-obs';
const REQUEST_ID = 'req-observability-test-1';

let server: RunningDevServer;
let client: Client;
const processes = new Set<ChildProcess>();
const ports = { api: 0, apiGatewayHttp: 0, gatewayHttp: 0, workerMetrics: 0, gatewayMetrics: 0 };
const apiUrl = () => `http://127.0.0.1:${ports.api}`;
const logOf = (name: string) => readFileSync(join(artifacts, `observability-${name}.log`), 'utf8');
/** JSON log lines of a process (pino), skipping anything else it printed. */
const linesOf = (name: string): Record<string, unknown>[] =>
  logOf(name)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  for (const role of ['api', 'worker', 'gateway'])
    if (!existsSync(main(role))) throw new Error(`${main(role)} is missing: run 'npm run build' first`);
  server = await startTestTemporalServer({ uiPort: false });
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  const taskQueue = `sessionflow-obs-${Date.now()}`;
  const config = {
    alarm: { cancelWindowSeconds: 60, wrapUpTimeoutSeconds: 30 },
    board: { readyTimeoutMs: 300, reconnectDelayMs: 100 },
    // One store, shared by the worker that writes it and the API that reads it.
    readModel: { path: freshReadModelPath() },
    homes: {
      [HOME]: testHome(HOME, {
        gateway: GATEWAY_ID,
        board: { type: 'simulated' },
        detectors: { kitchen: { pin: 2, debounceMs: 20 }, hall: { pin: 3, debounceMs: 20 } },
      }),
    },
    codec: testCodec,
  };
  const dir = mkdtempSync(join(tmpdir(), 'sessionflow-obs-'));
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config));
  const common = {
    SESSIONFLOW_CONFIG_FILE: configFile,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
  };
  spawnBuilt(
    main('worker'),
    'observability-worker',
    { ...common, SESSIONFLOW_METRICS_ADDRESS: `127.0.0.1:${ports.workerMetrics}` },
    processes,
  );
  spawnBuilt(
    main('gateway'),
    'observability-gateway',
    {
      ...common,
      GATEWAY_ID,
      GATEWAY_HTTP_PORT: String(ports.gatewayHttp),
      SESSIONFLOW_METRICS_ADDRESS: `127.0.0.1:${ports.gatewayMetrics}`,
    },
    processes,
  );
  spawnBuilt(main('api'), 'observability-api', { ...common, API_PORT: String(ports.api) }, processes);
  const parsed = parseConfig({ ...config, temporal: { address: server.address, taskQueue } });
  client = new Client({
    connection: await Connection.connect({ address: server.address }),
    dataConverter: dataConverterFor(parsed),
  });
  const up = (url: string) => () =>
    fetch(url).then(
      (r) => r.ok,
      () => false,
    );
  await eventually(up(`${apiUrl()}/healthz`), Boolean, 60_000);
  await eventually(up(`http://127.0.0.1:${ports.gatewayHttp}/status`), Boolean, 60_000);
  await eventually(up(`http://127.0.0.1:${ports.workerMetrics}/metrics`), Boolean, 60_000);
}, 120_000);

afterAll(async () => {
  for (const p of processes) p.kill('SIGKILL');
  await client?.connection.close();
  await server?.stop();
});

let apiMetrics: Sample[];
let workerMetrics: Sample[];
let gatewayMetrics: Sample[];

test('When the smoke-alarm story plays through gateway, API and worker, then it ends resolved', async () => {
  // A detector at the gateway opens the session; a second one, reported through the API, escalates it.
  const press = await fetch(`http://127.0.0.1:${ports.gatewayHttp}/homes/${HOME}/inputs/kitchen/press`, {
    method: 'POST',
  });
  expect(press.status).toBe(202);
  const status = () => http(apiUrl(), 'GET', `/homes/${HOME}/alarm`, { token: ownerToken(HOME) });
  await eventually(status, (r) => r.body?.state === 'waiting-for-cancel', 30_000);

  const smoke = await fetch(`${apiUrl()}/homes/${HOME}/smoke`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${deviceToken(HOME)}`,
      'content-type': 'application/json',
      'x-request-id': REQUEST_ID,
    },
    body: JSON.stringify({ detectorId: 'hall' }),
  });
  expect(smoke.status).toBe(202);
  expect(smoke.headers.get('x-request-id')).toBe(REQUEST_ID);
  await eventually(status, (r) => r.body?.state === 'escalated', 30_000);

  const cancel = await http(apiUrl(), 'POST', `/homes/${HOME}/alarm/cancel`, { token: ownerToken(HOME) });
  expect(cancel.status).toBe(409);
  expect(cancel.body.error.code).toBe('too-late');
  expect(cancel.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  const noToken = await http(apiUrl(), 'GET', `/homes/${HOME}/alarm`);
  expect(noToken.status).toBe(401);
  const clear = await http(apiUrl(), 'POST', `/homes/${HOME}/alarm/all-clear`, { token: ownerToken(HOME) });
  expect(clear.body).toEqual({ state: 'resolved', outcome: 'resolved' });
  const final = await client.workflow.getHandle(WORKFLOW_ID).result();
  expect(final).toMatchObject({ state: 'resolved', siren: 'off' });

  apiMetrics = await scrape(`${apiUrl()}/metrics`);
  workerMetrics = await eventually(
    () => scrape(`http://127.0.0.1:${ports.workerMetrics}/metrics`),
    (m) => total(m, 'sessionflow_sessions_ended_total', { kind: 'smoke-alarm' }) >= 1,
    20_000,
  );
  gatewayMetrics = await scrape(`http://127.0.0.1:${ports.gatewayMetrics}/metrics`);
}, 120_000);

test('When /metrics is scraped after the story, then the API counts requests by route pattern and status, refusals by code and the session calls by kind', () => {
  const requests = (route: string, method: string, status: string) =>
    total(apiMetrics, 'sessionflow_http_requests_total', { route, method, status });
  expect(requests('/homes/:homeId/smoke', 'POST', '202')).toBe(1);
  expect(requests('/homes/:homeId/alarm/cancel', 'POST', '409')).toBe(1);
  expect(requests('/homes/:homeId/alarm/all-clear', 'POST', '200')).toBe(1);
  expect(requests('/homes/:homeId/alarm', 'GET', '401')).toBe(1);
  expect(requests('/homes/:homeId/alarm', 'GET', '200')).toBeGreaterThanOrEqual(2);
  // No raw path ever becomes a label.
  expect(apiMetrics.filter((s) => s.labels.route?.includes(HOME))).toEqual([]);
  expect(total(apiMetrics, 'sessionflow_http_refusals_total', { code: 'too-late', status: '409' })).toBe(1);
  expect(total(apiMetrics, 'sessionflow_http_refusals_total', { code: 'unauthorized', status: '401' })).toBe(
    1,
  );
  expect(total(apiMetrics, 'sessionflow_http_unavailable_total')).toBe(0);
  expect(
    total(apiMetrics, 'sessionflow_session_events_total', { kind: 'smoke-alarm', event: 'smokeDetected' }),
  ).toBe(1);
  const requestsOf = (request: string, result: string) =>
    total(apiMetrics, 'sessionflow_session_requests_total', { kind: 'smoke-alarm', request, result });
  expect(requestsOf('cancel', 'too-late')).toBe(1);
  expect(requestsOf('allClear', 'answered')).toBe(1);
  expect(total(apiMetrics, 'sessionflow_http_request_duration_seconds_count')).toBeGreaterThanOrEqual(6);
  // The read model was checked against Temporal at the API's start: its lag is that check's age.
  const lag = apiMetrics.find(
    (s) => s.name === 'sessionflow_read_model_lag_seconds' && !Number.isNaN(s.value),
  );
  expect(lag?.value).toBeGreaterThanOrEqual(0);
  expect(lag?.value).toBeLessThan(120);
});

test("When the worker's and the gateway's SDK metrics are scraped, then the session's lifecycle and its notifications are counted", () => {
  const kind = { kind: 'smoke-alarm' };
  expect(total(workerMetrics, 'sessionflow_sessions_opened_total', kind)).toBe(1);
  expect(
    total(workerMetrics, 'sessionflow_session_transitions_total', {
      ...kind,
      from: 'waiting-for-cancel',
      to: 'escalated',
    }),
  ).toBe(1);
  expect(total(workerMetrics, 'sessionflow_sessions_ended_total', { ...kind, outcome: 'resolved' })).toBe(1);
  const notifications = (channel: string) =>
    total(workerMetrics, 'sessionflow_notifications_total', { channel, provider: 'log', result: 'sent' });
  expect(notifications('sms')).toBe(1);
  expect(notifications('call')).toBe(1);
  expect(notifications('notify')).toBeGreaterThanOrEqual(1);
  expect(total(workerMetrics, 'sessionflow_notifications_total', { result: 'failed' })).toBe(0);
  // The SDK's own: the worker ran workflow tasks, the gateway ran the siren activities.
  expect(total(workerMetrics, 'temporal_workflow_completed_total')).toBeGreaterThanOrEqual(1);
  expect(total(gatewayMetrics, 'temporal_activity_execution_latency_seconds_count')).toBeGreaterThanOrEqual(
    2,
  );
});

test("When the logs are grepped for the session's workflow id, then each process tells its part, every line naming kind, key, workflow and (in the worker) run id", async () => {
  const story = (name: string) => linesOf(name).filter((l) => JSON.stringify(l).includes(WORKFLOW_ID));
  // The SDK hands a workflow's log lines over after its activation: the last one may trail the result.
  await eventually(
    () => Promise.resolve(story('worker').filter((l) => l.msg === 'session moved').length),
    (n) => n === 2,
  );
  const api = story('api');
  const worker = story('worker');
  const gateway = story('gateway');
  for (const line of [...api, ...worker, ...gateway])
    expect(line).toMatchObject({ kind: 'smoke-alarm', key: HOME, workflowId: WORKFLOW_ID });

  // API: one line per request that acted on the session, with its request id.
  expect(api.find((l) => l.requestId === REQUEST_ID)).toMatchObject({
    msg: 'request',
    route: '/homes/:homeId/smoke',
    status: 202,
    runId: expect.any(String),
  });
  expect(api.map((l) => `${l.method as string} ${l.route as string} ${l.status as number}`)).toEqual(
    expect.arrayContaining([
      'POST /homes/:homeId/smoke 202',
      'POST /homes/:homeId/alarm/cancel 409',
      'POST /homes/:homeId/alarm/all-clear 200',
    ]),
  );
  for (const l of api) expect(l.requestId).toEqual(expect.any(String));

  // Worker: the workflow's own lines (through the SDK's logger) and the activities' (notifications).
  const runIds = new Set(worker.map((l) => l.runId));
  expect(runIds.size).toBe(1);
  expect([...runIds][0]).toEqual(expect.any(String));
  const messages = worker.map((l) => l.msg);
  expect(messages).toEqual(
    expect.arrayContaining(['session opened', 'session moved', 'notification (sms)', 'notification (call)']),
  );
  expect(worker.filter((l) => l.msg === 'session moved').map((l) => l.to)).toEqual(['escalated', 'resolved']);

  // Gateway: the detector's event, and the siren commands it ran for the session.
  expect(gateway.map((l) => l.msg)).toEqual(expect.arrayContaining(['event sent', 'siren set']));
  for (const l of gateway.filter((g) => g.msg === 'siren set')) expect(l.runId).toEqual(expect.any(String));
});

/** PromQL's own words; every other identifier in an expression is a metric name. */
const promqlWords = new Set(['sum', 'max', 'min', 'avg', 'count', 'rate', 'increase', 'histogram_quantile']);

/** Metric names a PromQL expression (or a `label_values(metric, label)` query) reads. */
function metricNamesIn(expr: string): string[] {
  const labelValues = /^label_values\((\w+),\s*\w+\)$/.exec(expr);
  if (labelValues) return [labelValues[1]];
  const stripped = expr
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ''); // grouping labels
  return [...stripped.matchAll(/[A-Za-z_:][\w:]*/g)].map(([w]) => w).filter((w) => !promqlWords.has(w));
}

test('When the Grafana dashboard is read, then every metric its panels and variables query exists in a real scrape of the API and the worker', () => {
  const dashboard = JSON.parse(readFileSync(resolve(root, 'deploy/grafana/sessionflow.json'), 'utf8')) as {
    panels: { title: string; targets?: { expr: string }[] }[];
    templating: { list: { definition?: string }[] };
  };
  const queries = [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...dashboard.templating.list.flatMap((v) => (v.definition ? [v.definition] : [])),
  ];
  const referenced = new Set(queries.flatMap(metricNamesIn));
  expect(referenced.size).toBeGreaterThanOrEqual(15);
  const scraped = new Set([...apiMetrics, ...workerMetrics].map((s) => s.name));
  expect([...referenced].filter((name) => !scraped.has(name))).toEqual([]);
  // Every panel but the rows draws something.
  const empty = dashboard.panels.filter((p) => p.targets !== undefined && p.targets.length === 0);
  expect(empty.map((p) => p.title)).toEqual([]);
});
