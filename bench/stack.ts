// The system under test, on loopback: a Temporal dev server on SQLite (started here, or an existing one
// with --attach; or, with --store postgres, the production shape's server on a private PostgreSQL), our worker in this process (so the bench reads the simulated siren pins directly), our API as
// its own process (as deployed), and, for the raw-client baseline, a second worker with the same tuning
// running a trivial workflow on its own task queue. Homes, tokens and the task queues are per run.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  bundleWorkflowCode,
  type InjectedSinks,
} from '@temporalio/worker';
import pino from 'pino';
import { parseConfig, type Config } from '../src/config/config';
import { startProdCluster } from '../src/dev/prod-cluster';
import {
  findTemporalBinary,
  freePort,
  startTemporalDevServer,
  type RunningDevServer,
} from '../src/dev/temporal-dev-server';
import { SimulatedIO } from '../src/hardware/simulated-io';
import { buildActivityDeps, type BuiltActivityDeps } from '../src/worker/activity-deps';
import { createWorker, workerTuning } from '../src/worker/create-worker';
import { findListeningPid } from './machine';
import { nowMs, sleep } from './stats';
import type { BenchSinks } from './workflows/raw-session';

/** The project root, from the sources (bench/) or from the build (dist-bench/bench/). */
export const projectRoot = resolve(
  __dirname,
  existsSync(resolve(__dirname, '../package.json')) ? '..' : '../..',
);

/** Homes of one run: ids carry a run tag, so an attached server's other sessions are never touched. */
export class BenchHomes {
  private readonly secret = randomBytes(12).toString('base64url');
  readonly ids: string[] = [];
  constructor(readonly tag: string) {}

  id(group: string, n: number): string {
    return `bench${this.tag}-${group}-${n}`;
  }
  prefix(group: string): string {
    return `bench${this.tag}-${group}-`;
  }
  device(homeId: string): string {
    return `${this.secret}.${homeId}.device`;
  }
  owner(homeId: string): string {
    return `${this.secret}.${homeId}.owner`;
  }
}

/** Records when keyed events happened and lets callers wait for one. */
export class EventTimes {
  private readonly times = new Map<string, number>();
  private readonly waiters = new Map<string, (t: number) => void>();

  record(key: string, at = nowMs()): void {
    if (this.times.has(key)) return;
    this.times.set(key, at);
    this.waiters.get(key)?.(at);
    this.waiters.delete(key);
  }

  wait(key: string, timeoutMs: number): Promise<number | undefined> {
    const known = this.times.get(key);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set(key, (t) => {
        clearTimeout(timer);
        resolve(t);
      });
    });
  }
}

export interface BenchStack {
  mode: 'started' | 'attached';
  temporalAddress: string;
  namespace: string;
  serverPid: number | undefined;
  apiUrl: string;
  apiPid: number | undefined;
  config: Config;
  homes: BenchHomes;
  deps: BuiltActivityDeps;
  worker: Worker;
  rawWorker: Worker;
  rawTaskQueue: string;
  rawOpened: EventTimes;
  client: Client;
  workDir: string;
  stop(opts?: { keepWorkDir?: boolean }): Promise<void>;
}

export interface StackOptions {
  /** Temporal address of an existing server; undefined starts a server of `store`. */
  attach?: string;
  /** What a started server keeps sessions in: the dev server's SQLite file, or PostgreSQL. */
  store?: 'sqlite' | 'postgres';
  /** Number of homes per group (alarm, throughput, scale...). */
  homeGroups: Record<string, number>;
  cancelWindowSeconds: number;
  log: (line: string) => void;
}

function homeEntry(homes: BenchHomes, homeId: string) {
  return {
    owner: { name: `Owner of ${homeId}`, phone: '+15550000001' },
    emergency: { phone: '+15550000911', address: `1 Bench Street, ${homeId}` },
    siren: { pin: 13, component: 'relay' },
    // The one detector the scenarios report from (the API refuses ids a home does not have).
    detectors: { kitchen: { pin: 2 } },
    tokens: [
      { name: `${homeId}-owner`, role: 'owner', token: homes.owner(homeId) },
      { name: `${homeId}-detector`, role: 'device', token: homes.device(homeId) },
    ],
  };
}

async function waitForReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`api exited during start (code ${child.exitCode})`);
    const ok = await fetch(`${url}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`api at ${url} not ready after ${timeoutMs} ms`);
}

let runtimeInstalled = false;

export async function startBenchStack(opts: StackOptions): Promise<BenchStack> {
  // The SDK logs warnings only; Ctrl-C is handled by the bench, which stops things in order.
  // One runtime per process: every scenario's stack shares it.
  if (!runtimeInstalled) Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  runtimeInstalled = true;
  const workDir = mkdtempSync(join(tmpdir(), 'sessionflow-bench-'));
  const homes = new BenchHomes(randomBytes(3).toString('hex'));
  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };

  try {
    let server: RunningDevServer | undefined;
    let temporalAddress: string;
    let serverPid: number | undefined;
    if (opts.attach) {
      temporalAddress = opts.attach;
      serverPid = findListeningPid(Number(temporalAddress.split(':').pop()));
    } else if (opts.store === 'postgres') {
      opts.log('starting PostgreSQL and the Temporal server on it (data dir in the work dir)');
      // PostgreSQL's unprivileged user (when we are root) reaches its data dir through the work dir.
      chmodSync(workDir, 0o755);
      const cluster = await startProdCluster({
        dataDir: workDir,
        pgPassword: randomBytes(12).toString('base64url'),
      });
      cleanups.push(() => cluster.stop());
      temporalAddress = cluster.address;
      serverPid = cluster.server.pid;
    } else {
      const local = resolve(projectRoot, '.tools/bin/temporal');
      opts.log('starting Temporal dev server (SQLite file in the work dir)');
      server = await startTemporalDevServer({
        dbFile: join(workDir, 'temporal.db'),
        uiPort: false,
        logFile: join(workDir, 'temporal-server.log'),
        binary: findTemporalBinary(existsSync(local) ? local : undefined),
      });
      cleanups.push(() => server!.stop());
      temporalAddress = server.address;
      serverPid = server.pid;
    }

    const apiPort = await freePort();
    const raw = {
      temporal: {
        address: temporalAddress,
        taskQueue: `sessionflow-bench-${homes.tag}`,
        callTimeoutMs: 5000,
      },
      api: { host: '127.0.0.1', port: apiPort },
      // A long window: every session waits for its cancel however slow the run is.
      alarm: { cancelWindowSeconds: opts.cancelWindowSeconds },
      notifications: { channel: 'log' },
      // Payloads are encrypted as in any deployment (the API refuses to start without a key), so "ours"
      // includes the codec's cost; the raw-client baseline has none.
      codec: { keys: [{ id: 'bench', key: randomBytes(32).toString('base64') }] },
      homes: {} as Record<string, unknown>,
    };
    for (const [group, count] of Object.entries(opts.homeGroups)) {
      for (let n = 0; n < count; n++) {
        const homeId = homes.id(group, n);
        homes.ids.push(homeId);
        raw.homes[homeId] = homeEntry(homes, homeId);
      }
    }
    const configFile = join(workDir, 'config.json');
    writeFileSync(configFile, JSON.stringify(raw), { mode: 0o600 });
    const config = parseConfig(raw);

    // Worker logs go to a file at info, as a deployed worker would log them.
    const logger = pino(
      { level: process.env.LOG_LEVEL ?? 'info' },
      pino.destination(join(workDir, 'worker.log')),
    );
    const deps = buildActivityDeps(config, logger);
    // Boards exist before the first alarm (as a connected board would), so the bench can watch their pins.
    for (const homeId of homes.ids) deps.simulatedBoards.set(homeId, new SimulatedIO(`simulated:${homeId}`));

    const connection = await NativeConnection.connect({ address: temporalAddress });
    cleanups.push(() => connection.close());
    const bundlePath = process.env.SESSIONFLOW_TEST_WORKFLOW_BUNDLE;
    opts.log('bundling workflows and starting workers');
    const worker = await createWorker({
      config,
      deps,
      connection,
      ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : {}),
    });
    const rawOpened = new EventTimes();
    const rawTaskQueue = `bench-raw-${homes.tag}`;
    const sinks: InjectedSinks<BenchSinks> = {
      bench: { opened: { fn: (info) => rawOpened.record(info.workflowId), callDuringReplay: false } },
    };
    const rawWorker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: rawTaskQueue,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: require.resolve('./workflows/raw-session'),
        logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} },
      }),
      sinks,
      ...workerTuning,
    });
    const runs = [worker.run(), rawWorker.run()];
    cleanups.push(async () => {
      worker.shutdown();
      rawWorker.shutdown();
      await Promise.allSettled(runs);
    });

    const apiMain = resolve(__dirname, '../src/api/main.js');
    const apiLog = openSync(join(workDir, 'api.log'), 'a');
    const api = spawn(process.execPath, [apiMain], {
      stdio: ['ignore', apiLog, apiLog],
      env: { ...process.env, SESSIONFLOW_CONFIG_FILE: configFile, LOG_FORMAT: 'json' },
    });
    closeSync(apiLog);
    const apiExited = new Promise((r) => api.once('exit', r));
    const killApi = () => api.kill('SIGKILL');
    process.once('exit', killApi);
    cleanups.push(async () => {
      process.removeListener('exit', killApi);
      if (api.exitCode === null) api.kill('SIGTERM');
      // A graceful close waits for open requests; an interrupted scenario may still be sending some.
      const force = setTimeout(() => api.kill('SIGKILL'), 5000);
      await apiExited;
      clearTimeout(force);
    });
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitForReady(apiUrl, api, 60_000);

    const clientConnection = await Connection.connect({ address: temporalAddress });
    cleanups.push(() => clientConnection.close());
    const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });

    return {
      mode: opts.attach ? 'attached' : 'started',
      temporalAddress,
      namespace: config.temporal.namespace,
      serverPid,
      apiUrl,
      apiPid: api.pid,
      config,
      homes,
      deps,
      worker,
      rawWorker,
      rawTaskQueue,
      rawOpened,
      client,
      workDir,
      async stop({ keepWorkDir = false } = {}) {
        await stopAll();
        deps.sirens.close();
        if (!keepWorkDir) rmSync(workDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
