// A real Temporal server on PostgreSQL (history and SQL visibility), as the production shape runs it:
// the databases and schemas set up with Temporal's own SQL tool, the server built from source
// (scripts/install-temporal-server.sh) started with deploy/temporal/sessionflow.yaml, then the namespace
// and our search attributes registered. docker-compose.yml runs the same config file.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Connection, type TLSConfig } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { UserFacingError } from '../config/run-main';
import { projectRoot } from './local-paths';
import { searchAttributeKeys } from '../config/kinds';
import type { RunningPostgres } from './postgres';
import {
  exitedDuringStart,
  freePort,
  spawnServer,
  startRetryingPortRaces,
  stopChild,
  type StartLog,
} from './temporal-dev-server';

const run = promisify(execFile);

/** The server config (a template the server renders from its environment) and its dynamic config. */
export const serverConfigDir = resolve(projectRoot, 'deploy/temporal');
export const serverConfigEnvName = 'sessionflow';
export const dynamicConfigFile = resolve(serverConfigDir, 'dynamicconfig.yaml');
/** How long closed sessions stay visible; compose creates the namespace with the same. */
export const namespaceRetentionHours = 72;
/** Databases of the default store and of SQL visibility, as named in the server config. */
export const temporalDatabases = [
  { name: 'temporal', schema: 'temporal' },
  { name: 'temporal_visibility', schema: 'visibility' },
] as const;

function tool(name: 'temporal-server' | 'temporal-sql-tool'): string {
  const path = resolve(projectRoot, '.tools/bin', name);
  if (existsSync(path)) return path;
  throw new UserFacingError(
    `no ${name} in .tools/bin: run 'bash scripts/setup.sh prod' (builds it with Go, once per machine)`,
  );
}

/** PostgreSQL v12 schema files of the server version we built (copied from its module source). */
export function postgresSchemaDir(): string {
  const dir = resolve(projectRoot, '.tools/temporal-schema/postgresql/v12');
  if (!existsSync(dir)) throw new UserFacingError(`no ${dir}: run 'bash scripts/setup.sh prod'`);
  return dir;
}

/**
 * Both databases with their schemas at the server's version. Idempotent: an existing database is kept,
 * setup-schema only creates the version tables, update-schema applies only the versions not yet applied.
 */
export async function setupTemporalSchemas(pg: RunningPostgres): Promise<void> {
  const sqlTool = tool('temporal-sql-tool');
  const schemaDir = postgresSchemaDir();
  const env = {
    ...process.env,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: pg.host,
    SQL_PORT: String(pg.port),
    SQL_USER: pg.user,
    SQL_PASSWORD: pg.password,
  };
  for (const db of temporalDatabases) {
    const sql = (...args: string[]) => run(sqlTool, ['--db', db.name, ...args], { env });
    await sql('create-database').catch((err: { stderr?: string; stdout?: string }) => {
      if (!/already exists/.test(`${err.stderr}${err.stdout}`)) throw err;
    });
    await sql('setup-schema', '-v', '0.0');
    await sql('update-schema', '-d', resolve(schemaDir, db.schema, 'versioned'));
  }
}

/** Ports the server binds, one gRPC and one membership port per service, plus the frontend's HTTP API. */
export interface ServerPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

/** Temporal's usual ports, as compose publishes them. */
export const defaultServerPorts: ServerPorts = {
  frontend: 7233,
  frontendHttp: 7243,
  frontendMembership: 6933,
  history: 7234,
  historyMembership: 6934,
  matching: 7235,
  matchingMembership: 6935,
  worker: 7239,
  workerMembership: 6939,
};

/** Free ports for every service, the frontend's when given. */
export async function freeServerPorts(frontend?: number): Promise<ServerPorts> {
  const ports = {} as ServerPorts;
  const taken = new Set<number>(frontend ? [frontend] : []);
  for (const key of Object.keys(defaultServerPorts) as (keyof ServerPorts)[]) {
    if (key === 'frontend' && frontend) {
      ports[key] = frontend;
      continue;
    }
    // Membership ports go into a PostgreSQL smallint: below 32768.
    let port = await freePort('127.0.0.1', 32768);
    while (taken.has(port)) port = await freePort('127.0.0.1', 32768);
    taken.add(port);
    ports[key] = port;
  }
  return ports;
}

/**
 * Everything deploy/temporal/sessionflow.yaml reads. The launcher and compose set exactly these keys
 * (checked by test/compose/compose-file.test.ts); only their values differ.
 */
export function temporalServerEnv(opts: {
  db: { host: string; port: number; user: string; password: string };
  ports: ServerPorts;
  bindIp: string;
  broadcastAddress: string;
  dynamicConfigFile: string;
  logLevel?: string;
  /** mTLS on the frontend: a directory made by scripts/make-certs.sh, and the name its clients use. */
  tls?: ServerTls;
}): Record<string, string> {
  const p = opts.ports;
  const certs = opts.tls && serverTlsFiles(opts.tls.dir);
  return {
    TEMPORAL_DB_HOST: opts.db.host,
    TEMPORAL_DB_PORT: String(opts.db.port),
    TEMPORAL_DB_USER: opts.db.user,
    TEMPORAL_DB_PASSWORD: opts.db.password,
    TEMPORAL_BIND_IP: opts.bindIp,
    TEMPORAL_BROADCAST_ADDRESS: opts.broadcastAddress,
    TEMPORAL_FRONTEND_PORT: String(p.frontend),
    TEMPORAL_FRONTEND_HTTP_PORT: String(p.frontendHttp),
    TEMPORAL_FRONTEND_MEMBERSHIP_PORT: String(p.frontendMembership),
    TEMPORAL_HISTORY_PORT: String(p.history),
    TEMPORAL_HISTORY_MEMBERSHIP_PORT: String(p.historyMembership),
    TEMPORAL_MATCHING_PORT: String(p.matching),
    TEMPORAL_MATCHING_MEMBERSHIP_PORT: String(p.matchingMembership),
    TEMPORAL_WORKER_PORT: String(p.worker),
    TEMPORAL_WORKER_MEMBERSHIP_PORT: String(p.workerMembership),
    TEMPORAL_DYNAMIC_CONFIG_FILE: opts.dynamicConfigFile,
    TEMPORAL_LOG_LEVEL: opts.logLevel ?? 'warn',
    // Empty: the template leaves TLS off.
    TEMPORAL_TLS_SERVER_CERT: certs?.serverCert ?? '',
    TEMPORAL_TLS_SERVER_KEY: certs?.serverKey ?? '',
    TEMPORAL_TLS_CA: certs?.ca ?? '',
    TEMPORAL_TLS_SERVER_NAME: opts.tls?.serverName ?? '',
  };
}

export interface ServerTls {
  /** Made by scripts/make-certs.sh: ca.pem, server.pem, client.pem and their keys. */
  dir: string;
  /** A name in the server certificate, which clients check. */
  serverName: string;
}

/** The files scripts/make-certs.sh writes into `dir`. */
export const serverTlsFiles = (dir: string) => ({
  ca: resolve(dir, 'ca.pem'),
  serverCert: resolve(dir, 'server.pem'),
  serverKey: resolve(dir, 'server-key.pem'),
  clientCert: resolve(dir, 'client.pem'),
  clientKey: resolve(dir, 'client-key.pem'),
});

/** Connection options of a client presenting the client certificate from `tls.dir`. */
export function clientTls(tls: ServerTls): TLSConfig {
  const f = serverTlsFiles(tls.dir);
  return {
    serverNameOverride: tls.serverName,
    serverRootCACertificate: readFileSync(f.ca),
    clientCertPair: { crt: readFileSync(f.clientCert), key: readFileSync(f.clientKey) },
  };
}

/** Arguments of `temporal-server` for our config; compose runs the same with its own config path. */
export const temporalServerArgs = (root: string, configDir: string) => [
  '--root',
  root,
  '--config',
  configDir,
  '--env',
  serverConfigEnvName,
  // No authorizer: who may call is decided by mTLS on the frontend (compose, `npm run stack:prod`), or by
  // loopback-only ports (the test suites).
  '--allow-no-auth',
  'start',
];

export interface TemporalServerOptions {
  pg: RunningPostgres;
  /** Frontend port; default a free one. Every other port is a free one too. */
  port?: number;
  namespace?: string;
  logFile?: string;
  readyTimeoutMs?: number;
  /** mTLS on the frontend; `clientTls` then says how to connect. */
  tls?: ServerTls;
  /** How long `port` may stay taken (a stopped server's last connections) before the start gives up. */
  portWaitMs?: number;
}

export interface RunningTemporalServer {
  address: string;
  namespace: string;
  ports: ServerPorts;
  pid: number | undefined;
  stop(): Promise<void>;
  /** SIGKILL, for crash tests; resolves once the process is gone. */
  kill(): Promise<void>;
}

/**
 * Starts the server; again, on other ports, when one of the ports it picked was taken before the server
 * bound it (it then exits at once), or after a wait when the frontend port asked for is still taken.
 */
export async function startTemporalServer(opts: TemporalServerOptions): Promise<RunningTemporalServer> {
  return startRetryingPortRaces(() => startTemporalServerOnce(opts), {
    portWaitMs: opts.portWaitMs,
    onExit: (err) => {
      if (!err.portInUse) return 'give-up';
      const asked = opts.port !== undefined && err.message.includes(`:${opts.port}: bind`);
      return asked ? 'wait-for-port' : 'other-ports';
    },
  });
}

async function startTemporalServerOnce(opts: TemporalServerOptions): Promise<RunningTemporalServer> {
  const binary = tool('temporal-server');
  const ip = '127.0.0.1';
  const namespace = opts.namespace ?? 'default';
  const ports = await freeServerPorts(opts.port);
  const env = temporalServerEnv({
    db: opts.pg,
    ports,
    bindIp: ip,
    broadcastAddress: ip,
    dynamicConfigFile,
    tls: opts.tls,
  });
  const { child, exited, log } = spawnServer(binary, temporalServerArgs('/', serverConfigDir), {
    logFile: opts.logFile,
    env: { ...process.env, ...env },
  });
  const address = `${ip}:${ports.frontend}`;
  try {
    const tls = opts.tls && clientTls(opts.tls);
    await prepareNamespace(address, tls, namespace, opts.readyTimeoutMs ?? 120_000, exited, log);
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  return {
    address,
    namespace,
    ports,
    pid: child.pid,
    stop: () => stopChild(child, exited, { graceMs: 20_000 }),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

function indexedValueType(type: string): temporal.api.enums.v1.IndexedValueType {
  const value = (temporal.api.enums.v1.IndexedValueType as Record<string, unknown>)[
    `INDEXED_VALUE_TYPE_${type}`
  ];
  if (typeof value !== 'number') throw new Error(`search attribute type ${type} has no indexed value type`);
  return value;
}

/**
 * A fresh cluster has no namespace, and workflows that set unregistered search attributes fail; the
 * dev server does both itself, a real server needs them registered. Retried: the server serves only
 * once its membership ring has formed, and a new namespace is usable only after its cache refresh.
 */
async function prepareNamespace(
  address: string,
  tls: TLSConfig | undefined,
  namespace: string,
  timeoutMs: number,
  exited: Promise<number | null>,
  log: StartLog | undefined,
): Promise<void> {
  let died: number | null | undefined;
  void exited.then((code) => (died = code));
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let added = false;
  const wanted = Object.fromEntries(searchAttributeKeys().map((k) => [k.name, indexedValueType(k.type)]));
  while (Date.now() < deadline) {
    if (died !== undefined) throw exitedDuringStart(`temporal server on ${address}`, died, log);
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, tls, connectTimeout: 1000 });
      const call = <T>(fn: () => Promise<T>) => connection!.withDeadline(Date.now() + 5000, fn);
      const known = await call(() => connection!.workflowService.describeNamespace({ namespace })).catch(
        (err: { code?: number }) => {
          if (err.code !== 5) throw err; // 5 = NOT_FOUND
          return undefined;
        },
      );
      if (!known) {
        await call(() =>
          connection!.workflowService.registerNamespace({
            namespace,
            workflowExecutionRetentionPeriod: msToTs(`${namespaceRetentionHours} hours`),
          }),
        ).catch((err: { code?: number }) => {
          if (err.code !== 6) throw err; // 6 = ALREADY_EXISTS
        });
        throw new Error(`namespace ${namespace} registered, waiting for it to be served`);
      }
      const { customAttributes } = await call(() =>
        connection!.operatorService.listSearchAttributes({ namespace }),
      );
      const missing = Object.fromEntries(
        Object.entries(wanted).filter(([name]) => customAttributes?.[name] === undefined),
      );
      if (Object.keys(missing).length === 0) {
        // The listing reads the database; each service sees new attributes only after its namespace
        // cache refreshes (system.namespaceCacheRefreshInterval, 2 s), and until then rejects them.
        if (added) await sleep(5_000);
        return;
      }
      added = true;
      await call(() =>
        connection!.operatorService.addSearchAttributes({ namespace, searchAttributes: missing }),
      );
      throw new Error(`search attributes ${Object.keys(missing).join(', ')} added, checking again`);
    } catch (err) {
      lastError = err;
      await sleep(500);
    } finally {
      await connection?.close();
    }
  }
  throw new Error(`temporal server at ${address} not ready after ${timeoutMs} ms: ${String(lastError)}`);
}
