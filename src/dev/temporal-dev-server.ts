// Runs `temporal server start-dev` (SQLite file, Web UI, our search attributes registered) as a child process.
// Used by `npm start` and by the tests that need a real server. With no local binary it falls back to the
// SDK's download of the same dev server (needs internet).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { UserFacingError } from '../config/run-main';
import { searchAttributeKeys } from '../config/kinds';

export interface DevServerOptions {
  /** SQLite file; sessions survive a restart on the same file. Omit for an in-memory server. */
  dbFile?: string;
  ip?: string;
  port?: number;
  /** Web UI port; default port + 1000. `false` runs headless. */
  uiPort?: number | false;
  namespace?: string;
  /** Server log file (default: discarded). */
  logFile?: string;
  /** Explicit path of the `temporal` binary; default `.tools/bin/temporal`, then PATH. */
  binary?: string;
  readyTimeoutMs?: number;
  /** SQLite pragmas for the file store (`name=value`); default {@link defaultSqlitePragmas}. */
  sqlitePragmas?: string[];
  /** Remote codec endpoint the Web UI calls to show payloads decoded. */
  uiCodecEndpoint?: string;
}

export interface RunningDevServer {
  address: string;
  uiUrl: string | undefined;
  namespace: string;
  /** How it was started: our binary, or the SDK's download. */
  via: 'binary' | 'sdk-download';
  /** The server process (binary only): the benchmark reads its memory use. */
  pid?: number;
  stop(): Promise<void>;
  /** SIGKILL, for crash tests. */
  kill(): void;
}

const projectRoot = resolve(__dirname, '../..');

/**
 * WAL with synchronous=NORMAL: a commit no longer waits for an fsync, which limited session starts to a
 * third on the benchmark (issue 7). A killed server process still loses nothing; only an OS crash or power
 * loss may lose the last commits, acceptable for a dev server.
 */
export const defaultSqlitePragmas = ['journal_mode=wal', 'synchronous=normal'];

/**
 * Eager activity dispatch: the worker that completes a workflow task gets the siren activity in the reply,
 * one matching round trip less between smoke and siren (issue 7). Clusters set this in their own config.
 */
const dynamicConfig = ['system.enableActivityEagerExecution=true'];

export function findTemporalBinary(explicit?: string): string | undefined {
  if (explicit) return explicit;
  const local = resolve(projectRoot, '.tools/bin/temporal');
  if (existsSync(local)) return local;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = resolve(dir, 'temporal');
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Binds host:port (0 = any), closes again and returns the port that was bound. */
function bindOnce(port: number, host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, host, () => {
      const bound = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(bound));
    });
  });
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return bindOnce(0, host);
}

/** Rejects with `hint` when something already listens on host:port. */
export async function assertPortFree(port: number, hint: string, host = '127.0.0.1'): Promise<void> {
  await bindOnce(port, host).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EADDRINUSE' ? new UserFacingError(`port ${port} on ${host} is in use: ${hint}`) : err;
  });
}

export async function startTemporalDevServer(opts: DevServerOptions = {}): Promise<RunningDevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(ip));
  const uiPort = opts.uiPort === false ? undefined : (opts.uiPort ?? port + 1000);
  const namespace = opts.namespace ?? 'default';
  const binary = findTemporalBinary(opts.binary);
  if (opts.dbFile) mkdirSync(dirname(opts.dbFile), { recursive: true });
  const tuningArgs = [
    ...(opts.dbFile
      ? (opts.sqlitePragmas ?? defaultSqlitePragmas).flatMap((p) => ['--sqlite-pragma', p])
      : []),
    ...dynamicConfig.flatMap((kv) => ['--dynamic-config-value', kv]),
  ];
  if (!binary) return startViaSdkDownload({ ...opts, ip, port, uiPort, namespace }, tuningArgs);

  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--namespace', namespace];
  args.push('--log-level', 'warn');
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  args.push(...tuningArgs);
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort));
  if (uiPort !== undefined && opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  for (const key of searchAttributeKeys()) args.push('--search-attribute', `${key.name}=${key.type}`);

  let out: number | 'ignore' = 'ignore';
  if (opts.logFile) {
    mkdirSync(dirname(opts.logFile), { recursive: true });
    out = openSync(opts.logFile, 'a');
  }
  // Own process group: Ctrl-C reaches our launcher, which then stops things in order.
  const child = spawn(binary, args, { stdio: ['ignore', out, out], detached: true });
  if (typeof out === 'number') closeSync(out);
  // Detached children outlive a crashed parent: make sure ours goes down with us.
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      process.removeListener('exit', killOnExit);
      r(code);
    }),
  );
  const address = `${ip}:${port}`;
  try {
    await waitUntilServing(address, namespace, opts.readyTimeoutMs ?? 60_000, exited);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    address,
    uiUrl: uiPort === undefined ? undefined : `http://${ip}:${uiPort}`,
    namespace,
    via: 'binary',
    pid: child.pid,
    stop: () => stopChild(child, exited),
    kill: () => {
      child.kill('SIGKILL');
    },
  };
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function waitUntilServing(
  address: string,
  namespace: string,
  timeoutMs: number,
  exited: Promise<number | null>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let died: number | null | undefined;
  void exited.then((code) => (died = code));
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (died !== undefined) throw new Error(`temporal dev server exited during start (code ${died})`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.withDeadline(Date.now() + 2000, () =>
          connection.workflowService.describeNamespace({ namespace }),
        );
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`temporal dev server at ${address} not ready after ${timeoutMs} ms: ${String(lastError)}`);
}

async function startViaSdkDownload(
  opts: DevServerOptions & { ip: string; port: number; uiPort: number | undefined; namespace: string },
  extraArgs: string[],
): Promise<RunningDevServer> {
  // Only reached without a local binary: the SDK downloads the same CLI (works with internet access).
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      ip: opts.ip,
      port: opts.port,
      namespace: opts.namespace,
      dbFilename: opts.dbFile,
      ui: opts.uiPort !== undefined,
      uiPort: opts.uiPort,
      searchAttributes: searchAttributeKeys(),
      extraArgs,
    },
  }).catch((err: unknown) => {
    throw new UserFacingError(
      'no Temporal CLI in .tools/bin or on PATH, and the SDK could not download one ' +
        `(${(err as Error).message.split('\n')[0]}). Run 'npm run setup' (builds it with Go) or install the Temporal CLI.`,
    );
  });
  return {
    address: `${opts.ip}:${opts.port}`,
    uiUrl: opts.uiPort === undefined ? undefined : `http://${opts.ip}:${opts.uiPort}`,
    namespace: opts.namespace,
    via: 'sdk-download',
    stop: () => env.teardown(),
    kill: () => void env.teardown(),
  };
}
