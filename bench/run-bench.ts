// `npm run bench`: the figures of issue 18 on loopback, each beside its target and the figure before it:
// smoke → siren and cancel → siren-off latency at 20 events/s, status GET throughput (autocannon), the load
// test's mixed load, start throughput against the raw Temporal client plus the server's write capacity, and
// N open sessions with the central worker alone in its process (homes on a gateway's queue).
//   --quick            tiny version of every scenario (seconds; CI keeps the harness working with it)
//   --check            exit 1 when a target is missed (timing is never checked without it)
//   --scale N          open sessions in the scale scenario (default 2,000, so the default run stays short;
//                      the figure is --scale 100000)
//   --attach [addr]    use a running Temporal server (default $TEMPORAL_ADDRESS or 127.0.0.1:7233)
//   --store postgres   start the production shape's server on PostgreSQL instead of the SQLite dev server;
//                      results go to latest-postgres.md beside latest.md (never into the docs/performance.md table)
//   --only a,b         scenarios to run: alarm, alarm-apart, status, mixed, throughput, scale
//   --out DIR          where results go (default bench/results)
//   --update-readme    put the table into docs/performance.md (full runs only)
//   -h, --help         the usage line
// Exit codes: 0 done; 1 a target missed under --check; 2 something was lost or failed (always), or the
// command line was refused (then nothing started).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs as parseCommandLine } from 'node:util';
import { findTemporalBinary } from '../src/dev/temporal-dev-server';
import { cpuMeter, machineFacts, type CpuUse, type MachineFacts } from './machine';
import { machineLine, markdownTable, rows, targets, type Results } from './report';
import {
  alarmScenario,
  mixedHomeCount,
  mixedScenario,
  scaleScenario,
  shedWrites,
  statusScenario,
  throughputScenario,
  workerSettings,
  type AlarmOptions,
  type MixedOptions,
  type ScaleOptions,
  type StatusOptions,
  type ThroughputOptions,
} from './scenarios';
import { projectRoot, startBenchStack, type BenchStack } from './stack';

interface Plan {
  alarm: AlarmOptions;
  status: StatusOptions;
  mixed: MixedOptions;
  throughput: ThroughputOptions;
  scale: ScaleOptions;
}

const fullPlan: Plan = {
  alarm: {
    ratePerSec: 20,
    warmupSec: 5,
    durationSec: 30,
    statusAfterMs: 1000,
    cancelAfterMs: 2000,
    floorSec: 11,
  },
  throughput: {
    startRate: 10,
    factor: 1.25,
    stepSec: 5,
    maxSteps: 16,
    refineSteps: 2,
    latencyBoundMs: 1000,
    homePool: 10_000,
    capacityCallers: 32,
    capacitySec: 5,
    rounds: 5,
    pairedCallers: 16,
    pairedSec: 5,
    pairedSettleSec: 2,
  },
  status: { homes: 200, connections: 20, durationSec: 15 },
  // The load test's shape (test/e2e/load.test.ts): 50 connections, 40 homes, smoke then status.
  // Warmed up like scenario 1: the same mix on 40 other homes first (reported as the cold start).
  mixed: { homes: 40, connections: 50, requests: 6000, warmupRequests: 2000 },
  scale: { sessions: 2_000, concurrency: 32, cancelSample: 300, cancelRatePerSec: 20 },
};
const quickPlan: Plan = {
  alarm: {
    ratePerSec: 5,
    warmupSec: 0.4,
    durationSec: 2,
    statusAfterMs: 300,
    cancelAfterMs: 600,
    floorSec: 1.6,
  },
  throughput: {
    startRate: 4,
    factor: 2,
    stepSec: 1,
    maxSteps: 2,
    refineSteps: 0,
    latencyBoundMs: 1000,
    homePool: 100,
    capacityCallers: 4,
    capacitySec: 0.5,
    rounds: 1,
    pairedCallers: 2,
    pairedSec: 0.5,
    pairedSettleSec: 0,
  },
  status: { homes: 5, connections: 4, durationSec: 1 },
  mixed: { homes: 5, connections: 4, requests: 40, warmupRequests: 20 },
  scale: { sessions: 50, concurrency: 8, cancelSample: 10, cancelRatePerSec: 20 },
};
const scenarioNames = ['alarm', 'alarm-apart', 'status', 'mixed', 'throughput', 'scale'] as const;
type ScenarioName = (typeof scenarioNames)[number];

const USAGE =
  'usage: npm run bench -- [--quick] [--check] [--only a,b] [--scale N] [--attach [addr]] [--store sqlite|postgres]\n' +
  '                        [--out DIR] [--update-readme]   (docs/performance.md says what each does)';

/** A command line the bench cannot run: one line and the usage, no stack. */
class UsageError extends Error {}

const options = {
  quick: { type: 'boolean', default: false },
  check: { type: 'boolean', default: false },
  'update-readme': { type: 'boolean', default: false },
  attach: { type: 'string' },
  store: { type: 'string', default: 'sqlite' },
  only: { type: 'string', default: scenarioNames.join(',') },
  out: { type: 'string', default: resolve(projectRoot, 'bench/results') },
  scale: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function parseArgs(argv: string[]) {
  // `--attach` takes an optional address, which util.parseArgs has no form for: a bare one gets the default.
  const args = argv.flatMap((arg, i) => {
    const next = argv[i + 1];
    const bare = arg === '--attach' && (next === undefined || next.startsWith('--'));
    return bare ? [arg, process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233'] : [arg];
  });
  const values = (() => {
    try {
      return parseCommandLine({ args, options }).values;
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  })();
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const scale = values.scale === undefined ? undefined : Number(values.scale);
  if (scale !== undefined && (!Number.isInteger(scale) || scale < 1))
    throw new UsageError('--scale: a positive whole number of sessions');
  const store = (['sqlite', 'postgres'] as const).find((s) => s === values.store);
  if (!store) throw new UsageError('--store: sqlite or postgres');
  const only = values.only.split(',');
  const unknown = only.filter((n) => !(scenarioNames as readonly string[]).includes(n));
  if (unknown.length)
    throw new UsageError(`--only: unknown scenario ${unknown.join(', ')} (${scenarioNames.join(', ')})`);
  return {
    quick: values.quick,
    check: values.check,
    updateReadme: values['update-readme'],
    attach: values.attach,
    store,
    only: only as ScenarioName[],
    out: resolve(values.out),
    scale,
  };
}

const log = (line: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** Markdown as the repo's Prettier writes it, so `npm run lint` stays green after a run. */
async function prettierMarkdown(text: string, file: string): Promise<string> {
  const prettier = await import('prettier');
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(text, { ...options, filepath: file });
}

async function replaceReadmeSection(table: string) {
  const file = join(projectRoot, 'docs/performance.md');
  const text = readFileSync(file, 'utf8');
  const start = '<!-- bench:table:start -->';
  const end = '<!-- bench:table:end -->';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`docs/performance.md has no ${start} … ${end} block`);
  const updated = `${text.slice(0, a + start.length)}\n\n${table}\n\n${text.slice(b)}`;
  writeFileSync(file, await prettierMarkdown(updated, file));
}

async function main() {
  const flags = parseArgs(process.argv.slice(2));
  const base = flags.quick ? quickPlan : fullPlan;
  const plan: Plan = flags.scale ? { ...base, scale: { ...base.scale, sessions: flags.scale } } : base;
  const run = (name: ScenarioName) => flags.only.includes(name);
  const startedAt = new Date();
  const loadBefore = loadavg()[0];
  log(`${flags.quick ? 'quick' : 'full'} run: ${flags.only.join(', ')}`);

  const alarmHomes = Math.floor(plan.alarm.ratePerSec * (plan.alarm.warmupSec + plan.alarm.durationSec));
  const homesFor: Record<ScenarioName, number> = {
    alarm: alarmHomes,
    'alarm-apart': alarmHomes,
    status: plan.status.homes,
    mixed: mixedHomeCount(plan.mixed),
    throughput: plan.throughput.homePool,
    scale: plan.scale.sessions,
  };
  let current: BenchStack | undefined;
  let stopping = false;
  // The dev server runs in its own process group: stop it (and the API) on a signal, not just on exit.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopping = true;
      log(`${signal}: stopping`);
      void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
    });
  }

  const results: Results = {};
  const cpu: Record<string, CpuUse> = {};
  const stacks: Record<
    string,
    {
      temporal: string;
      store: string;
      address: string;
      topology: string;
      api: 'in the worker process' | 'own process';
      serverPid?: number;
      workerPid?: number;
    }
  > = {};
  let machine: MachineFacts | undefined;
  let settings: Record<string, unknown> | undefined;
  // Each scenario gets a fresh stack holding only its own homes: one scenario's sessions, boards and garbage
  // never weigh on the next one's latency or memory figures.
  for (const name of scenarioNames.filter(run)) {
    const stack = await startBenchStack({
      attach: flags.attach,
      store: flags.store,
      cancelWindowSeconds: 3600,
      // Scenario 1's homes, whichever process the API runs in (each stack has its own tag).
      homeGroups: { [name === 'alarm-apart' ? 'alarm' : name]: homesFor[name] },
      // Scale measures the central worker alone: its homes belong to a (stand-in) gateway.
      topology: name === 'scale' ? 'gateway' : 'embedded',
      // Scenario 1 as `npm start` runs it (a home hub: API, worker and boards in one process), and again
      // with the API in its own process (as deployed apart); the other scenarios measure the API apart.
      apiInWorkerProcess: name === 'alarm',
      log,
    });
    current = stack;
    let scenarioOk = false;
    try {
      if (!machine) {
        const info = await stack.client.connection.workflowService.getSystemInfo({});
        machine = machineFacts({
          temporalBinary:
            stack.mode === 'started' && flags.store === 'sqlite' ? findTemporalBinary() : undefined,
          serverVersion: info.serverVersion ?? undefined,
        });
        settings = workerSettings(stack);
        log(`${machineLine(machine)}`);
      }
      log(`stack up (${stack.mode} server ${stack.temporalAddress}, api ${stack.apiUrl})`);
      stacks[name] = {
        temporal: stack.mode,
        store: flags.attach ? 'attached' : flags.store,
        address: stack.temporalAddress,
        topology: stack.topology,
        api: stack.apiInWorkerProcess ? 'in the worker process' : 'own process',
        serverPid: stack.serverPid,
        workerPid: stack.workerPid,
      };
      const meter = cpuMeter({ worker: stack.workerPid, api: stack.apiPid, server: stack.serverPid });
      if (name === 'alarm' || name === 'alarm-apart') {
        log(
          `scenarios 1-3${name === 'alarm' ? '' : ', API in its own process'}: ${plan.alarm.ratePerSec} smoke events/s for ${plan.alarm.warmupSec} s warm-up + ${plan.alarm.durationSec} s`,
        );
        // The floor is measured once, beside the first.
        const floorSec = name === 'alarm' ? plan.alarm.floorSec : 0;
        results[name] = await alarmScenario(stack, { ...plan.alarm, floorSec });
      } else if (name === 'status') {
        log(`status GET: ${plan.status.connections} connections for ${plan.status.durationSec} s`);
        results.status = await statusScenario(stack, plan.status);
      } else if (name === 'mixed') {
        log(
          `mixed load: ${plan.mixed.connections} connections, ${plan.mixed.requests} requests after ${plan.mixed.warmupRequests} to warm up`,
        );
        results.mixed = await mixedScenario(stack, plan.mixed);
      } else if (name === 'throughput') {
        log(
          `scenario 4: start throughput from ${plan.throughput.startRate}/s, raw client and ours taking turns`,
        );
        results.throughput = await throughputScenario(stack, plan.throughput);
      } else {
        log(`scenario 5: ${plan.scale.sessions} open sessions, central worker in its own process`);
        results.scale = await scaleScenario(stack, plan.scale, log);
      }
      const c = (cpu[name] = meter());
      const f = (v: number | undefined) => (v === undefined ? '?' : `${v.toFixed(1)} s`);
      log(
        `  ${name}: ${c.wallSeconds.toFixed(1)} s wall; CPU worker ${f(c.worker)}, api ${f(c.api)}, server ${f(c.server)}`,
      );
      scenarioOk = (results[name]?.failures.total ?? 0) === 0;
    } finally {
      if (!stopping) {
        await stack.stop({ keepWorkDir: !scenarioOk });
        if (!scenarioOk) log(`logs of ${name} kept in ${stack.workDir}`);
      }
      current = undefined;
    }
  }
  if (!machine || !settings) throw new Error('no scenario ran');

  const table = rows(
    results,
    flags.store === 'postgres' ? 'Temporal server RSS (PostgreSQL not counted)' : undefined,
  );
  const markdown = markdownTable(table);
  const failures = scenarioNames.reduce((n, name) => n + (results[name]?.failures.total ?? 0), 0);
  const missed = table.filter((r) => r.met === false);
  const command = `npm run bench --${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`;
  const report = {
    version: 2,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command,
    mode: flags.quick ? 'quick' : 'full',
    machine: { ...machine, loadAverage1mBefore: loadBefore, loadAverage1mAfter: loadavg()[0] },
    stacks,
    workerSettings: settings,
    plan,
    targets,
    results,
    cpuSeconds: cpu,
    table,
    failures,
    // Smoke and cancel POSTs the API shed (429) and the bench sent again after Retry-After.
    shedWrites: shedWrites.count,
    targetsMissed: missed.map((r) => `${r.scenario}: ${r.figure}`),
  };
  mkdirSync(flags.out, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const storeTag = flags.store === 'postgres' ? 'postgres-' : '';
  const jsonFile = join(flags.out, `${flags.quick ? 'quick-' : ''}${storeTag}${stamp}.json`);
  writeFileSync(jsonFile, JSON.stringify(report, null, 2) + '\n');
  const summary = [
    `Measured ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`${command}\` on ${machineLine(machine)}` +
      (flags.store === 'postgres' ? '; Temporal server on PostgreSQL (the production shape)' : ''),
    `(1-min load average ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after the run, its own load included).` +
      // Only the load before tells of other work: the figure after is mostly the bench's own processes.
      (loadBefore > machine.cpuCount
        ? ' The machine was busy with other work (load average above its CPU count): these figures are what' +
          ' this run measured and are pessimistic; rerun on a quiet machine to replace them.'
        : ''),
    '',
    markdown,
    '',
  ].join('\n');
  process.stdout.write(`\n${summary}\nresults: ${jsonFile}\n`);
  if (!flags.quick) {
    const latest = join(flags.out, flags.store === 'postgres' ? 'latest-postgres.md' : 'latest.md');
    writeFileSync(latest, await prettierMarkdown(summary, latest));
  }
  // The docs' table is the dev-server one; PostgreSQL figures stand beside it in latest-postgres.md.
  if (flags.updateReadme && !flags.quick && flags.store === 'sqlite')
    await replaceReadmeSection(summary.trimEnd());

  if (failures > 0) log(`FAILED: ${failures} sessions lost or calls failed (see "failures" in ${jsonFile})`);
  if (missed.length > 0) log(`targets missed: ${report.targetsMissed.join('; ')}`);
  process.exitCode = failures > 0 ? 2 : flags.check && missed.length > 0 ? 1 : 0;
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) console.error(`bench: ${err.message}\n${USAGE}`);
  else console.error(err);
  process.exit(2);
});
