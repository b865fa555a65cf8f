// The system under test, on loopback: a Temporal dev server on SQLite (started here, or an existing one
// with --attach; or, with --store postgres, the production shape's server on a private PostgreSQL), our
// worker, our API as its own process (as deployed), and, for the raw-client baseline, a second worker with
// the same tuning running a trivial workflow on its own task queue. Homes, tokens and the task queues are
// per run. Two topologies:
// - embedded: the central worker runs in this process with the homes' simulated boards (its embedded
//   gateway), so the bench reads the siren pins and their timestamps directly (latency scenarios);
// - gateway: every home belongs to the gateway `bench`; the central worker runs alone in its own process
//   (`src/worker/main.ts`, as deployed), and this process — the load generator — runs a stand-in gateway:
//   an activity worker on the gateway's task queue that records each siren command instead of driving a
//   johnny-five board. The worker process's memory is then the central worker's alone (scale scenario).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { startWebServer, stopWebServer } from '../src/api/server';
import { createTemporalGateway } from '../src/api/temporal-gateway';
import { dataConverterFor } from '../src/codec/aes-gcm-codec';
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
import { gatewayTaskQueue } from '../src/config/config';
import { SimulatedIO } from '../src/hardware/simulated-io';
import type { HardwareActivities } from '../src/shared/hardware';
import { nodeFlags } from '../src/dev/prod-topology';
import { buildActivityDeps, type BuiltActivityDeps } from '../src/worker/activity-deps';
import { createWorker, workerTuning } from '../src/worker/create-worker';
import { bundlerLogger } from '../src/worker/workflow-bundle';
import { findListeningPid } from './machine';
import { nowMs, sleep } from './stats';
import type { BenchSinks } from './workflows/raw-session';

/** The project root, from the sources (bench/) or from the build (dist-bench/bench/). */
export const projectRoot = resolve(
  __dirname,
  existsSync(resolve(__dirname, '../package.json')) ? '..' : '../..',
);

const SIREN_PIN = 13;

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

  /** `latest`: a key that happens again keeps its newest time (else its first). */
  constructor(private readonly latest = false) {}

  record(key: string, at = nowMs()): void {
    if (this.times.has(key) && !this.latest) return;
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

export type Topology = 'embedded' | 'gateway';

/** The gateway every home of the `gateway` topology belongs to. */
export const BENCH_GATEWAY = 'bench';

export interface BenchStack {
  mode: 'started' | 'attached';
  topology: Topology;
  temporalAddress: string;
  namespace: string;
  serverPid: number | undefined;
  apiUrl: string;
  /** The API's own process; undefined when it runs in this one (`apiInWorkerProcess`). */
  apiPid: number | undefined;
  apiInWorkerProcess: boolean;
  /** The process running the central worker (this one in the embedded topology). */
  workerPid: number | undefined;
  config: Config;
  homes: BenchHomes;
  /** The in-process central worker's dependencies (embedded topology only). */
  deps: BuiltActivityDeps | undefined;
  /**
   * When the home's siren was switched to `value` (1 on, 0 off) at or after `since` (hrtime ms), waiting up
   * to timeoutMs; undefined when it was not.
   */
  sirenAt(homeId: string, value: 0 | 1, since: number, timeoutMs: number): Promise<number | undefined>;
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
  /** Default embedded. */
  topology?: Topology;
  /**
   * The API in this process beside the worker, sharing its connection (as `npm start` runs them: openings
   * start eagerly); embedded topology only. Default: the API in its own process.
   */
  apiInWorkerProcess?: boolean;
  log: (line: string) => void;
}

function homeEntry(homes: BenchHomes, homeId: string, topology: Topology) {
  return {
    ...(topology === 'gateway' ? { gateway: BENCH_GATEWAY } : {}),
    owner: { name: `Owner of ${homeId}`, phone: '+15550000001' },
    emergency: { phone: '+15550000911', address: `1 Bench Street, ${homeId}` },
    siren: { pin: SIREN_PIN, component: 'relay' },
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

/** A process of ours (API, worker) on the run's config file, its output in `<name>.log` in the work dir. */
function spawnLogged(
  main: string,
  name: string,
  workDir: string,
  configFile: string,
  nodeArgs: string[] = [],
) {
  const out = openSync(join(workDir, `${name}.log`), 'a');
  const child = spawn(process.execPath, [...nodeArgs, main], {
    stdio: ['ignore', out, out],
    env: { ...process.env, SESSIONFLOW_CONFIG_FILE: configFile, LOG_FORMAT: 'json' },
  });
  closeSync(out);
  const exited = new Promise((r) => child.once('exit', r));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  return {
    child,
    async stop() {
      process.removeListener('exit', kill);
      if (child.exitCode === null) child.kill('SIGTERM');
      // A graceful close waits for open requests; an interrupted scenario may still be sending some.
      const force = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(force);
    },
  };
}

/** Waits until a worker process polls its task queue (it bundles nothing: the build's bundle is used). */
async function untilPolled(
  connection: NativeConnection,
  namespace: string,
  taskQueue: string,
  child: ChildProcess,
): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`worker exited during start (code ${child.exitCode})`);
    const r = await connection.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    if ((r.pollers?.length ?? 0) > 0) return;
    await sleep(200);
  }
  throw new Error(`no worker polls ${taskQueue} after 60 s`);
}

async function untilBoardsConnected(gateway: BuiltActivityDeps['gateway']): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    const away = gateway.status().homes.filter((h) => !h.connected);
    if (away.length === 0) return;
    if (Date.now() > until) throw new Error(`${away.length} simulated boards not connected after 60 s`);
    await sleep(50);
  }
}

/** When a simulated board's siren pin was written `value` at or after `since` (waits up to timeoutMs). */
async function pinWrittenAt(io: SimulatedIO, value: number, since: number, timeoutMs: number) {
  const find = () => io.writes.find((w) => w.pin === SIREN_PIN && w.value === value && w.atMs >= since)?.atMs;
  const until = nowMs() + timeoutMs;
  // waitForPin resolves on the next matching write; loop in case the pin held `value` from before `since`.
  for (;;) {
    const at = find();
    if (at !== undefined) return at;
    const left = until - nowMs();
    if (left <= 0) return undefined;
    if (io.pinValue(SIREN_PIN) === value) await sleep(Math.min(left, 20));
    else await io.waitForPin(SIREN_PIN, value, left).catch(() => undefined);
  }
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

    const topology = opts.topology ?? 'embedded';
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
      // Per run, shared by the worker and the API as on one host (never the checkout's .data/).
      readModel: { path: join(workDir, 'read-model.db') },
      // The per-token limit is a guard against one looping device; the scenarios read a home at a time
      // far above it on purpose (the figures are measured with it raised out of the way).
      rateLimit: { perTokenPerMinute: 1_000_000_000, unauthenticatedPerMinute: 1_000_000_000 },
      // Payloads are encrypted as in any deployment (the API refuses to start without a key), so "ours"
      // includes the codec's cost; the raw-client baseline has none.
      codec: { keys: [{ id: 'bench', key: randomBytes(32).toString('base64') }] },
      homes: {} as Record<string, unknown>,
    };
    for (const [group, count] of Object.entries(opts.homeGroups)) {
      for (let n = 0; n < count; n++) {
        const homeId = homes.id(group, n);
        homes.ids.push(homeId);
        raw.homes[homeId] = homeEntry(homes, homeId, topology);
      }
    }
    const configFile = join(workDir, 'config.json');
    writeFileSync(configFile, JSON.stringify(raw), { mode: 0o600 });
    const config = parseConfig(raw);

    const connection = await NativeConnection.connect({ address: temporalAddress });
    cleanups.push(() => connection.close());
    opts.log('starting workers');
    const workers: Worker[] = [];
    let deps: BuiltActivityDeps | undefined;
    let workerPid: number | undefined;
    let sirenAt: BenchStack['sirenAt'];
    if (topology === 'embedded') {
      // Worker logs go to a file at info, as a deployed worker would log them.
      const logger = pino(
        { level: process.env.LOG_LEVEL ?? 'info' },
        pino.destination(join(workDir, 'worker.log')),
      );
      const built = (deps = buildActivityDeps(config, logger));
      // Boards exist before the first alarm, so the bench can watch their pins, and are connected before
      // it as a deployed worker's are (it starts its embedded gateway: src/worker/main.ts).
      for (const homeId of homes.ids)
        built.simulatedBoards.set(homeId, new SimulatedIO(`simulated:${homeId}`));
      cleanups.push(() => Promise.resolve(built.gateway.close()));
      built.gateway.start();
      await untilBoardsConnected(built.gateway);
      const bundlePath = process.env.SESSIONFLOW_TEST_WORKFLOW_BUNDLE;
      workers.push(
        await createWorker({
          config,
          deps: built,
          connection,
          // As `npm start` runs it when the API is beside it (scenario 1).
          eagerStarts: opts.apiInWorkerProcess === true,
          ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : {}),
        }),
      );
      workerPid = process.pid;
      sirenAt = (homeId, value, since, timeoutMs) =>
        pinWrittenAt(built.simulatedBoards.get(homeId)!, value, since, timeoutMs);
    } else {
      const switched = new EventTimes(true);
      const standIn: HardwareActivities = {
        setSiren: ({ homeId, on }) => Promise.resolve(switched.record(`${homeId}:${on ? 1 : 0}`)),
      };
      workers.push(
        await Worker.create({
          connection,
          namespace: config.temporal.namespace,
          taskQueue: gatewayTaskQueue(BENCH_GATEWAY),
          activities: standIn,
          dataConverter: dataConverterFor(config),
        }),
      );
      // With a deployed worker's flags (the Dockerfile's, the launcher's: nodeFlags).
      const worker = spawnLogged(resolve(__dirname, '../src/worker/main.js'), 'worker', workDir, configFile, [
        ...nodeFlags.worker,
      ]);
      cleanups.push(() => worker.stop());
      workerPid = worker.child.pid;
      await untilPolled(connection, config.temporal.namespace, config.temporal.taskQueue, worker.child);
      sirenAt = (homeId, value, since, timeoutMs) =>
        switched
          .wait(`${homeId}:${value}`, timeoutMs)
          .then((at) => (at !== undefined && at >= since ? at : undefined));
    }
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
        logger: bundlerLogger,
      }),
      sinks,
      ...workerTuning(config),
    });
    const runs = [...workers, rawWorker].map((w) => w.run());
    cleanups.push(async () => {
      for (const w of [...workers, rawWorker]) w.shutdown();
      await Promise.allSettled(runs);
    });

    const apiUrl = `http://127.0.0.1:${apiPort}`;
    let apiPid: number | undefined;
    const apiInWorkerProcess = opts.apiInWorkerProcess === true;
    if (apiInWorkerProcess) {
      if (topology !== 'embedded') throw new Error('the API runs in the worker process only when embedded');
      const temporal = createTemporalGateway(config, connection);
      const logger = pino({ level: 'info' }, pino.destination(join(workDir, 'api.log')));
      const web = await startWebServer({ config, temporal, logger }, apiPort, '127.0.0.1');
      cleanups.push(() => stopWebServer(web));
    } else {
      // With a deployed API's flags (its heap cap), as the worker above.
      const api = spawnLogged(resolve(__dirname, '../src/api/main.js'), 'api', workDir, configFile, [
        ...nodeFlags.api,
      ]);
      cleanups.push(() => api.stop());
      await waitForReady(apiUrl, api.child, 60_000);
      apiPid = api.child.pid;
    }

    const clientConnection = await Connection.connect({ address: temporalAddress });
    cleanups.push(() => clientConnection.close());
    const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });

    return {
      mode: opts.attach ? 'attached' : 'started',
      topology,
      temporalAddress,
      namespace: config.temporal.namespace,
      serverPid,
      apiUrl,
      apiPid,
      apiInWorkerProcess,
      workerPid,
      config,
      homes,
      deps,
      sirenAt,
      rawWorker,
      rawTaskQueue,
      rawOpened,
      client,
      workDir,
      async stop({ keepWorkDir = false } = {}) {
        await stopAll();
        if (!keepWorkDir) rmSync(workDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
