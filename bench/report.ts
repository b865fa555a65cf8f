// The targets of issue 7 and the table that shows each figure beside its target.
import type { MachineFacts } from './machine';
import type { AlarmResult, ScaleResult, ThroughputResult } from './scenarios';
import type { Distribution } from './stats';

export const targets = {
  smokeToSirenP99Ms: 150,
  cancelToSirenOffP99Ms: 150,
  statusP99Ms: 50,
  startRatio: 0.8,
  workerRssMiB: 1024,
} as const;

export interface Row {
  scenario: string;
  figure: string;
  value: string;
  target: string;
  /** undefined: reported, no target. */
  met?: boolean;
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a');
const dist = (d: Distribution, keys: (keyof Distribution)[]) =>
  keys.map((k) => `${k} ${k === 'count' ? d[k] : ms(d[k])}`).join(' · ');

const failedCalls = (f: AlarmResult['failures']) =>
  Object.entries(f.counts)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ') || 'none';

/** A latency figure judged by its p99. */
const latencyRow = (
  scenario: string,
  figure: string,
  d: Distribution,
  keys: (keyof Distribution)[],
  p99TargetMs: number,
): Row => ({
  scenario,
  figure,
  value: dist(d, keys),
  target: `p99 < ${p99TargetMs} ms`,
  met: d.p99 < p99TargetMs,
});

export interface Results {
  alarm?: AlarmResult;
  throughput?: ThroughputResult;
  scale?: ScaleResult;
}

/** `serverRss` labels the Temporal server's memory row (the dev server, or the real one on PostgreSQL). */
export function rows(r: Results, serverRss = 'Temporal dev server RSS'): Row[] {
  const out: Row[] = [];
  if (r.alarm) {
    const a = r.alarm;
    const load = `${a.options.ratePerSec}/s for ${a.options.durationSec} s after ${a.options.warmupSec} s warm-up`;
    const all: (keyof Distribution)[] = ['p50', 'p95', 'p99', 'max'];
    out.push(
      latencyRow(
        `1 alarm (${load})`,
        'smoke POST → siren HIGH',
        a.smokeToSirenMs,
        all,
        targets.smokeToSirenP99Ms,
      ),
      latencyRow(
        '2 cancel',
        'cancel POST → siren LOW',
        a.cancelToSirenOffMs,
        all,
        targets.cancelToSirenOffP99Ms,
      ),
      latencyRow('3 status', 'GET /homes/{id}/alarm', a.statusMs, ['p50', 'p99', 'max'], targets.statusP99Ms),
    );
    out.push({
      scenario: '1-3 sessions',
      figure: 'opened, cancelled, closed',
      value: `${a.sessions} sessions (warm-up included); failed calls: ${failedCalls(a.failures)}; all closed: ${a.allClosed ? 'yes' : 'no'}`,
      target: 'nothing lost',
      met: a.failures.total === 0 && a.allClosed,
    });
  }
  if (r.throughput) {
    const t = r.throughput;
    const rate = (x: typeof t.ours) => {
      const last = [...x.steps].reverse().find((st) => st.offeredPerSec === x.sustainedPerSec);
      const p99 = last ? `, start→effect p99 ${ms(last.startToEffectMs.p99)}` : '';
      const tried = x.steps.map((st) => `${st.offeredPerSec.toFixed(0)}${st.sustained ? '' : '✗'}`).join(' ');
      return `${x.sustainedPerSec.toFixed(1)}/s${p99} (steps ${tried})${x.poolExhausted ? ' — home pool exhausted: lower bound' : ''}`;
    };
    out.push({
      scenario: `4 start throughput (open loop, ${t.options.stepSec} s steps)`,
      figure: 'ours: POST → siren HIGH, sustained',
      value: rate(t.ours),
      target: '',
    });
    out.push({
      scenario: '4',
      figure: 'raw client: signalWithStart → opened, sustained',
      value: rate(t.raw),
      target: '',
    });
    out.push({
      scenario: '4',
      figure: 'ours / raw',
      value: Number.isFinite(t.ratio) ? t.ratio.toFixed(2) : 'n/a',
      target: `≥ ${targets.startRatio}`,
      met: t.ratio >= targets.startRatio,
    });
  }
  if (r.scale) {
    const s = r.scale;
    const mib = (m: { rssMiB: number; peakRssMiB: number } | undefined) =>
      m ? `${m.rssMiB.toFixed(0)} MiB (peak ${m.peakRssMiB.toFixed(0)})` : 'n/a';
    out.push({
      scenario: `5 scale (${s.options.sessions} sessions)`,
      figure: 'open at once (visibility: Running)',
      value: `${s.runningSeen} (opened in ${s.openSeconds.toFixed(1)} s)`,
      target: `${s.options.sessions}`,
      met: s.runningSeen === s.options.sessions,
    });
    const peak = (m: { peakRssMiB: number } | undefined) => (m ? `${m.peakRssMiB.toFixed(0)} MiB` : 'n/a');
    const workerPeak = s.peakAfterCancel.worker?.peakRssMiB;
    out.push({
      scenario: '5',
      figure: 'worker process RSS (worker + load generator)',
      value: `${mib(s.memory.worker)} with all open; run peak ${peak(s.peakAfterCancel.worker)}`,
      target: `< ${targets.workerRssMiB} MiB`,
      met: workerPeak !== undefined && workerPeak < targets.workerRssMiB,
    });
    out.push({
      scenario: '5',
      figure: serverRss,
      value: `${mib(s.memory.server)} with all open; run peak ${peak(s.peakAfterCancel.server)}`,
      target: '',
    });
    out.push({ scenario: '5', figure: 'API process RSS', value: mib(s.memory.api), target: '' });
    const w = s.workerSettings;
    out.push({
      scenario: '5',
      figure: 'worker cache settings',
      value: `maxCachedWorkflows ${String(w.maxCachedWorkflows)}, reuseV8Context ${String(w.reuseV8Context)}, workflow threads ${String(w.workflowThreadPoolSize)}`,
      target: '',
    });
    out.push({
      scenario: '5',
      figure: 'cancel POST → siren LOW',
      value: dist(s.cancelToSirenOffMs, ['p50', 'p95', 'p99', 'max']),
      target: '',
    });
    out.push({
      scenario: '5',
      figure: 'first cancel → all closed',
      value: `${s.allClosedSeconds.toFixed(1)} s; ${s.completed} completed, ${s.runningAfterCancel} running`,
      target: 'all closed, nothing lost',
      met: s.lost === 0 && s.runningAfterCancel === 0 && s.failures.total === 0,
    });
  }
  return out;
}

export function markdownTable(all: Row[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const lines = ['| scenario | figure | measured | target | met |', '| --- | --- | --- | --- | --- |'];
  for (const r of all) {
    const met = r.met === undefined ? '' : r.met ? 'yes' : '**no**';
    lines.push(`| ${cell(r.scenario)} | ${cell(r.figure)} | ${cell(r.value)} | ${cell(r.target)} | ${met} |`);
  }
  return lines.join('\n');
}

export function machineLine(m: MachineFacts): string {
  return (
    `${m.cpuCount} × ${m.cpuModel}, ${(m.memoryMiB / 1024).toFixed(0)} GiB RAM, ${m.os}; Node ${m.node}; ` +
    `Temporal ${m.temporalCli ?? `server ${m.temporalServer ?? '?'}`}; TypeScript SDK ${m.temporalSdk}`
  );
}
