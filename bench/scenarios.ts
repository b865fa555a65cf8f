// The five scenarios of issue 7. Every latency is measured end to end on one clock: from the moment the
// HTTP request is sent to the moment the simulated board's siren pin is written (SimulatedIO timestamps).
import { smokeAlarmWorkflowId } from '../src/shared/smoke-alarm';
import { closedLoop, httpJson, openLoop, type HttpResult } from './load';
import { processMemory, type ProcessMemory } from './machine';
import type { BenchStack } from './stack';
import { distribution, nowMs, sleep, type Distribution } from './stats';
import { openSignal, rawSessionWorkflow } from './workflows/raw-session';

const SIREN_PIN = 13;
const HIGH = 1;
const LOW = 0;

/** Counts what went wrong, by kind; a run with any of these is not a valid measurement. */
export class Failures {
  readonly counts: Record<string, number> = {};
  readonly examples: string[] = [];
  add(kind: string, detail: string): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    if (this.examples.length < 10) this.examples.push(`${kind}: ${detail}`);
  }
  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
}

/** When the home's siren pin was written `value` at or after `since` (waits up to timeoutMs). */
async function sirenWrittenAt(
  stack: BenchStack,
  homeId: string,
  value: number,
  since: number,
  timeoutMs: number,
): Promise<number | undefined> {
  const io = stack.deps.simulatedBoards.get(homeId)!;
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

const round1 = (v: number) => Math.round(v * 10) / 10;

const describeHttp = (r: HttpResult) => `${r.status} ${JSON.stringify(r.body).slice(0, 200)}`;

const smoke = (stack: BenchStack, homeId: string) =>
  httpJson(stack.apiUrl, 'POST', `/homes/${homeId}/smoke`, stack.homes.device(homeId), {
    detectorId: 'kitchen',
  });
const cancel = (stack: BenchStack, homeId: string) =>
  httpJson(stack.apiUrl, 'POST', `/homes/${homeId}/alarm/cancel`, stack.homes.owner(homeId));
const status = (stack: BenchStack, homeId: string) =>
  httpJson(stack.apiUrl, 'GET', `/homes/${homeId}/alarm`, stack.homes.owner(homeId));

/** Polls visibility until `query` counts `expected` (or the time is up); returns the last count. */
async function visibilityCount(stack: BenchStack, query: string, expected: number, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { count } = await stack.client.workflow.count(query);
    if (count === expected || Date.now() > until) return count;
    await sleep(250);
  }
}

const sessionsQuery = (stack: BenchStack, group: string, status: 'Running' | 'Completed') =>
  `WorkflowId STARTS_WITH "${smokeAlarmWorkflowId(stack.homes.prefix(group))}" AND ExecutionStatus = "${status}"`;

// ---------------------------------------------------------------------------------------------------------
// 1-3. Alarm, cancel and status latency under a fixed rate of smoke events for distinct homes.

export interface AlarmOptions {
  ratePerSec: number;
  /** Same load first, not counted (JIT, connection pools, first activations); failures still count. */
  warmupSec: number;
  durationSec: number;
  /** Status read this long after the smoke POST; cancel this long after it (siren on by then). */
  statusAfterMs: number;
  cancelAfterMs: number;
}

export interface AlarmResult {
  options: AlarmOptions;
  sessions: number;
  smokeToSirenMs: Distribution;
  cancelToSirenOffMs: Distribution;
  statusMs: Distribution;
  smokePostMs: Distribution;
  /** Every measured session: [ms since the first measured smoke, smoke → siren HIGH ms, cancel → LOW ms]. */
  samples: [number, number, number][];
  allClosed: boolean;
  failures: Failures;
}

export async function alarmScenario(stack: BenchStack, o: AlarmOptions): Promise<AlarmResult> {
  const group = 'alarm';
  const on: number[] = [];
  const off: number[] = [];
  const statusMs: number[] = [];
  const smokePost: number[] = [];
  const failures = new Failures();
  const waitMs = 30_000;
  const samples: [number, number, number][] = [];
  const warmup = Math.floor(o.ratePerSec * o.warmupSec);
  let sessions = 0;
  let measuredFrom = 0;

  await openLoop(o.ratePerSec, (o.warmupSec + o.durationSec) * 1000, async (i) => {
    const homeId = stack.homes.id(group, i);
    const counted = i >= warmup;
    sessions += 1;
    const t0 = nowMs();
    if (i === warmup) measuredFrom = t0;
    const sirenOn = sirenWrittenAt(stack, homeId, HIGH, t0, waitMs);
    const statusRead = sleep(o.statusAfterMs).then(() => status(stack, homeId));
    const posted = await smoke(stack, homeId);
    if (counted) smokePost.push(posted.ms);
    if (posted.status !== 202) failures.add('smoke-post', describeHttp(posted));
    const onAt = await sirenOn;
    if (onAt === undefined) failures.add('siren-never-on', homeId);
    else if (counted) on.push(onAt - t0);
    const read = await statusRead;
    if (counted) statusMs.push(read.ms);
    if (read.status !== 200) failures.add('status', describeHttp(read));

    await sleep(t0 + o.cancelAfterMs - nowMs());
    const t1 = nowMs();
    const sirenOff = sirenWrittenAt(stack, homeId, LOW, t1, waitMs);
    const cancelled = await cancel(stack, homeId);
    if (cancelled.status !== 200 || (cancelled.body as { state?: string })?.state !== 'cancelled')
      failures.add('cancel', describeHttp(cancelled));
    const offAt = await sirenOff;
    if (offAt === undefined) failures.add('siren-never-off', homeId);
    else if (counted) off.push(offAt - t1);
    if (counted && onAt !== undefined && offAt !== undefined)
      samples.push([Math.round(t0 - measuredFrom), round1(onAt - t0), round1(offAt - t1)]);
  });

  const running = await visibilityCount(stack, sessionsQuery(stack, group, 'Running'), 0, 60_000);
  const completed = await visibilityCount(stack, sessionsQuery(stack, group, 'Completed'), sessions, 30_000);
  if (running !== 0 || completed !== sessions)
    failures.add('not-closed', `${running} still running, ${completed}/${sessions} completed`);
  return {
    options: o,
    sessions,
    smokeToSirenMs: distribution(on),
    cancelToSirenOffMs: distribution(off),
    statusMs: distribution(statusMs),
    smokePostMs: distribution(smokePost),
    samples: samples.sort((a, b) => a[0] - b[0]),
    allClosed: running === 0 && completed === sessions,
    failures,
  };
}

// ---------------------------------------------------------------------------------------------------------
// 4. Start throughput: the highest rate of new sessions the system sustains, ours (HTTP → API → Temporal →
// worker → siren on) against the raw client (signalWithStart of a trivial workflow → the worker opened it).
// Open loop, in steps: a rate is sustained when every start of the step took effect and p99 call → effect
// stayed within the bound (the system keeps up instead of queueing).

export interface ThroughputOptions {
  startRate: number;
  factor: number;
  stepSec: number;
  maxSteps: number;
  refineSteps: number;
  latencyBoundMs: number;
  /** Homes available to our side (each new session needs a fresh home). */
  homePool: number;
}

export interface StepResult {
  offeredPerSec: number;
  starts: number;
  failedCalls: number;
  neverTookEffect: number;
  startToEffectMs: Distribution;
  callMs: Distribution;
  sustained: boolean;
}

export interface RateResult {
  sustainedPerSec: number;
  steps: StepResult[];
  poolExhausted: boolean;
}

export interface ThroughputResult {
  options: ThroughputOptions;
  ours: RateResult;
  raw: RateResult;
  ratio: number;
  failures: Failures;
}

interface Side {
  limit: number;
  start: (i: number) => Promise<{ key: string; ms: number } | undefined>;
  effectAt: (i: number, since: number) => Promise<number | undefined>;
}

/** One side of the comparison: runs steps at given rates and keeps the best sustained and the first failed. */
class Ramp {
  private next = 0;
  good = 0;
  bad: number | undefined;
  readonly steps: StepResult[] = [];
  readonly keys: string[] = [];
  poolExhausted = false;

  constructor(
    private readonly o: ThroughputOptions,
    private readonly side: Side,
  ) {}

  async step(rate: number): Promise<void> {
    const n = Math.floor(rate * this.o.stepSec);
    if (this.next + n > this.side.limit) {
      this.poolExhausted = true;
      this.bad ??= rate;
      return;
    }
    const first = this.next;
    this.next += n;
    const latencies: number[] = [];
    const callMs: number[] = [];
    let failedCalls = 0;
    let neverTookEffect = 0;
    await openLoop(rate, this.o.stepSec * 1000, async (j) => {
      const i = first + j;
      const began = nowMs();
      const effect = this.side.effectAt(i, began);
      const started = await this.side.start(i);
      if (!started) {
        failedCalls += 1;
        return;
      }
      this.keys.push(started.key);
      callMs.push(started.ms);
      const at = await effect;
      if (at === undefined) neverTookEffect += 1;
      else latencies.push(at - began);
    });
    const startToEffectMs = distribution(latencies);
    const sustained =
      failedCalls === 0 && neverTookEffect === 0 && startToEffectMs.p99 <= this.o.latencyBoundMs;
    this.steps.push({
      offeredPerSec: rate,
      starts: n,
      failedCalls,
      neverTookEffect,
      startToEffectMs,
      callMs: distribution(callMs),
      sustained,
    });
    if (sustained) this.good = Math.max(this.good, rate);
    else this.bad = Math.min(this.bad ?? rate, rate);
  }

  result(): RateResult {
    return { sustainedPerSec: this.good, steps: this.steps, poolExhausted: this.poolExhausted };
  }
}

/**
 * Both sides step through the same rates in turn (raw, ours, raw, ours…), so a change in the machine's
 * background load hits both alike: rising by `factor` until a side fails, then bisecting each side.
 */
async function rampBoth(o: ThroughputOptions, sides: Ramp[]): Promise<void> {
  for (let k = 0, rate = o.startRate; k < o.maxSteps; k++, rate *= o.factor) {
    const rising = sides.filter((r) => r.bad === undefined);
    if (rising.length === 0) break;
    for (const r of rising) await r.step(rate);
  }
  for (let k = 0; k < o.refineSteps; k++) {
    for (const r of sides)
      if (r.bad !== undefined) await r.step(r.good > 0 ? (r.good + r.bad) / 2 : r.bad / 2);
  }
}

/** Closes the throughput sessions (terminate: no worker involved), so the next scenario starts clean. */
async function terminateAll(stack: BenchStack, workflowIds: string[]) {
  await closedLoop(
    16,
    (i) => i >= workflowIds.length,
    (i) =>
      stack.client.workflow
        .getHandle(workflowIds[i])
        .terminate('benchmark cleanup')
        .then(() => undefined),
  );
}

export async function throughputScenario(stack: BenchStack, o: ThroughputOptions): Promise<ThroughputResult> {
  const failures = new Failures();
  // An overloaded step may take long to drain; a start that never takes effect is lost.
  const effectTimeoutMs = 30_000;
  const rawId = (i: number) => `bench-raw-${stack.homes.tag}-${i}`;
  const homeAt = (i: number) => stack.homes.id('throughput', i);

  const raw = new Ramp(o, {
    limit: Number.MAX_SAFE_INTEGER,
    start: async (i) => {
      const began = nowMs();
      try {
        await stack.client.workflow.signalWithStart(rawSessionWorkflow, {
          workflowId: rawId(i),
          taskQueue: stack.rawTaskQueue,
          signal: openSignal,
        });
        return { key: rawId(i), ms: nowMs() - began };
      } catch (err) {
        failures.add('raw-signal-with-start', String(err));
        return undefined;
      }
    },
    effectAt: (i) => stack.rawOpened.wait(rawId(i), effectTimeoutMs),
  });
  const ours = new Ramp(o, {
    limit: o.homePool,
    start: async (i) => {
      const posted = await smoke(stack, homeAt(i));
      if (posted.status === 202) return { key: smokeAlarmWorkflowId(homeAt(i)), ms: posted.ms };
      failures.add('smoke-post', describeHttp(posted));
      return undefined;
    },
    effectAt: (i, since) => sirenWrittenAt(stack, homeAt(i), HIGH, since, effectTimeoutMs),
  });
  await rampBoth(o, [raw, ours]);
  await terminateAll(stack, [...raw.keys, ...ours.keys]);

  const lost = (r: RateResult) => r.steps.reduce((n, st) => n + st.neverTookEffect, 0);
  if (lost(raw.result()) > 0) failures.add('raw-lost', `${lost(raw.result())} raw workflows never opened`);
  if (lost(ours.result()) > 0)
    failures.add('siren-never-on', `${lost(ours.result())} sessions never turned the siren on`);
  return {
    options: o,
    ours: ours.result(),
    raw: raw.result(),
    ratio: raw.good > 0 ? ours.good / raw.good : NaN,
    failures,
  };
}

// ---------------------------------------------------------------------------------------------------------
// 5. Scale: N sessions open at once in their (long) cancel window; memory; then cancel them all.

export interface ScaleOptions {
  sessions: number;
  concurrency: number;
}

export interface ScaleResult {
  options: ScaleOptions;
  opened: number;
  openSeconds: number;
  runningSeen: number;
  memory: {
    worker: ProcessMemory | undefined;
    workerHeapUsedMiB: number;
    api: ProcessMemory | undefined;
    server: ProcessMemory | undefined;
  };
  workerSettings: Record<string, unknown>;
  /** Peak resident memory over the whole scenario (VmHWM once all are closed). */
  peakAfterCancel: { worker: ProcessMemory | undefined; server: ProcessMemory | undefined };
  cancelToSirenOffMs: Distribution;
  cancelPostMs: Distribution;
  /** From the first cancel POST until visibility shows none running and all completed. */
  allClosedSeconds: number;
  runningAfterCancel: number;
  completed: number;
  lost: number;
  failures: Failures;
}

export function workerSettings(stack: BenchStack): Record<string, unknown> {
  const w = stack.worker.options;
  return {
    maxCachedWorkflows: w.maxCachedWorkflows,
    reuseV8Context: w.reuseV8Context,
    workflowThreadPoolSize: w.workflowThreadPoolSize,
    workflowTaskSlots: w.tuner.workflowTaskSlotSupplier,
    activityTaskSlots: w.tuner.activityTaskSlotSupplier,
    workflowTaskPollerBehavior: w.workflowTaskPollerBehavior,
    activityTaskPollerBehavior: w.activityTaskPollerBehavior,
    nonStickyToStickyPollRatio: w.nonStickyToStickyPollRatio,
    stickyQueueScheduleToStartTimeoutMs: w.stickyQueueScheduleToStartTimeoutMs,
  };
}

export async function scaleScenario(
  stack: BenchStack,
  o: ScaleOptions,
  log: (line: string) => void,
): Promise<ScaleResult> {
  const group = 'scale';
  const failures = new Failures();
  const homeAt = (i: number) => stack.homes.id(group, i);
  const effectTimeoutMs = 300_000;

  const openedAt = nowMs();
  const sirensOn: Promise<number | undefined>[] = [];
  let opened = 0;
  await closedLoop(
    o.concurrency,
    (i) => i >= o.sessions,
    async (i) => {
      sirensOn.push(sirenWrittenAt(stack, homeAt(i), HIGH, 0, effectTimeoutMs));
      const posted = await smoke(stack, homeAt(i));
      if (posted.status === 202) opened += 1;
      else failures.add('smoke-post', describeHttp(posted));
      if ((i + 1) % 1000 === 0) log(`  scale: ${i + 1}/${o.sessions} opened`);
    },
  );
  const neverOn = (await Promise.all(sirensOn)).filter((at) => at === undefined).length;
  if (neverOn > 0) failures.add('siren-never-on', `${neverOn} sessions`);
  const openSeconds = (nowMs() - openedAt) / 1000;
  const runningSeen = await visibilityCount(
    stack,
    sessionsQuery(stack, group, 'Running'),
    o.sessions,
    60_000,
  );
  if (runningSeen !== o.sessions) failures.add('not-running', `${runningSeen}/${o.sessions} running`);
  log(`  scale: ${runningSeen} sessions running at once; measuring memory`);
  const memory = {
    worker: processMemory(process.pid),
    workerHeapUsedMiB: process.memoryUsage().heapUsed / (1024 * 1024),
    api: processMemory(stack.apiPid),
    server: processMemory(stack.serverPid),
  };

  const cancelStart = nowMs();
  const off: number[] = [];
  const cancelPost: number[] = [];
  const sirensOff: Promise<void>[] = [];
  await closedLoop(
    o.concurrency,
    (i) => i >= o.sessions,
    async (i) => {
      const homeId = homeAt(i);
      const t1 = nowMs();
      sirensOff.push(
        sirenWrittenAt(stack, homeId, LOW, t1, effectTimeoutMs).then((at) => {
          if (at === undefined) failures.add('siren-never-off', homeId);
          else off.push(at - t1);
        }),
      );
      const cancelled = await cancel(stack, homeId);
      cancelPost.push(cancelled.ms);
      if (cancelled.status !== 200 || (cancelled.body as { state?: string })?.state !== 'cancelled')
        failures.add('cancel', describeHttp(cancelled));
      if ((i + 1) % 1000 === 0) log(`  scale: ${i + 1}/${o.sessions} cancelled`);
    },
  );
  await Promise.all(sirensOff);
  const runningAfterCancel = await visibilityCount(stack, sessionsQuery(stack, group, 'Running'), 0, 120_000);
  const completed = await visibilityCount(
    stack,
    sessionsQuery(stack, group, 'Completed'),
    o.sessions,
    60_000,
  );
  const allClosedSeconds = (nowMs() - cancelStart) / 1000;
  const peakAfterCancel = { worker: processMemory(process.pid), server: processMemory(stack.serverPid) };
  // Visibility is eventually consistent: confirm with the source of truth for a sample.
  for (let i = 0; i < o.sessions; i += Math.max(1, Math.floor(o.sessions / 50))) {
    const d = await stack.client.workflow.getHandle(smokeAlarmWorkflowId(homeAt(i))).describe();
    if (d.status.name !== 'COMPLETED')
      failures.add('describe-not-completed', `${homeAt(i)}: ${d.status.name}`);
  }
  const lost = o.sessions - completed;
  if (lost > 0 || runningAfterCancel > 0)
    failures.add('not-closed', `${runningAfterCancel} running, ${completed}/${o.sessions} completed`);
  return {
    options: o,
    opened,
    openSeconds,
    runningSeen,
    memory,
    workerSettings: workerSettings(stack),
    peakAfterCancel,
    cancelToSirenOffMs: distribution(off),
    cancelPostMs: distribution(cancelPost),
    allClosedSeconds,
    runningAfterCancel,
    completed,
    lost,
    failures,
  };
}
