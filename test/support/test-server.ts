// Which Temporal server the stack tests run against: the dev server (SQLite, default) or, with
// SESSIONFLOW_TEST_SERVER=postgres (`npm run test:prod`), the production shape's real server on a
// private PostgreSQL — so the same session suites prove both stores.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startProdCluster } from '../../src/dev/prod-cluster';
import {
  startTemporalDevServer,
  type DevServerOptions,
  type RunningDevServer,
} from '../../src/dev/temporal-dev-server';

export type TestServerKind = 'dev' | 'postgres';

export function testServerKind(): TestServerKind {
  const kind = process.env.SESSIONFLOW_TEST_SERVER ?? 'dev';
  if (kind !== 'dev' && kind !== 'postgres')
    throw new Error(`SESSIONFLOW_TEST_SERVER must be dev or postgres, not ${kind}`);
  return kind;
}

const artifacts = resolve(__dirname, '../../test-artifacts');

/**
 * A fresh PostgreSQL cluster and Temporal server per call (a few seconds), so a test file that stops
 * or kills its server affects no other. The dev server's SQLite and Web UI options do not apply.
 */
export async function startPostgresTestServer(opts: { namespace?: string } = {}): Promise<RunningDevServer> {
  mkdirSync(artifacts, { recursive: true });
  const dataDir = mkdtempSync(join(artifacts, 'postgres-'));
  // mkdtemp makes it 0700; PostgreSQL's unprivileged user (when we are root) must reach into it.
  chmodSync(dataDir, 0o755);
  const cluster = await startProdCluster({
    dataDir,
    pgPassword: randomBytes(12).toString('base64url'),
    namespace: opts.namespace,
  });
  return {
    address: cluster.address,
    uiUrl: undefined,
    namespace: cluster.namespace,
    via: 'binary',
    pid: cluster.server.pid,
    async stop() {
      await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
    kill: () => cluster.server.kill(),
  };
}

/** The server of the selected kind; `opts` only shape the dev server. */
export function startTestTemporalServer(opts: DevServerOptions = {}): Promise<RunningDevServer> {
  return testServerKind() === 'postgres'
    ? startPostgresTestServer({ namespace: opts.namespace })
    : startLoggedDevServer(opts);
}

/**
 * A dev server whose log is kept in test-artifacts while it runs, so a server that fails to start says
 * why; the log goes with a clean stop.
 */
async function startLoggedDevServer(opts: DevServerOptions): Promise<RunningDevServer> {
  if (opts.logFile) return startTemporalDevServer(opts);
  mkdirSync(artifacts, { recursive: true });
  const dir = mkdtempSync(join(artifacts, 'dev-server-'));
  const server = await startTemporalDevServer({ ...opts, logFile: join(dir, 'temporal.log') });
  return {
    ...server,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
