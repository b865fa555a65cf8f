// Traces: with an OTLP/HTTP endpoint configured, the built API and worker (own processes, real dev server)
// export one trace per request, from the HTTP request through the Temporal client's call to the workflow
// and its activities. A small receiver on loopback collects the spans; the parent chain is checked.
import '../support/quiet-runtime';
import { type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startTracing, tracer } from '../../src/config/tracing';
import { freePort, type RunningDevServer } from '../../src/dev/temporal-dev-server';
import { eventually, http } from '../support/local-stack';
import { OtlpReceiver } from '../support/otlp-receiver';
import { spawnBuilt } from '../support/processes';
import { deviceToken, freshReadModelPath, ownerToken, testCodec, testHome } from '../support/test-config';
import { startTestTemporalServer } from '../support/test-server';

const root = resolve(__dirname, '../..');
const artifacts = resolve(root, 'test-artifacts');
const main = (role: string) => resolve(root, `dist/${role}/main.js`);
const HOME = 'home-traced';

let server: RunningDevServer;
let receiver: OtlpReceiver;
const processes = new Set<ChildProcess>();
let apiUrl = '';

beforeAll(async () => {
  for (const role of ['api', 'worker'])
    if (!existsSync(main(role))) throw new Error(`${main(role)} is missing: run 'npm run build' first`);
  server = await startTestTemporalServer({ uiPort: false });
  receiver = await new OtlpReceiver().start();
  const dir = mkdtempSync(join(tmpdir(), 'sessionflow-traces-'));
  const configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      alarm: { cancelWindowSeconds: 60, wrapUpTimeoutSeconds: 30 },
      board: { readyTimeoutMs: 300 },
      // One store, shared by the worker that writes it and the API that reads it.
      readModel: { path: freshReadModelPath() },
      homes: { [HOME]: testHome(HOME) },
      codec: testCodec,
    }),
  );
  const apiPort = await freePort();
  apiUrl = `http://127.0.0.1:${apiPort}`;
  const env = {
    SESSIONFLOW_CONFIG_FILE: configFile,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: `sessionflow-traces-${Date.now()}`,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    LOG_FORMAT: 'json',
  };
  spawnBuilt(main('worker'), 'tracing-worker', env, processes);
  spawnBuilt(main('api'), 'tracing-api', { ...env, API_PORT: String(apiPort) }, processes);
  await eventually(
    () =>
      fetch(`${apiUrl}/healthz`).then(
        (r) => r.ok,
        () => false,
      ),
    Boolean,
    60_000,
  );
}, 120_000);

afterAll(async () => {
  for (const p of processes) p.kill('SIGKILL');
  await receiver?.stop();
  await server?.stop();
});

test('When smoke is posted and the alarm cancelled with tracing configured, then each request is one trace from the HTTP span through the client call to the workflow and its activities', async () => {
  const smoke = await http(apiUrl, 'POST', `/homes/${HOME}/smoke`, {
    token: deviceToken(HOME),
    body: { detectorId: 'kitchen' },
  });
  expect(smoke.status).toBe(202);
  const status = () => http(apiUrl, 'GET', `/homes/${HOME}/alarm`, { token: ownerToken(HOME) });
  await eventually(status, (r) => r.body?.siren === 'on', 30_000);
  const cancel = await http(apiUrl, 'POST', `/homes/${HOME}/alarm/cancel`, { token: ownerToken(HOME) });
  expect(cancel.body).toEqual({ state: 'cancelled', outcome: 'cancelled' });

  // Spans leave each process in batches, a workflow's once its workflow task is done: wait for them.
  const chainOf = (name: string) => () =>
    Promise.resolve(receiver.spans.filter((s) => s.name === name).map((s) => receiver.ancestry(s)));
  const opening = [
    'sessionflow-api: POST /homes/:homeId/smoke',
    'sessionflow-api: SignalWithStartWorkflow:smokeAlarmWorkflow',
    'sessionflow-worker: RunWorkflow:smokeAlarmWorkflow',
  ];
  const has = (chain: string[]) => (chains: string[][]) =>
    chains.some((c) => JSON.stringify(c) === JSON.stringify(chain));
  // The siren activity (the embedded gateway) and the owner's notice, each under the workflow's schedule.
  for (const activity of ['setSiren', 'smoke-alarm.notifyOwner'])
    await eventually(
      chainOf(`RunActivity:${activity}`),
      has([
        ...opening,
        `sessionflow-worker: StartActivity:${activity}`,
        `sessionflow-worker: RunActivity:${activity}`,
      ]),
      20_000,
    );
  // The update: HTTP → the client's update → the workflow's handler, in a trace of its own.
  await eventually(
    chainOf('HandleUpdate:cancel'),
    has([
      'sessionflow-api: POST /homes/:homeId/alarm/cancel',
      'sessionflow-api: StartWorkflowUpdate:cancel',
      'sessionflow-worker: HandleUpdate:cancel',
    ]),
    20_000,
  );
  const rootSpan = (name: string) => receiver.spans.find((s) => s.name === name && !s.parentSpanId)!;
  const smokeTrace = rootSpan('POST /homes/:homeId/smoke').traceId;
  expect(rootSpan('POST /homes/:homeId/alarm/cancel').traceId).not.toBe(smokeTrace);
  expect(rootSpan('POST /homes/:homeId/smoke').attributes).toMatchObject({
    'http.route': '/homes/:homeId/smoke',
    'http.response.status_code': 202,
    'temporal.workflow_id': `smoke-alarm:${HOME}`,
  });
  // The API's log line of the request names the same trace.
  const apiLines = readFileSync(join(artifacts, 'tracing-api.log'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(apiLines.find((l) => l.route === '/homes/:homeId/smoke')).toMatchObject({ traceId: smokeTrace });
});

test('When no endpoint is configured, then tracing stays off: no provider starts and spans record nothing', () => {
  expect(startTracing('sessionflow-test', {})).toBeUndefined();
  const span = tracer().startSpan('unused');
  expect(span.isRecording()).toBe(false);
  span.end();
});
