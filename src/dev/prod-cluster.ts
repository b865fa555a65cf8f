// The cluster store of the production shape, in one call: PostgreSQL (private data dir and port), the
// Temporal schemas, and a Temporal server on them with the namespace and search attributes registered.
// `npm run stack:prod` runs it with the app processes; the tests run the session suites against it.
import { resolve } from 'node:path';
import { startPostgres, type RunningPostgres } from './postgres';
import {
  setupTemporalSchemas,
  startTemporalServer,
  type RunningTemporalServer,
  type ServerTls,
} from './temporal-server';

export interface ProdClusterOptions {
  /** Holds `postgres/` (the data dir) and the logs. */
  dataDir: string;
  /** The PostgreSQL password; must stay the same for the life of the data dir. */
  pgPassword: string;
  pgPort?: number;
  temporalPort?: number;
  namespace?: string;
  /** mTLS on the Temporal frontend (certificates from scripts/make-certs.sh). */
  tls?: ServerTls;
}

export interface RunningProdCluster {
  pg: RunningPostgres;
  server: RunningTemporalServer;
  address: string;
  namespace: string;
  /** Milliseconds of each start step, for the report and the bench. */
  timings: { postgresMs: number; schemaMs: number; serverMs: number };
  /** The server first (it drains its shards), then PostgreSQL. */
  stop(): Promise<void>;
}

export async function startProdCluster(opts: ProdClusterOptions): Promise<RunningProdCluster> {
  const t0 = Date.now();
  const pg = await startPostgres({
    dataDir: resolve(opts.dataDir, 'postgres'),
    port: opts.pgPort,
    password: opts.pgPassword,
    logFile: resolve(opts.dataDir, 'postgres.log'),
  });
  const t1 = Date.now();
  let server: RunningTemporalServer;
  try {
    await setupTemporalSchemas(pg);
    const t2 = Date.now();
    server = await startTemporalServer({
      pg,
      port: opts.temporalPort,
      namespace: opts.namespace,
      logFile: resolve(opts.dataDir, 'temporal-server.log'),
      tls: opts.tls,
    });
    const t3 = Date.now();
    return {
      pg,
      server,
      address: server.address,
      namespace: server.namespace,
      timings: { postgresMs: t1 - t0, schemaMs: t2 - t1, serverMs: t3 - t2 },
      async stop() {
        await server.stop();
        await pg.stop();
      },
    };
  } catch (err) {
    await pg.stop();
    throw err;
  }
}
