// `npm run bench`: alarm latency, cancel latency, status latency, start throughput against the raw
// Temporal client, and 10,000 open sessions — on loopback, with the targets of issue 7 beside each figure.
//   --quick            tiny version of every scenario (seconds; CI keeps the harness working with it)
//   --check            exit 1 when a target is missed (timing is never checked without it)
//   --attach [addr]    use a running Temporal server (default $TEMPORAL_ADDRESS or 127.0.0.1:7233)
//   --store postgres   start the production shape's server on PostgreSQL instead of the SQLite dev server;
//                      results go to latest-postgres.md beside latest.md (never into the docs/performance.md table)
//   --only a,b         scenarios to run: alarm, throughput, scale
//   --out DIR          where results go (default bench/results)
//   --update-readme    put the table into docs/performance.md (full runs only)
// Exit codes: 0 done; 1 a target missed under --check; 2 something was lost or failed (always).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { findTemporalBinary } from '../src/dev/temporal-dev-server';
import { cpuMeter, machineFacts, type CpuUse, type MachineFacts } from './machine';
import { machineLine, markdownTable, rows, targets, type Results } from './report';
import {
  alarmScenario,
  scaleScenario,
  throughputScenario,
  workerSettings,
  type AlarmOptions,
  type ScaleOptions,
  type ThroughputOptions,
} from './scenarios';
import { projectRoot, startBenchStack, type BenchStack } from './stack';

interface Plan {
  alarm: AlarmOptions;
  throughput: ThroughputOptions;
  scale: ScaleOptions;
}

const fullPlan: Plan = {
  alarm: { ratePerSec: 20, warmupSec: 5, durationSec: 30, statusAfterMs: 1000, cancelAfterMs: 2000 },
  throughput: {
    startRate: 10,
    factor: 1.25,
    stepSec: 5,
    maxSteps: 16,
    refineSteps: 2,
    latencyBoundMs: 1000,
    homePool: 8000,
  },
  scale: { sessions: 10_000, concurrency: 32 },
};
const quickPlan: Plan = {
  alarm: { ratePerSec: 5, warmupSec: 0.4, durationSec: 2, statusAfterMs: 300, cancelAfterMs: 600 },
  throughput: {
    startRate: 4,
    factor: 2,
    stepSec: 1,
    maxSteps: 2,
    refineSteps: 0,
    latencyBoundMs: 1000,
    homePool: 40,
  },
  scale: { sessions: 50, concurrency: 8 },
};
const scenarioNames = ['alarm', 'throughput', 'scale'] as const;
type ScenarioName = (typeof scenarioNames)[number];

function parseArgs(argv: string[]) {
  const flags = {
    quick: false,
    check: false,
    attach: undefined as string | undefined,
    store: 'sqlite' as 'sqlite' | 'postgres',
    only: [...scenarioNames] as ScenarioName[],
    out: resolve(projectRoot, 'bench/results'),
    updateReadme: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--quick') flags.quick = true;
    else if (arg === '--check') flags.check = true;
    else if (arg === '--update-readme') flags.updateReadme = true;
    else if (arg === '--out') flags.out = resolve(value());
    else if (arg === '--store') {
      const store = value();
      if (store !== 'sqlite' && store !== 'postgres') throw new Error('--store: sqlite or postgres');
      flags.store = store;
    } else if (arg === '--attach') {
      const next = argv[i + 1];
      flags.attach =
        next && !next.startsWith('--') ? value() : (process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233');
    } else if (arg === '--only') {
      const names = value().split(',');
      const unknown = names.filter((n) => !(scenarioNames as readonly string[]).includes(n));
      if (unknown.length)
        throw new Error(`--only: unknown scenario ${unknown.join(', ')} (${scenarioNames.join(', ')})`);
      flags.only = names as ScenarioName[];
    } else throw new Error(`unknown option ${arg}`);
  }
  return flags;
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
  const plan = flags.quick ? quickPlan : fullPlan;
  const run = (name: ScenarioName) => flags.only.includes(name);
  const startedAt = new Date();
  const loadBefore = loadavg()[0];
  log(`${flags.quick ? 'quick' : 'full'} run: ${flags.only.join(', ')}`);

  const homesFor: Record<ScenarioName, number> = {
    alarm: Math.floor(plan.alarm.ratePerSec * (plan.alarm.warmupSec + plan.alarm.durationSec)),
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
  const stacks: Record<string, { temporal: string; store: string; address: string; serverPid?: number }> = {};
  let machine: MachineFacts | undefined;
  let settings: Record<string, unknown> | undefined;
  // Each scenario gets a fresh stack holding only its own homes: one scenario's sessions, boards and garbage
  // never weigh on the next one's latency or memory figures.
  for (const name of scenarioNames.filter(run)) {
    const stack = await startBenchStack({
      attach: flags.attach,
      store: flags.store,
      cancelWindowSeconds: 3600,
      homeGroups: { [name]: homesFor[name] },
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
        serverPid: stack.serverPid,
      };
      const meter = cpuMeter({ worker: process.pid, api: stack.apiPid, server: stack.serverPid });
      if (name === 'alarm') {
        log(
          `scenarios 1-3: ${plan.alarm.ratePerSec} smoke events/s for ${plan.alarm.warmupSec} s warm-up + ${plan.alarm.durationSec} s`,
        );
        results.alarm = await alarmScenario(stack, plan.alarm);
      } else if (name === 'throughput') {
        log(
          `scenario 4: start throughput from ${plan.throughput.startRate}/s, raw client and ours taking turns`,
        );
        results.throughput = await throughputScenario(stack, plan.throughput);
      } else {
        log(`scenario 5: ${plan.scale.sessions} open sessions`);
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
  const failures = [results.alarm, results.throughput, results.scale].reduce(
    (n, r) => n + (r?.failures.total ?? 0),
    0,
  );
  const missed = table.filter((r) => r.met === false);
  const command = `npm run bench --${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`;
  const report = {
    version: 1,
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
  console.error(err);
  process.exit(2);
});
