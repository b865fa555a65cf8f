// The targets of issue 18 and the table that shows each figure beside its target and its figure before.
import type { MachineFacts } from './machine';
import type { AlarmResult, MixedResult, ScaleResult, StatusResult, ThroughputResult } from './scenarios';
import type { Distribution } from './stats';

export const targets = {
  smokeToSirenP50Ms: 15,
  smokeToSirenP99Ms: 60,
  cancelToSirenOffP99Ms: 60,
  statusGetPerSec: 2000,
  statusGetP99Ms: 25,
  mixedPerSec: 240,
  mixedP99Ms: 250,
  startRatio: 1.0,
  workerRssMiB: 1024,
  scaleCancelP99Ms: 500,
} as const;

/**
 * The same figures before issue 18 (its text and the 25 Nov quiet-machine run of `npm run bench` on the
 * same 2-core machine; status and mixed load were measured then with autocannon as here).
 */
export const before = {
  smoke: 'p50 45.7 ms · p99 103.3 ms',
  cancel: 'p99 65.8 ms',
  statusRead: 'p50 13.4 ms · p99 61.1 ms',
  statusGet: '80 req/s, p50 247 ms',
  mixed: '80 req/s, p99 2.6 s, six 503',
  ratio: '1.32 (0.41–1.32 between runs)',
  raw: '50.7/s',
  ours: '67.1/s',
  scaleWorker: '904 MiB with 10,000 open (worker + load generator + a board per home)',
  scaleServer: '442 MiB with 10,000 open',
  scaleCancel: 'p99 848.9 ms (10,000, 32 callers)',
  scaleOpen: '10,000 in 150.3 s',
} as const;

export interface Row {
  scenario: string;
  figure: string;
  value: string;
  target: string;
  /** The figure before issue 18 ('' when it was not measured). */
  before: string;
  /** undefined: reported, no target. */
  met?: boolean;
}

/** A slot supplier or poller behaviour from the worker's options, in a few words. */
const describe = (x: unknown): string => {
  const o = (x ?? {}) as { numSlots?: number; maximum?: number; minimum?: number; type?: string };
  if (o.numSlots !== undefined) return String(o.numSlots);
  if (o.type === 'autoscaling') return `autoscaling ${String(o.minimum)}–${String(o.maximum)}`;
  return o.maximum !== undefined ? String(o.maximum) : JSON.stringify(x);
};
const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a');
const dist = (d: Distribution, keys: (keyof Distribution)[]) =>
  keys.map((k) => `${k} ${k === 'count' ? d[k] : ms(d[k])}`).join(' · ');

const failedCalls = (f: AlarmResult['failures']) =>
  Object.entries(f.counts)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ') || 'none';

export interface Results {
  /** Scenarios 1-3 with the API in the worker's process (`npm start`'s shape). */
  alarm?: AlarmResult;
  /** The same with the API in its own process. */
  'alarm-apart'?: AlarmResult;
  status?: StatusResult;
  mixed?: MixedResult;
  throughput?: ThroughputResult;
  scale?: ScaleResult;
}

const perSec = (v: number) => `${v.toFixed(v >= 100 ? 0 : 1)}/s`;
const statusCounts = (s: Record<string, number>) =>
  Object.entries(s)
    .map(([code, n]) => `${code}×${n}`)
    .join(' ');

/** `serverRss` labels the Temporal server's memory row (the dev server, or the real one on PostgreSQL). */
export function rows(r: Results, serverRss = 'Temporal dev server RSS'): Row[] {
  const out: Row[] = [];
  const all: (keyof Distribution)[] = ['p50', 'p95', 'p99', 'max'];
  const smokeToSiren = (scenario: string, a: AlarmResult, beforeValue: string): Row => ({
    scenario,
    figure: 'smoke POST → siren HIGH (first notification)',
    value: dist(a.smokeToSirenMs, all),
    target: `p50 ≤ ${targets.smokeToSirenP50Ms} ms, p99 ≤ ${targets.smokeToSirenP99Ms} ms`,
    before: beforeValue,
    met:
      a.smokeToSirenMs.p50 <= targets.smokeToSirenP50Ms && a.smokeToSirenMs.p99 <= targets.smokeToSirenP99Ms,
  });
  const cancelToOff = (scenario: string, a: AlarmResult, beforeValue: string): Row => ({
    scenario,
    figure: 'cancel POST → siren LOW',
    value: dist(a.cancelToSirenOffMs, all),
    target: `p99 ≤ ${targets.cancelToSirenOffP99Ms} ms`,
    before: beforeValue,
    met: a.cancelToSirenOffMs.p99 <= targets.cancelToSirenOffP99Ms,
  });
  const phases = (scenario: string, a: AlarmResult): Row => ({
    scenario,
    figure: 'smoke → siren HIGH by phase, p50 (p99), from histories of every 5th session',
    value: Object.entries(a.openingPhasesMs)
      .map(([name, d]) => `${name} ${d.p50.toFixed(1)} (${d.p99.toFixed(1)})`)
      .join(' · '),
    target: '',
    before: '',
  });
  const nothingLost = (scenario: string, a: AlarmResult): Row => ({
    scenario,
    figure: 'opened, cancelled, closed',
    value: `${a.sessions} sessions (warm-up included); failed calls: ${failedCalls(a.failures)}; all closed: ${a.allClosed ? 'yes' : 'no'}`,
    target: 'nothing lost',
    before: '',
    met: a.failures.total === 0 && a.allClosed,
  });
  if (r.alarm) {
    const a = r.alarm;
    const load = `${a.options.ratePerSec}/s for ${a.options.durationSec} s after ${a.options.warmupSec} s warm-up`;
    out.push(
      smokeToSiren(
        `1 alarm (${load}; API, worker and boards in one process, as npm start runs them)`,
        a,
        before.smoke,
      ),
      {
        scenario: '1',
        figure:
          'sessions opened with an eager start (the worker beside the API ran the first task from the reply)',
        value: `${a.eagerOpenings} of ${a.sessions}`,
        target: '',
        before: '',
      },
      {
        scenario: '1',
        figure: `floor: the Temporal client opens a trivial workflow at ${a.options.ratePerSec}/s, alone (signalWithStart → its first activation; no HTTP, no session)`,
        value: dist(a.floorMs, ['p50', 'p95', 'p99']),
        target: '',
        before: '',
      },
      cancelToOff('2 cancel', a, before.cancel),
      {
        scenario: '3 status',
        figure: 'GET /homes/{id}/alarm 1 s after each smoke',
        value: dist(a.statusMs, ['p50', 'p99', 'max']),
        target: '',
        before: before.statusRead,
      },
      {
        scenario: '1-3',
        figure: 'workflow tasks per session (smoke → cancel → closed)',
        value: `mean ${a.workflowTasksPerSession.mean.toFixed(1)} · p50 ${a.workflowTasksPerSession.p50} · max ${a.workflowTasksPerSession.max} (${a.workflowTasksPerSession.count} sessions)`,
        target: '',
        before: '',
      },
      phases('1', a),
      nothingLost('1-3 sessions', a),
    );
  }
  const apart = r['alarm-apart'];
  if (apart) {
    out.push(
      smokeToSiren('1 alarm, API in its own process (as deployed apart), same load', apart, ''),
      cancelToOff('2 cancel, API apart', apart, ''),
      phases('1, API apart', apart),
      nothingLost('1-3 sessions, API apart', apart),
    );
  }
  if (r.status) {
    const s = r.status;
    out.push({
      scenario: `status GET (${s.options.connections} connections, ${s.options.durationSec} s, autocannon)`,
      figure: 'GET /homes/{id}/alarm of open sessions',
      value: `${perSec(s.load.requestsPerSec)}, p50 ${ms(s.load.latencyMs.p50)} · p99 ${ms(s.load.latencyMs.p99)} · max ${ms(s.load.latencyMs.max)}; ${statusCounts(s.load.statuses)}`,
      target: `≥ ${targets.statusGetPerSec}/s at p99 ≤ ${targets.statusGetP99Ms} ms`,
      before: before.statusGet,
      met:
        s.load.requestsPerSec >= targets.statusGetPerSec &&
        s.load.latencyMs.p99 <= targets.statusGetP99Ms &&
        s.failures.total === 0,
    });
  }
  if (r.mixed) {
    const m = r.mixed;
    const warm = m.options.warmupRequests > 0 ? ` after ${m.options.warmupRequests} to warm up` : '';
    out.push({
      scenario: `mixed load (${m.options.connections} connections, ${m.options.requests} requests${warm}, load test's mix)`,
      figure: 'smoke POST then status GET, round robin over homes',
      value: `${perSec(m.load.requestsPerSec)}, p50 ${ms(m.load.latencyMs.p50)} · p99 ${ms(m.load.latencyMs.p99)}; ${statusCounts(m.load.statuses)}; ${m.shed} shed (429), every accepted event in its session: ${m.failures.counts['event-lost'] ? 'no' : 'yes'}`,
      target: `≥ ${targets.mixedPerSec}/s, p99 ≤ ${targets.mixedP99Ms} ms, no 5xx`,
      before: before.mixed,
      met:
        m.load.requestsPerSec >= targets.mixedPerSec &&
        m.load.latencyMs.p99 <= targets.mixedP99Ms &&
        m.serverErrors === 0 &&
        m.failures.total === 0,
    });
    if (m.coldStart) {
      const c = m.coldStart;
      out.push({
        scenario: 'mixed load',
        figure: `its warm-up: the same mix on ${m.options.homes} other homes, fresh worker and API (cold start)`,
        value: `${perSec(c.requestsPerSec)}, p50 ${ms(c.latencyMs.p50)} · p99 ${ms(c.latencyMs.p99)}; ${statusCounts(c.statuses)}`,
        target: '',
        before: '',
      });
    }
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
      before: before.ours,
    });
    out.push({
      scenario: '4',
      figure: 'Temporal client, the same sessions: signalWithStart → siren HIGH, sustained',
      value: rate(t.direct),
      target: '',
      before: '',
    });
    out.push({
      scenario: '4',
      figure: 'sustained open-loop rates, ours / Temporal client',
      value: Number.isFinite(t.directRatio) ? t.directRatio.toFixed(2) : 'n/a',
      target: '',
      before: '',
    });
    const p = t.paired;
    const rates = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
    out.push({
      scenario: '4',
      figure: `sessions opened/s, ours / Temporal client (same sessions; ${p.oursPerSec.length} paired rounds, ${p.callers} callers closed loop, ${p.seconds} s each; medians)`,
      value: `${Number.isFinite(p.ratio) ? p.ratio.toFixed(2) : 'n/a'} (ours ${rates(p.oursPerSec)}/s; client ${rates(p.directPerSec)}/s)`,
      target: `≥ ${targets.startRatio.toFixed(1)}`,
      before: '',
      met: p.ratio >= targets.startRatio,
    });
    out.push({
      scenario: '4',
      figure: 'raw client, trivial workflow: signalWithStart → opened, sustained',
      value: rate(t.raw),
      target: '',
      before: before.raw,
    });
    out.push({
      scenario: '4',
      figure: 'sessions opened/s, ours / trivial workflow (the session’s own work)',
      value: Number.isFinite(t.ratio) ? t.ratio.toFixed(2) : 'n/a',
      target: '',
      before: before.ratio,
    });
    const c = t.capacity;
    out.push({
      scenario: '4',
      figure: `server write capacity (raw client, ${c.callers} callers, ${c.seconds} s each)`,
      value: `signals ${perSec(c.signalsPerSec)}, starts ${perSec(c.startsPerSec)}`,
      target: '',
      before: '',
    });
  }
  if (r.scale) {
    const s = r.scale;
    const mib = (m: { rssMiB: number; peakRssMiB: number } | undefined) =>
      m ? `${m.rssMiB.toFixed(0)} MiB (peak ${m.peakRssMiB.toFixed(0)})` : 'n/a';
    const peak = (m: { peakRssMiB: number } | undefined) => (m ? `${m.peakRssMiB.toFixed(0)} MiB` : 'n/a');
    out.push({
      scenario: `5 scale (${s.options.sessions} sessions, homes on a gateway)`,
      figure: 'open at once (visibility: Running)',
      value: `${s.runningSeen} (opened in ${s.openSeconds.toFixed(1)} s by ${s.options.concurrency} callers)`,
      target: `${s.options.sessions}`,
      before: before.scaleOpen,
      met: s.runningSeen === s.options.sessions,
    });
    const workerPeak = s.peakAfterCancel.worker?.peakRssMiB;
    out.push({
      scenario: '5',
      figure: 'central worker process RSS (alone: no boards, no load generator)',
      value: `${mib(s.memory.worker)} with all open; run peak ${peak(s.peakAfterCancel.worker)}`,
      target: `< ${targets.workerRssMiB} MiB`,
      before: before.scaleWorker,
      met: workerPeak !== undefined && workerPeak < targets.workerRssMiB,
    });
    out.push({
      scenario: '5',
      figure: serverRss,
      value: `${mib(s.memory.server)} with all open; run peak ${peak(s.peakAfterCancel.server)}`,
      target: '',
      before: before.scaleServer,
    });
    out.push({ scenario: '5', figure: 'API process RSS', value: mib(s.memory.api), target: '', before: '' });
    const w = s.workerSettings;
    out.push({
      scenario: '5',
      figure: 'worker settings',
      value: `maxCachedWorkflows ${String(w.maxCachedWorkflows)}, reuseV8Context ${String(w.reuseV8Context)}, workflow threads ${String(w.workflowThreadPoolSize)}, workflow tasks at once ${describe(w.workflowTaskSlots)}, polls ${describe(w.workflowTaskPollerBehavior)} (ratio shared/own ${String(w.nonStickyToStickyPollRatio)})`,
      target: '',
      before: '',
    });
    out.push({
      scenario: '5',
      figure: `cancel POST → siren command, ${s.cancelToSirenOffMs.count} at ${s.options.cancelRatePerSec}/s while all others open`,
      value: dist(s.cancelToSirenOffMs, ['p50', 'p95', 'p99', 'max']),
      target: `p99 ≤ ${targets.scaleCancelP99Ms} ms`,
      before: before.scaleCancel,
      met: s.cancelToSirenOffMs.count > 0 && s.cancelToSirenOffMs.p99 <= targets.scaleCancelP99Ms,
    });
    out.push({
      scenario: '5',
      figure: `the others cancelled by ${s.options.concurrency} callers → all closed`,
      value: `${s.allClosedSeconds.toFixed(1)} s; ${s.completed} completed, ${s.runningAfterCancel} running`,
      target: 'all closed, nothing lost',
      before: '',
      met: s.lost === 0 && s.runningAfterCancel === 0 && s.failures.total === 0,
    });
  }
  return out;
}

export function markdownTable(all: Row[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    '| scenario | figure | before (issue 18) | measured | target | met |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of all) {
    const met = r.met === undefined ? '' : r.met ? 'yes' : '**no**';
    lines.push(
      `| ${cell(r.scenario)} | ${cell(r.figure)} | ${cell(r.before)} | ${cell(r.value)} | ${cell(r.target)} | ${met} |`,
    );
  }
  return lines.join('\n');
}

export function machineLine(m: MachineFacts): string {
  return (
    `${m.cpuCount} × ${m.cpuModel}, ${(m.memoryMiB / 1024).toFixed(0)} GiB RAM, ${m.os}; Node ${m.node}; ` +
    `Temporal ${m.temporalCli ?? `server ${m.temporalServer ?? '?'}`}; TypeScript SDK ${m.temporalSdk}`
  );
}
