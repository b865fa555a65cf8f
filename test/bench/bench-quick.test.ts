// Keeps the benchmark harness working: `bench --quick` runs every scenario in miniature against a real dev
// server, worker and API, and must write a well-formed results file. Timing is never asserted here (that is
// the bench's own --check); losing a session or a failed call is (exit code 2).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const bench = resolve(root, 'dist-bench/bench/run-bench.js');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [bench, ...args], { cwd: root, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}

describe('bench --quick', () => {
  let out: string;
  beforeAll(() => {
    if (!existsSync(bench)) throw new Error(`${bench} is missing: run 'npm run bench:build' (npm test does)`);
    out = mkdtempSync(join(tmpdir(), 'sessionflow-bench-quick-'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  test('When the quick bench runs then every scenario reports figures with targets and nothing is lost', async () => {
    const { code, stdout, stderr } = await run(['--quick', '--out', out]);
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('| scenario | figure | before (issue 18) | measured | target | met |');

    const files = readdirSync(out).filter((f) => /^quick-.*\.json$/.test(f));
    expect(files).toHaveLength(1);
    expect(readdirSync(out)).not.toContain('latest.md');
    const report = JSON.parse(readFileSync(join(out, files[0]), 'utf8'));

    expect(report).toMatchObject({ version: 2, mode: 'quick', failures: 0 });
    expect(report.machine.cpuCount).toBeGreaterThan(0);
    expect(report.machine.memoryMiB).toBeGreaterThan(0);
    expect(report.machine.node).toBe(process.version);
    expect(report.machine.temporalSdk).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.machine.temporalServer).toMatch(/^\d+\.\d+\.\d+/);

    const { alarm, status, mixed, throughput, scale } = report.results;
    expect(alarm.sessions).toBeGreaterThan(0);
    for (const d of [alarm.smokeToSirenMs, alarm.cancelToSirenOffMs, alarm.statusMs]) {
      expect(d.count).toBe(alarm.samples.length);
      expect(d.p50).toBeGreaterThan(0);
      expect(d.p99).toBeGreaterThanOrEqual(d.p50);
    }
    expect(alarm.samples.length).toBeGreaterThan(0);
    expect(alarm.samples.length).toBeLessThan(alarm.sessions); // the warm-up is not counted
    expect(alarm.allClosed).toBe(true);
    // The platform's floor beside it: the trivial workflow opened by the Temporal client at the same rate.
    expect(alarm.floorMs.count).toBeGreaterThan(0);
    expect(alarm.floorMs.p99).toBeGreaterThanOrEqual(alarm.floorMs.p50);
    // Scenario 1 runs as npm start does (the API beside the worker: openings start eagerly), then apart.
    // Every one: an eager start needs a task slot that no poll holds, and the worker keeps 11 of those
    // (eagerStartSlots) where a handful of openings are ever in flight at once here.
    expect(report.stacks.alarm.api).toBe('in the worker process');
    expect(alarm.eagerOpenings).toBe(alarm.sessions);
    const apart = report.results['alarm-apart'];
    expect(report.stacks['alarm-apart'].api).toBe('own process');
    expect(apart.smokeToSirenMs.count).toBeGreaterThan(0);
    expect(apart.eagerOpenings).toBe(0);
    expect(apart.allClosed).toBe(true);
    // Every session's history was read: a smoke → cancel → close session takes a few workflow tasks.
    expect(alarm.workflowTasksPerSession.count).toBeGreaterThan(0);
    expect(alarm.workflowTasksPerSession.p50).toBeGreaterThanOrEqual(2);

    // Status GET and mixed load (autocannon): every answer known, no 5xx, nothing lost.
    expect(status.load.requests).toBeGreaterThan(0);
    expect(status.load.statuses).toEqual({ 200: status.load.requests });
    expect(mixed.load.requests).toBe(mixed.options.requests);
    expect(mixed.serverErrors).toBe(0);
    expect(mixed.accepted + mixed.shed).toBe(mixed.options.requests / 2);
    // The warm-up ran first, on other homes, and is reported apart.
    expect(mixed.coldStart.requests).toBe(mixed.options.warmupRequests);
    expect(Object.keys(mixed.coldStart.statuses).every((s) => Number(s) < 500)).toBe(true);

    for (const side of [throughput.ours, throughput.direct, throughput.raw]) {
      expect(side.steps.length).toBeGreaterThan(0);
      expect(side.steps.every((s: any) => s.neverTookEffect === 0 && s.failedCalls === 0)).toBe(true);
    }
    expect(Number.isFinite(throughput.ratio)).toBe(true);
    expect(Number.isFinite(throughput.directRatio)).toBe(true);
    // Paired rounds: each side opened sessions in every round, and the ratio is theirs.
    expect(throughput.paired.oursPerSec.every((r: number) => r > 0)).toBe(true);
    expect(throughput.paired.directPerSec.every((r: number) => r > 0)).toBe(true);
    expect(throughput.paired.ratio).toBeCloseTo(
      throughput.paired.oursPerSec[0] / throughput.paired.directPerSec[0],
      6,
    );
    expect(throughput.capacity.signalsPerSec).toBeGreaterThan(0);
    expect(throughput.capacity.startsPerSec).toBeGreaterThan(0);

    expect(scale.runningSeen).toBe(scale.options.sessions);
    expect(scale.completed).toBe(scale.options.sessions);
    expect(scale.runningAfterCancel).toBe(0);
    // The sample is cancelled while the others are open; then all of them close.
    expect(scale.cancelToSirenOffMs.count).toBe(scale.options.cancelSample);
    expect(report.stacks.scale.topology).toBe('gateway');
    // The central worker is its own process there, not the bench's (where the embedded topology runs it).
    expect(scale.memory.worker.pid).toBe(report.stacks.scale.workerPid);
    expect(report.stacks.scale.workerPid).not.toBe(report.stacks.alarm.workerPid);
    expect(scale.memory.worker.rssMiB).toBeGreaterThan(0);
    expect(scale.memory.server.rssMiB).toBeGreaterThan(0);
    expect(scale.workerSettings.maxCachedWorkflows).toBeGreaterThan(0);

    // Every figure with a target says whether it met it; the bench only fails on them under --check.
    const targeted = report.table.filter((r: any) => r.target !== '');
    expect(targeted.length).toBeGreaterThanOrEqual(10);
    expect(targeted.every((r: any) => typeof r.met === 'boolean')).toBe(true);
  });

  test('When the bench is given an option it does not know or a bad value, then it says which with its usage, starts nothing and exits 2', async () => {
    const untouched = mkdtempSync(join(tmpdir(), 'sessionflow-bench-usage-'));
    try {
      for (const [args, says] of [
        [['--quick', '--bogus', '--out', untouched], "Unknown option '--bogus'"],
        [['--quick', '--only', 'alarm,nope', '--out', untouched], '--only: unknown scenario nope'],
        [['--quick', '--scale', '0', '--out', untouched], '--scale: a positive whole number'],
        [['--quick', '--out'], "'--out <value>' argument missing"],
      ] as const) {
        const { code, stdout, stderr } = await run([...args]);
        expect({ args, code, stdout }).toEqual({ args, code: 2, stdout: '' });
        expect(stderr).toContain(says);
        expect(stderr).toContain('usage: npm run bench --');
        expect(stderr).not.toMatch(/\n\s+at /); // one line and the usage, no stack
      }
      expect(readdirSync(untouched)).toEqual([]);
    } finally {
      rmSync(untouched, { recursive: true, force: true });
    }
    const help = await run(['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toContain('--only a,b');
  });
});
