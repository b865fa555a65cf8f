// `npm start` after a crash of `npm start`: the launcher is SIGKILLed (its detached Temporal server lives
// on, holding the ports), and the next start must clean up after it by itself and find the sessions again.
// Also what the launcher leaves readable by others: its data dir, its config, the server's command line.
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, stopOrphanedDevServer } from '../../src/dev/temporal-dev-server';
import { eventually, http } from '../support/local-stack';

const launcher = resolve(__dirname, '../../dist/dev/start-local-stack.js');

interface Launched {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
}

async function launch(env: NodeJS.ProcessEnv): Promise<Launched> {
  const child = spawn(process.execPath, [launcher], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolveBanner, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 90 s:\n${out}`)), 90_000);
    const check = () => {
      if (out.includes('Ctrl-C stops everything')) {
        clearTimeout(timer);
        resolveBanner();
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => reject(new Error(`launcher exited (${code}) before its banner:\n${out}`)));
  });
  return { child, output: () => out };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z');
  } catch {
    return false;
  }
};

/** Every live process serving this db file, found the way `ps` would (not through our own pid file). */
function serversOn(dbFile: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const at = argv.indexOf('--db-filename');
      if (argv.includes('start-dev') && at > 0 && argv[at + 1] === dbFile && alive(Number(entry)))
        pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const exitOf = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

describe('launcher', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let apiUrl: string;
  let uiPort: number;
  let first: Launched;
  const pidFile = () => join(dataDir, 'temporal-server.pid');
  const serverPid = () => {
    const pids = serversOn(join(dataDir, 'temporal.db'));
    expect(pids).toHaveLength(1);
    return pids[0];
  };
  const config = () =>
    JSON.parse(readFileSync(join(dataDir, 'sessionflow.local.json'), 'utf8')) as {
      homes: Record<string, { tokens: { role: string; token: string }[] }>;
      codec: { endpoint: { tokens: { name: string; token: string }[] } };
    };
  const tokenOf = (role: string) => config().homes['home-42'].tokens.find((t) => t.role === role)!.token;

  beforeAll(async () => {
    if (!existsSync(launcher))
      throw new Error(`${launcher} is missing: run 'npm run build' first (npm test does)`);
    // A data dir and config as an older version (or a umask of 022) left them: readable by everyone.
    dataDir = join(mkdtempSync(join(tmpdir(), 'sessionflow-recovery-')), 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    writeFileSync(join(dataDir, 'sessionflow.local.json'), '{}\n', { mode: 0o644 });
    chmodSync(join(dataDir, 'sessionflow.local.json'), 0o644);
    const temporalPort = await freePort();
    uiPort = temporalPort + 1000;
    const apiPort = await freePort();
    env = {
      ...process.env,
      SESSIONFLOW_DATA_DIR: dataDir,
      TEMPORAL_PORT: String(temporalPort),
      API_PORT: String(apiPort),
      GATEWAY_HTTP_PORT: String(await freePort()),
      MQTT_PORT: String(await freePort()),
      // Long enough that the session is still open after the crash and the restart.
      ALARM_CANCEL_WINDOW_SECONDS: '600',
      LOG_LEVEL: 'warn',
    };
    delete env.TEMPORAL_ADDRESS;
    delete env.SESSIONFLOW_CONFIG_FILE;
    apiUrl = `http://127.0.0.1:${apiPort}`;
    first = await launch(env);
  });

  afterAll(() => {
    if (first && first.child.exitCode === null && first.child.signalCode === null)
      first.child.kill('SIGKILL');
    // Nothing of ours may outlive the test, whatever failed above.
    for (const pid of serversOn(join(dataDir, 'temporal.db'))) process.kill(pid, 'SIGKILL');
  });

  test('When it starts on a data dir readable by others, then the dir becomes 0700 and the config 0600, with a warning', () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'sessionflow.local.json')).mode & 0o777).toBe(0o600);
    expect(first.output()).toContain('data dir was readable by others: tightened');
    expect(first.output()).toContain('local config was readable by others: tightened');
    // What it creates itself is private too; the pid file names the server it started.
    expect(statSync(pidFile()).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(pidFile(), 'utf8'))).toMatchObject({ pid: serverPid() });
  });

  test('When the Web UI gets its codec endpoint, then the viewer token is on no command line but the UI has it', async () => {
    const token = config().codec.endpoint.tokens.find((t) => t.name === 'web-ui')!.token;
    expect(token.length).toBeGreaterThanOrEqual(16);
    // What `ps` shows of every process we started: the server, and the launcher itself.
    for (const pid of [serverPid(), first.child.pid!]) {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      expect(argv.length).toBeGreaterThan(0);
      expect(argv).not.toContain(token);
    }
    const settings = (await (await fetch(`http://127.0.0.1:${uiPort}/api/v1/settings`)).json()) as {
      Codec?: { Endpoint?: string };
    };
    expect(settings.Codec?.Endpoint).toBe(`${apiUrl}/codec/ui/${token}`);
    const envFile = join(dataDir, 'temporal-cli-env.yaml');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
  });

  test('When a second launcher starts on the data dir of a running one, then it refuses and the running server stays', async () => {
    const server = serverPid();
    const second = spawn(process.execPath, [launcher], {
      env: {
        ...env,
        API_PORT: String(await freePort()),
        GATEWAY_HTTP_PORT: String(await freePort()),
        MQTT_PORT: String(await freePort()),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    second.stdout.on('data', (d: Buffer) => (out += d.toString()));
    second.stderr.on('data', (d: Buffer) => (out += d.toString()));
    expect(await exitOf(second)).toBe(1);
    expect(out).toContain(`a Temporal dev server (pid ${server}) started by another running process`);
    expect(alive(server)).toBe(true);
    const ready = await fetch(`${apiUrl}/readyz`);
    expect(ready.status).toBe(200);
  });

  test('When the launcher is SIGKILLed, then the next start stops the orphaned server and the open session is still there', async () => {
    const opened = await http(apiUrl, 'POST', '/homes/home-42/smoke', {
      token: tokenOf('device'),
      body: { detectorId: 'kitchen' },
    });
    expect(opened.status).toBe(202);
    const orphan = serverPid();

    first.child.kill('SIGKILL');
    await exitOf(first.child);
    // The crash as users met it: the server outlives its launcher, holding the ports.
    expect(alive(orphan)).toBe(true);

    const second = await launch(env);
    try {
      expect(second.output()).toContain('stopped the Temporal dev server a previous run left behind');
      expect(alive(orphan)).toBe(false);
      expect(serverPid()).not.toBe(orphan);
      const status = await eventually(
        () => http(apiUrl, 'GET', '/homes/home-42/alarm', { token: tokenOf('owner') }),
        (r) => r.status === 200,
        20_000,
      );
      expect(status.body).toMatchObject({ sessionId: 'smoke-alarm:home-42', state: 'waiting-for-cancel' });
    } finally {
      second.child.kill('SIGINT');
      expect(await exitOf(second.child)).toBe(0);
    }
    // A clean stop leaves no pid file behind.
    expect(existsSync(pidFile())).toBe(false);
  });
});

describe('launcher restart with work pending', () => {
  // The scenario of the intermittent 503 on the first status query after a restart, end to end (its cause,
  // one held query per workflow on the server, is pinned down by test/api/buffered-queries.test.ts).
  test('When a timer fired while the stack was down, then the first status query after the restart answers with the escalation', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sessionflow-restart-'));
    const temporalPort = await freePort();
    const apiPort = await freePort();
    const WINDOW_S = 3;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SESSIONFLOW_DATA_DIR: dataDir,
      TEMPORAL_PORT: String(temporalPort),
      API_PORT: String(apiPort),
      GATEWAY_HTTP_PORT: String(await freePort()),
      MQTT_PORT: String(await freePort()),
      ALARM_CANCEL_WINDOW_SECONDS: String(WINDOW_S),
      LOG_LEVEL: 'warn',
    };
    delete env.TEMPORAL_ADDRESS;
    delete env.SESSIONFLOW_CONFIG_FILE;
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const tokens = () =>
      (
        JSON.parse(readFileSync(join(dataDir, 'sessionflow.local.json'), 'utf8')) as {
          homes: Record<string, { tokens: { role: string; token: string }[] }>;
        }
      ).homes['home-42'].tokens;
    const tokenOf = (role: string) => tokens().find((t) => t.role === role)!.token;

    const first = await launch(env);
    try {
      const opened = await http(apiUrl, 'POST', '/homes/home-42/smoke', {
        token: tokenOf('device'),
        body: { detectorId: 'kitchen' },
      });
      expect(opened.status).toBe(202);
    } finally {
      first.child.kill('SIGINT');
      expect(await exitOf(first.child)).toBe(0);
    }
    // The cancel window ends while nothing runs: the restarted server has a workflow task waiting.
    await new Promise((r) => setTimeout(r, (WINDOW_S + 1) * 1000));

    const second = await launch(env);
    try {
      // The first consistent read (a query) waits for that pending task: it must answer, not 503.
      const status = await http(apiUrl, 'GET', '/homes/home-42/alarm?consistent=true', {
        token: tokenOf('owner'),
      });
      expect(status.status).toBe(200);
      expect(status.body).toMatchObject({ state: 'escalated' });
      // The task published the escalation: the read model has it too.
      const read = await http(apiUrl, 'GET', '/homes/home-42/alarm', { token: tokenOf('owner') });
      expect(read.body).toMatchObject({ state: 'escalated' });
    } finally {
      second.child.kill('SIGINT');
      expect(await exitOf(second.child)).toBe(0);
    }
  });
});

describe('stopOrphanedDevServer', () => {
  test('When the pid file names a process that is not our server, then that process is left alone and the file dropped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessionflow-pidfile-'));
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const file = join(dir, 'temporal-server.pid');
      // Same pid (as after pid reuse), and even the binary recorded as `sleep`: not `server start-dev`.
      writeFileSync(
        file,
        JSON.stringify({ pid: stranger.pid, binary: '/bin/sleep', dbFile: join(dir, 'temporal.db') }),
      );
      expect(await stopOrphanedDevServer({ pidFile: file, dbFile: join(dir, 'temporal.db') })).toBe(
        undefined,
      );
      expect(alive(stranger.pid!)).toBe(true);
      expect(existsSync(file)).toBe(false);
    } finally {
      stranger.kill('SIGKILL');
    }
  });
});
