// Runs `temporal server start-dev` (SQLite file, Web UI, our search attributes registered) as a child process.
// Used by `npm start` and by the tests that need a real server. With no local binary it falls back to the
// SDK's download of the same dev server (needs internet).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
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
  /** How long a start waits for `port` while another socket still holds it (default 60 s). */
  portWaitMs?: number;
  /** SQLite pragmas for the file store (`name=value`); default {@link defaultSqlitePragmas}. */
  sqlitePragmas?: string[];
  /** Remote codec endpoint the Web UI calls to show payloads decoded. */
  uiCodecEndpoint?: string;
  /**
   * Where to record the server's pid (with the db file): the next start finds a server our crashed
   * launcher left behind by it ({@link stopOrphanedDevServer}). Removed again on a clean stop.
   */
  pidFile?: string;
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
  /** SIGKILL, as a power cut would (crash tests); resolves once the process is gone and its port free. */
  kill(): Promise<void>;
}

const projectRoot = resolve(__dirname, '../..');

/**
 * WAL with synchronous=NORMAL: a commit no longer waits for an fsync, which limited session starts to a
 * third on the benchmark (issue 7). A killed server process still loses nothing; only an OS crash or power
 * loss may lose the last commits, acceptable for a dev server.
 */
export const defaultSqlitePragmas = ['journal_mode=wal', 'synchronous=normal'];

/**
 * How often history reads its task queues. The defaults (20 reads/s per shard) suit clusters with hundreds
 * of shards; the dev server has one, so at 20 openings/s a new session's first workflow task waited for
 * the next read: 18 ms of a 45 ms smoke → siren (bench scenario 1's phases; 2–3 ms at 200/s, and smoke →
 * siren p50 28 ms). Fired timers and visibility updates wait the same way. A read takes all that is due,
 * so the cap only bounds the wait; 1,000/s measured no better than 200/s.
 */
const queuePollRates = [
  'history.transferProcessorMaxPollRPS',
  'history.timerProcessorMaxPollRPS',
  'history.visibilityProcessorMaxPollRPS',
];

/**
 * Eager activity dispatch: the worker that completes a workflow task gets the siren activity in the reply,
 * one matching round trip less between smoke and siren (issue 7). Clusters set this in their own config.
 *
 * Buffered queries: while a session has a workflow task pending (one left from before a restart, a timer
 * that just fired), the server holds its status queries until the task is done, but by default only one
 * per workflow; the next gets RESOURCE_EXHAUSTED "consistent query buffer is full", and the SDK retries
 * that after 1 s, 1.7 s, 2.9 s... After a restart the gateway's siren resync takes the one slot, so the
 * user's first status query slept past the API's 5 s deadline: the intermittent 503 of issue 16.
 * A session has a handful of readers (owner, gateway, /ui, operators); 20 leaves room for all of them.
 */
const dynamicConfig = [
  'system.enableActivityEagerExecution=true',
  'history.MaxBufferedQueryCount=20',
  ...queuePollRates.map((key) => `${key}=200`),
];

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

/**
 * A port nothing listens on now, for a server about to be started on it; below `below` when given (the
 * Temporal server keeps membership ports in a PostgreSQL smallint).
 */
export async function freePort(host = '127.0.0.1', below = Infinity): Promise<number> {
  // Below the kernel's ephemeral range: a port from it (what binding port 0 gives) can become the local
  // port of any outgoing connection before our server binds it, and then the server cannot start.
  const limit = Math.min(ephemeralPortsStart() ?? below, below);
  if (Number.isFinite(limit) && limit > FIXED_PORTS_FROM + 2000) {
    for (let attempt = 0; attempt < 1000; attempt++) {
      // Room for the ports a server derives from its own (the dev server's UI: port + 1000).
      const port = FIXED_PORTS_FROM + Math.floor(Math.random() * (limit - 1000 - FIXED_PORTS_FROM));
      const bound = await bindOnce(port, host).catch(() => undefined);
      if (bound !== undefined) return bound;
    }
  }
  if (Number.isFinite(below)) throw new Error(`no free port on ${host} below ${below}`);
  return bindOnce(0, host);
}

const FIXED_PORTS_FROM = 10_000;

/** The first port the kernel hands out to outgoing connections (Linux), if known. */
function ephemeralPortsStart(): number | undefined {
  try {
    const first = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    return Number.isInteger(first) && first > 0 ? first : undefined;
  } catch {
    return undefined;
  }
}

/** Rejects with `hint` when something already listens on host:port. */
export async function assertPortFree(port: number, hint: string, host = '127.0.0.1'): Promise<void> {
  await bindOnce(port, host).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EADDRINUSE' ? new UserFacingError(`port ${port} on ${host} is in use: ${hint}`) : err;
  });
}

export async function startTemporalDevServer(opts: DevServerOptions = {}): Promise<RunningDevServer> {
  return startRetryingPortRaces(() => startDevServerOnce(opts), {
    portWaitMs: opts.portWaitMs,
    // The CLI picks its internal ports itself: any of them (or ours) may be the one taken.
    onExit: (err) => (opts.port === undefined ? 'other-ports' : err.portInUse ? 'wait-for-port' : 'give-up'),
  });
}

/**
 * What to do when a server exits during start: start it again on other ports, wait for a port asked for
 * to be freed, or give up.
 */
export type OnExitDuringStart = (err: ExitedDuringStart) => 'other-ports' | 'wait-for-port' | 'give-up';

/**
 * Starts a server again when it exits during start. A free port we picked (or one a server picks itself)
 * can be taken by another process before the server binds it; the server then exits at once: try other
 * ports, a few times. A port asked for (a launcher's, after it stopped the server a crashed run left
 * behind) can stay taken for a while by that server's last connections (FIN_WAIT2, up to a minute): wait
 * for it.
 */
export async function startRetryingPortRaces<T>(
  startOnce: () => Promise<T>,
  o: { onExit: OnExitDuringStart; portWaitMs?: number },
): Promise<T> {
  const waitUntil = Date.now() + (o.portWaitMs ?? PORT_RELEASE_WAIT_MS);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce();
    } catch (err) {
      if (!(err instanceof ExitedDuringStart)) throw err;
      const next = o.onExit(err);
      if (next === 'other-ports' && attempt < START_ATTEMPTS) continue;
      if (next === 'wait-for-port' && Date.now() < waitUntil) {
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      throw err;
    }
  }
}

const START_ATTEMPTS = 3;
const PORT_RELEASE_WAIT_MS = 60_000;

/** A server we started exited before it served; `portInUse` when its log says a port was taken. */
export class ExitedDuringStart extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
  }
}

/** Where a server's log is, and how long it was when this start began (the log is appended to). */
export interface StartLog {
  file: string;
  from: number;
}

/**
 * The error for a server that exited during start: the port it found taken, if its log says so, and the
 * end of what it logged during this start.
 */
export function exitedDuringStart(
  server: string,
  code: number | null,
  log: StartLog | undefined,
): ExitedDuringStart {
  const text = log ? logSince(log) : '';
  // Go's net error, inside a JSON or logfmt log line: "listen tcp 127.0.0.1:7233: bind: address already in use".
  const taken = /[^"\n]*address already in use/.exec(text)?.[0].trim();
  return new ExitedDuringStart(
    `${server} exited during start (code ${code})` +
      (taken ? `: ${taken}` : '') +
      (log ? `; the end of its log (${log.file}):\n${text.slice(-4000)}` : ''),
    taken !== undefined,
  );
}

async function startDevServerOnce(opts: DevServerOptions): Promise<RunningDevServer> {
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
  if (uiPort !== undefined && opts.uiCodecEndpoint) {
    // The endpoint URL carries the codec viewer's token: never on argv (any local user's `ps` shows it).
    // The CLI reads flag values from its environment file, so the URL goes there, readable by us only.
    const envFile = writeCliEnvFile(opts.dbFile, { 'ui-codec-endpoint': opts.uiCodecEndpoint });
    args.push('--env-file', envFile, '--env', CLI_ENV_NAME);
  }
  for (const key of searchAttributeKeys()) args.push('--search-attribute', `${key.name}=${key.type}`);
  if (opts.pidFile) await stopOrphanedDevServer({ pidFile: opts.pidFile, dbFile: opts.dbFile });

  const { child, exited, log } = spawnServer(binary, args, { logFile: opts.logFile });
  const pidFile = opts.pidFile;
  if (pidFile && child.pid !== undefined) writePidFile(pidFile, child.pid, binary, opts.dbFile);
  const forgetPid = () => {
    if (pidFile && readPidFile(pidFile)?.pid === child.pid) rmSync(pidFile, { force: true });
  };
  void exited.then(forgetPid);
  const address = `${ip}:${port}`;
  try {
    await waitUntilServing(address, namespace, opts.readyTimeoutMs ?? 60_000, exited, log);
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
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

const CLI_ENV_NAME = 'sessionflow';

function logSince({ file, from }: StartLog): string {
  try {
    return readFileSync(file).subarray(from).toString('utf8');
  } catch {
    return '(no log)';
  }
}

/** Writes the CLI's environment-settings file (flag values it reads at start), 0600, beside the db file. */
function writeCliEnvFile(dbFile: string | undefined, flags: Record<string, string>): string {
  const dir = dbFile ? dirname(dbFile) : mkdtempSync(resolve(tmpdir(), 'sessionflow-temporal-'));
  const file = resolve(dir, 'temporal-cli-env.yaml');
  // JSON strings are valid YAML double-quoted scalars: no YAML library needed at run time.
  const lines = Object.entries(flags).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  writeFileSync(file, `env:\n  ${CLI_ENV_NAME}:\n${lines.join('\n')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // writeFileSync's mode applies only when it creates the file
  return file;
}

interface PidRecord {
  pid: number;
  binary: string;
  dbFile?: string;
  /** The process that started it: while the server is still its child, that stack is alive. */
  parent?: number;
}

function writePidFile(file: string, pid: number, binary: string, dbFile: string | undefined): void {
  const record: PidRecord = { pid, binary, dbFile, parent: process.pid };
  writeFileSync(file, JSON.stringify(record) + '\n', { mode: 0o600 });
}

function readPidFile(file: string): PidRecord | undefined {
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<PidRecord>;
    return typeof raw.pid === 'number' && typeof raw.binary === 'string' ? (raw as PidRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie (a zombie keeps its pid until reaped, but holds no port). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is the first.
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Whether `pid` is still the server we recorded: the same binary running `server start-dev` on the same
 * db file. A pid the kernel has since given to another process never matches, so it is left alone.
 */
function isOurServer(record: PidRecord): boolean {
  let argv: string[];
  let exe: string;
  try {
    argv = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0');
    exe = realpathSync(`/proc/${record.pid}/exe`);
  } catch {
    return false;
  }
  const sameBinary = exe === safeRealpath(record.binary) || argv[0] === record.binary;
  const dbAt = argv.indexOf('--db-filename');
  const sameDb = record.dbFile === undefined || (dbAt > 0 && argv[dbAt + 1] === record.dbFile);
  return sameBinary && argv[1] === 'server' && argv[2] === 'start-dev' && sameDb;
}

function safeRealpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** The parent pid of a running process (1, or a subreaper, once its parent has died). */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isRunning(pid);
}

/**
 * After a launcher died without stopping its server (SIGKILL, power loss of a VM snapshot...) that server
 * lives on, detached, holding the ports and the db file. If the pid file names a process that really is
 * our server on this db file, and whoever started it is gone, stop it: SIGTERM, SIGKILL after `graceMs`.
 * A server whose launcher still runs belongs to a live stack: refused, never killed.
 * Returns the pid it stopped, if any.
 */
export async function stopOrphanedDevServer(opts: {
  pidFile: string;
  dbFile?: string;
  graceMs?: number;
}): Promise<number | undefined> {
  const record = readPidFile(opts.pidFile);
  if (!record) {
    rmSync(opts.pidFile, { force: true });
    return undefined;
  }
  if (
    !isRunning(record.pid) ||
    !isOurServer(record) ||
    (opts.dbFile !== undefined && record.dbFile !== opts.dbFile)
  ) {
    rmSync(opts.pidFile, { force: true }); // stale: the server is gone, or the pid is someone else's now
    return undefined;
  }
  // Still the child of the process that started it (not reparented to init): a live stack, not ours to stop.
  const parent = parentOf(record.pid);
  if (parent !== undefined && parent === record.parent && parent !== process.pid) {
    throw new UserFacingError(
      `a Temporal dev server (pid ${record.pid}) started by another running process (pid ${parent}) ` +
        `already uses ${record.dbFile ?? 'this data dir'}; stop that one first`,
    );
  }
  process.kill(record.pid, 'SIGTERM');
  if (!(await waitForExit(record.pid, opts.graceMs ?? 10_000))) {
    process.kill(record.pid, 'SIGKILL');
    await waitForExit(record.pid, 5_000);
  }
  rmSync(opts.pidFile, { force: true });
  return record.pid;
}

/**
 * Starts a server process in its own process group (Ctrl-C reaches our launcher, which then stops things
 * in order), its output appended to `logFile` (or discarded). A detached child outlives a crashed parent,
 * so it is signalled (`killSignal`) when this process exits. `exited` resolves with its exit code.
 */
export function spawnServer(
  binary: string,
  args: string[],
  opts: { logFile?: string; killSignal?: NodeJS.Signals } & Pick<SpawnOptions, 'env' | 'uid' | 'gid'> = {},
): { child: ChildProcess; exited: Promise<number | null>; log: StartLog | undefined } {
  const { logFile, killSignal = 'SIGTERM', ...spawnOpts } = opts;
  let out: number | 'ignore' = 'ignore';
  let log: StartLog | undefined;
  if (logFile) {
    mkdirSync(dirname(logFile), { recursive: true });
    out = openSync(logFile, 'a');
    log = { file: logFile, from: statSync(logFile).size };
  }
  const child = spawn(binary, args, { ...spawnOpts, stdio: ['ignore', out, out], detached: true });
  if (typeof out === 'number') closeSync(out);
  const killOnExit = () => child.kill(killSignal);
  process.once('exit', killOnExit);
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      process.removeListener('exit', killOnExit);
      r(code);
    }),
  );
  return { child, exited, log };
}

/**
 * Asks a server process to stop (`ask`, SIGTERM by default) and forces it (`force`) if it is still there
 * after `graceMs`; resolves once it is gone.
 */
export async function stopChild(
  child: ChildProcess,
  exited: Promise<number | null>,
  {
    graceMs = 10_000,
    ask = 'SIGTERM',
    force = 'SIGKILL',
  }: { graceMs?: number; ask?: NodeJS.Signals; force?: NodeJS.Signals } = {},
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(ask);
  const timer = setTimeout(() => child.kill(force), graceMs);
  await exited;
  clearTimeout(timer);
}

async function waitUntilServing(
  address: string,
  namespace: string,
  timeoutMs: number,
  exited: Promise<number | null>,
  log: StartLog | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let died: number | null | undefined;
  void exited.then((code) => (died = code));
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (died !== undefined) throw exitedDuringStart(`temporal dev server on ${address}`, died, log);
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
    kill: () => env.teardown(),
  };
}
