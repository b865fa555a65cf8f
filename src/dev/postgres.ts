// A private PostgreSQL for the production-shape stack: its own data dir and loopback port, never the
// system cluster. Debian's binaries (linked as .tools/pg-bin by scripts/install-postgres.sh). PostgreSQL
// refuses to run as root, so as root the server runs as an unprivileged user that owns the data dir.
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserFacingError } from '../config/run-main';
import { projectRoot } from './local-paths';
import { freePort, spawnServer, stopChild } from './temporal-dev-server';

export interface PostgresOptions {
  dataDir: string;
  /** Loopback port; default a free one. */
  port?: number;
  /** Superuser the server is initialised with (and Temporal connects as). */
  user?: string;
  /** Password of that user; fixed at initdb, so reuse the same one with the same data dir. */
  password: string;
  logFile?: string;
  /** Directory holding initdb/postgres/pg_isready; default .tools/pg-bin, then SESSIONFLOW_PG_BIN. */
  binDir?: string;
  readyTimeoutMs?: number;
}

export interface RunningPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  pid: number | undefined;
  /** Fast shutdown (SIGINT): open transactions are rolled back, everything committed stays. */
  stop(): Promise<void>;
}

/** Whom PostgreSQL runs as when we are root; scripts/install-postgres.sh creates this user. */
const pgUserWhenRoot = () => process.env.SESSIONFLOW_PG_USER ?? 'sessionflow-pg';

export function findPgBinDir(explicit?: string): string {
  const candidates = [explicit, process.env.SESSIONFLOW_PG_BIN, resolve(projectRoot, '.tools/pg-bin')];
  for (const dir of candidates) if (dir && existsSync(resolve(dir, 'postgres'))) return dir;
  throw new UserFacingError(
    "no PostgreSQL binaries in .tools/pg-bin: run 'bash scripts/setup.sh prod' (installs Debian's postgresql)",
  );
}

/** uid/gid to run PostgreSQL as: ourselves, or the unprivileged user when we are root. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const name = pgUserWhenRoot();
  const id = (flag: string) => {
    const res = spawnSync('id', [flag, name], { encoding: 'utf8' });
    if (res.status !== 0)
      throw new UserFacingError(
        `PostgreSQL will not run as root and user '${name}' does not exist: run 'bash scripts/setup.sh prod'`,
      );
    return Number(res.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}

function chownTree(path: string, owner: { uid: number; gid: number } | undefined): void {
  if (owner) execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, path]);
}

/** initdb once per data dir: password auth on loopback TCP, UTF-8. */
function initDataDir(
  bin: string,
  dataDir: string,
  user: string,
  password: string,
  owner?: { uid: number; gid: number },
) {
  if (existsSync(resolve(dataDir, 'PG_VERSION'))) return;
  // Only the data dir itself is private: its parents must stay traversable for the unprivileged user.
  mkdirSync(dirname(dataDir), { recursive: true });
  mkdirSync(dataDir, { mode: 0o700 });
  chownTree(dataDir, owner);
  // The password reaches initdb through a file only its user can read, never the command line.
  const pwFile = `${dataDir}.pwfile`;
  writeFileSync(pwFile, password + '\n', { mode: 0o600 });
  chownTree(pwFile, owner);
  try {
    const res = spawnSync(
      resolve(bin, 'initdb'),
      ['-D', dataDir, '-U', user, `--pwfile=${pwFile}`, '--auth-host=scram-sha-256', '--auth-local=peer'],
      { ...owner, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } },
    );
    if (res.status !== 0) throw new Error(`initdb failed (${res.status}): ${res.stderr || res.stdout}`);
  } finally {
    rmSync(pwFile, { force: true });
  }
}

export async function startPostgres(opts: PostgresOptions): Promise<RunningPostgres> {
  const bin = findPgBinDir(opts.binDir);
  const owner = runAs();
  const user = opts.user ?? 'temporal';
  const host = '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  initDataDir(bin, opts.dataDir, user, opts.password, owner);

  // In the foreground as our child (not pg_ctl's daemon), so it never outlives the stack that started
  // it; TCP on loopback only, no Unix socket (the system's socket dir is not ours to write).
  const args = ['-D', opts.dataDir, '-p', String(port), '-c', `listen_addresses=${host}`];
  args.push('-c', 'unix_socket_directories=', '-c', 'max_connections=200');
  const { child, exited } = spawnServer(resolve(bin, 'postgres'), args, {
    ...owner,
    logFile: opts.logFile,
    killSignal: 'SIGINT',
  });
  try {
    await waitUntilAccepting(bin, host, port, opts.readyTimeoutMs ?? 30_000, exited);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    host,
    port,
    user,
    password: opts.password,
    pid: child.pid,
    stop: () => stopPostgres(child, exited),
  };
}

/** PostgreSQL's fast shutdown (SIGINT), then its immediate one (SIGQUIT). */
const stopPostgres = (child: ChildProcess, exited: Promise<number | null>) =>
  stopChild(child, exited, { graceMs: 15_000, ask: 'SIGINT', force: 'SIGQUIT' });

async function waitUntilAccepting(
  bin: string,
  host: string,
  port: number,
  timeoutMs: number,
  exited: Promise<number | null>,
): Promise<void> {
  let died: number | null | undefined;
  void exited.then((code) => (died = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (died !== undefined) throw new Error(`PostgreSQL exited during start (code ${died}); see its log`);
    const res = spawnSync(resolve(bin, 'pg_isready'), ['-h', host, '-p', String(port), '-t', '1']);
    if (res.status === 0) return;
    await sleep(200);
  }
  throw new Error(`PostgreSQL on ${host}:${port} not ready after ${timeoutMs} ms`);
}
