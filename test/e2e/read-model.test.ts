// The read model, with real processes: a worker and an API (built entrypoints) on the dev server,
// sharing the read-model file. Status reads answer from it (no worker needed), it converges after an API
// restart, a worker kill and publications lost to a locked store, and the change stream resumes after a
// dropped connection without missing or repeating a change.
import '../support/quiet-runtime';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { Client, Connection } from '@temporalio/client';
import { freePort, startTemporalDevServer, type RunningDevServer } from '../../src/dev/temporal-dev-server';
import { SessionState } from '../../src/shared/search-attributes';
import { EventStreamClient } from '../support/event-stream';
import { eventually, http, untilPolled } from '../support/local-stack';
import { killed, spawnBuilt } from '../support/processes';
import { deviceToken, ownerToken, testCodec, testHome } from '../support/test-config';

const root = resolve(__dirname, '../..');
const workerMain = resolve(root, 'dist/worker/main.js');
const apiMain = resolve(root, 'dist/api/main.js');
const HOME = 'home-rm';
const OTHER = 'home-other';
const WINDOW_S = 2;

let dir: string;
let server: RunningDevServer;
let client: Client;
let connection: Connection;
let configFile: string;
let readModelPath: string;
const taskQueue = `read-model-${randomUUID()}`;
const children = new Set<ChildProcess>();
const streams: EventStreamClient[] = [];

const startWorker = (name: string) =>
  spawnBuilt(
    workerMain,
    `read-model-${name}`,
    { SESSIONFLOW_CONFIG_FILE: configFile, TEMPORAL_TASK_QUEUE: taskQueue },
    children,
  );

async function startApi(name: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawnBuilt(
    apiMain,
    `read-model-${name}`,
    { SESSIONFLOW_CONFIG_FILE: configFile, TEMPORAL_TASK_QUEUE: taskQueue, API_PORT: String(port) },
    children,
  );
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    () =>
      fetch(`${url}/healthz`).then(
        (r) => r.status,
        () => 0,
      ),
    (s) => s === 200,
    20_000,
  );
  return { child, url };
}

const status = (url: string, home = HOME, query = '') =>
  http(url, 'GET', `/homes/${home}/alarm${query}`, { token: ownerToken(home) });

function stream(url: string, token: string, lastEventId?: string): EventStreamClient {
  const s = new EventStreamClient(`${url}/sessions/changes`, {
    authorization: `Bearer ${token}`,
    ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
  });
  streams.push(s);
  return s;
}

beforeAll(async () => {
  for (const main of [workerMain, apiMain])
    if (!existsSync(main)) throw new Error(`${main} is missing: run 'npm run build' first (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), 'sessionflow-read-model-'));
  readModelPath = join(dir, 'read-model.db');
  server = await startTemporalDevServer({
    dbFile: join(dir, 'temporal.db'),
    port: await freePort(),
    uiPort: false,
  });
  configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      temporal: { address: server.address, taskQueue, callTimeoutMs: 3000 },
      alarm: { cancelWindowSeconds: WINDOW_S },
      readModel: { path: readModelPath, syncSeconds: 1 },
      homes: { [HOME]: testHome(HOME), [OTHER]: testHome(OTHER) },
      codec: testCodec,
    }),
  );
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
});

afterAll(async () => {
  await Promise.all(streams.map((s) => s.close()));
  await Promise.all([...children].map((c) => killed(c)));
  await connection?.close();
  await server?.stop();
});

test('When the API restarts, a worker is killed and publications are lost to a locked store, then status reads still answer from the read model and converge, and a resumed change stream misses nothing', async () => {
  let worker = startWorker('worker-1');
  const api1 = await startApi('api-1');
  // The window counts from the smoke's acceptance: a worker still starting would find it run out.
  await untilPolled(server.address, 'default', taskQueue);

  const live = stream(api1.url, ownerToken(HOME));
  expect(await live.open()).toBe(200);
  const foreign = stream(api1.url, ownerToken(OTHER));
  expect(await foreign.open()).toBe(200);

  const opened = await http(api1.url, 'POST', `/homes/${HOME}/smoke`, {
    token: deviceToken(HOME),
    body: { detectorId: 'kitchen' },
  });
  expect(opened.status).toBe(202);
  expect(opened.body.state).toBe('waiting-for-cancel');
  const sounding = await eventually(
    () => status(api1.url),
    (r) => r.body?.siren === 'on',
  );
  expect(sounding.headers.get('etag')).toBe(`"${sounding.body.version}"`);
  await live.until((events) =>
    events.some((e) => e.event === 'change' && JSON.parse(e.data).status.siren === 'on'),
  );
  const seenBeforeDrop = live.lastId!;

  // Kill the worker and the API (SIGKILL): the window runs out with no worker to escalate.
  await killed(worker);
  await killed(api1.child);
  await live.close();

  // A restarted API answers at once from the store, with no worker to answer a query.
  const api2 = await startApi('api-2');
  const afterRestart = await status(api2.url);
  expect(afterRestart.status).toBe(200);
  expect(afterRestart.body).toMatchObject({ state: 'waiting-for-cancel', siren: 'on' });
  expect(afterRestart.body.version).toBeGreaterThanOrEqual(sounding.body.version);

  // The store is locked while the next worker escalates: every publication of the escalation is lost.
  const lock = new Database(readModelPath);
  lock.exec('BEGIN EXCLUSIVE');
  try {
    worker = startWorker('worker-2');
    const handle = client.workflow.getHandle(`smoke-alarm:${HOME}`);
    await eventually(
      () => handle.describe(),
      (d) => d.typedSearchAttributes.get(SessionState) === 'escalated',
      30_000,
    );
    await eventually(
      () => status(api2.url, HOME, '?consistent=true'),
      (r) => r.body?.steps?.length >= 4 && r.body.steps.every((s: { status: string }) => s.status === 'done'),
      30_000,
    );
    expect((await status(api2.url)).body.state).toBe('waiting-for-cancel');
  } finally {
    lock.exec('COMMIT');
    lock.close();
  }
  // Nothing changes in the session now; the API's sync brings the read model up to Temporal's state.
  const repaired = await eventually(
    () => status(api2.url),
    (r) => r.body?.state === 'escalated',
    15_000,
  );
  expect(repaired.body.steps.every((s: { status: string }) => s.status === 'done')).toBe(true);
  expect(repaired.body.version).toBeGreaterThan(afterRestart.body.version);

  // The change stream, resumed after the last change it delivered, gets what it missed, once each.
  const resumed = stream(api2.url, ownerToken(HOME), seenBeforeDrop);
  expect(await resumed.open()).toBe(200);
  await resumed.until((events) =>
    events.some((e) => e.event === 'change' && JSON.parse(e.data).state === 'escalated'),
  );

  // Read your writes: the answer of all-clear is given after the read model has it.
  const cleared = await http(api2.url, 'POST', `/homes/${HOME}/alarm/all-clear`, { token: ownerToken(HOME) });
  expect(cleared.status).toBe(200);
  expect((await status(api2.url)).body.state).toBe('resolved');
  await resumed.until((events) =>
    events.some((e) => e.event === 'change' && JSON.parse(e.data).state === 'resolved'),
  );

  const ids = resumed.events.filter((e) => e.event === 'change').map((e) => Number(e.id));
  expect(ids[0]).toBeGreaterThan(Number(seenBeforeDrop));
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
  expect(new Set(ids).size).toBe(ids.length);
  const states = resumed.of<{ state: string; key: string }>('change').map((c) => c.state);
  expect(states).toEqual(expect.arrayContaining(['escalated', 'resolved']));
  // Another home's owner saw none of it.
  expect(foreign.events.filter((e) => e.event === 'change')).toHaveLength(0);
});
