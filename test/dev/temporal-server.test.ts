// The production shape's Temporal server (PostgreSQL) when a port it needs is taken as it starts: a port
// asked for is waited for, as the dev server does (test/dev/temporal-dev-server.test.ts); the start gives up
// after that wait naming the address and quoting the server's log. Real server, real PostgreSQL.
import '../support/quiet-runtime';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { startPostgres, type RunningPostgres } from '../../src/dev/postgres';
import { setupTemporalSchemas, startTemporalServer } from '../../src/dev/temporal-server';
import { holdPort } from '../support/hold-port';

const artifacts = resolve(__dirname, '../../test-artifacts');
let dataDir: string;
let pg: RunningPostgres;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  dataDir = mkdtempSync(join(artifacts, 'server-ports-'));
  chmodSync(dataDir, 0o755); // PostgreSQL's unprivileged user (when we are root) must reach into it
  pg = await startPostgres({
    dataDir: join(dataDir, 'postgres'),
    password: randomBytes(12).toString('base64url'),
    logFile: join(dataDir, 'postgres.log'),
  });
  await setupTemporalSchemas(pg);
}, 180_000);

afterAll(async () => {
  await pg?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('When the frontend port asked for is freed while the server waits for it, then the server starts on that port and serves', async () => {
  const { port, release } = await holdPort();
  const logFile = join(dataDir, 'freed.log');
  // Freed once the first start has exited on it: the start then waits and tries again.
  const freed = new Promise<void>((done) => setTimeout(done, 4000)).then(release);
  const server = await startTemporalServer({ pg, port, logFile, portWaitMs: 90_000 });
  try {
    await freed;
    expect(server.address).toBe(`127.0.0.1:${port}`);
    const connection = await Connection.connect({ address: server.address });
    try {
      const ns = await connection.workflowService.describeNamespace({ namespace: server.namespace });
      expect(ns.namespaceInfo?.name).toBe(server.namespace);
    } finally {
      await connection.close();
    }
  } finally {
    await server.stop();
  }
}, 180_000);

test('When the frontend port asked for stays taken, then the start gives up after its wait, names the address and quotes the end of the server log', async () => {
  const { port, release } = await holdPort();
  const logFile = join(dataDir, 'taken.log');
  try {
    const err = await startTemporalServer({ pg, port, logFile, portWaitMs: 2000 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toContain(`temporal server on 127.0.0.1:${port} exited during start`);
    expect(err!.message).toContain(logFile);
    expect(err!.message).toContain(`127.0.0.1:${port}: bind: address already in use`);
  } finally {
    await release();
  }
}, 180_000);
