// The example flow a Node-RED user imports (packages/node-red-contrib-sessionflow/examples/smoke-alarm.json),
// loaded into a started Node-RED runtime with our nodes, plays the smoke-alarm story against the running
// stack: smoke, status, a refused all-clear, cancel — all through Node-RED's own HTTP endpoints.
import '../support/quiet-runtime';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { smokeAlarmWorkflowId } from '../../src/shared/smoke-alarm';
import { eventually, startLocalStack, type LocalStack } from '../support/local-stack';
import { deviceToken, ownerToken } from '../support/test-config';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const RED = require('node-red');

const HOME = 'nr-flow-home';
const PACKAGE = resolve(__dirname, '../../packages/node-red-contrib-sessionflow');
let stack: LocalStack;
let server: Server;
let url: string;

beforeAll(async () => {
  stack = await startLocalStack({ homes: [HOME] });
  // As a user would after importing: the servers point at the API and hold a device and an owner token.
  const userDir = mkdtempSync(join(tmpdir(), 'sessionflow-node-red-'));
  const flow = JSON.parse(readFileSync(join(PACKAGE, 'examples/smoke-alarm.json'), 'utf8')).map(
    (n: { type: string }) => (n.type === 'sessionflow-server' ? { ...n, url: stack.api.url } : n),
  );
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flow));
  writeFileSync(
    join(userDir, 'flows_cred.json'),
    JSON.stringify({ detector: { token: deviceToken(HOME) }, owner: { token: ownerToken(HOME) } }),
  );
  server = createServer((req, res) => (req.url?.startsWith('/red') ? RED.httpAdmin : RED.httpNode)(req, res));
  RED.init(server, {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: false,
    httpAdminRoot: '/red',
    httpNodeRoot: '/',
    nodesDir: [join(PACKAGE, 'nodes')],
    logging: { console: { level: 'warn', metrics: false, audit: false } },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
  });
  await RED.start();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await RED?.stop();
  await new Promise((done) => server?.close(done));
  await stack?.stop();
});

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const parsed: any = res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  return { status: res.status, body: parsed };
};

test('When the example flow runs in Node-RED, then smoke opens the alarm, the status shows it, an early all-clear is refused and cancel ends it', async () => {
  // The runtime loads our nodes from the package and starts the flow (no missing node types).
  const types = RED.nodes
    .getNodeList()
    .map((n: { types: string[] }) => n.types)
    .flat();
  expect(types).toEqual(
    expect.arrayContaining(['sessionflow-event', 'sessionflow-request', 'sessionflow-status']),
  );

  const smoke = await eventually(
    () => call('POST', `/alarm/${HOME}/smoke`, { detectorId: 'kitchen' }),
    (r) => r.status !== 404,
  );
  expect(smoke.status).toBe(202);
  expect(smoke.body).toMatchObject({ sessionId: smokeAlarmWorkflowId(HOME) });

  const status = await eventually(
    () => call('GET', `/alarm/${HOME}`),
    (r) => r.body.siren === 'on',
  );
  expect(status.body).toMatchObject({ homeId: HOME, state: 'waiting-for-cancel' });
  expect(status.body.detectors.map((d: { detectorId: string }) => d.detectorId)).toEqual(['kitchen']);

  const early = await call('POST', `/alarm/${HOME}/all-clear`);
  expect(early).toMatchObject({ status: 409, body: { code: 'not-escalated' } });

  const cancelled = await call('POST', `/alarm/${HOME}/cancel`);
  expect(cancelled).toMatchObject({ status: 200, body: { state: 'cancelled', outcome: 'cancelled' } });
  const result = await stack.client.workflow.getHandle(smokeAlarmWorkflowId(HOME)).result();
  expect(result).toMatchObject({ state: 'cancelled', endedBy: `${HOME}-owner` });
});
