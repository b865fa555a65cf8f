// The five scenarios of issue 7. Every latency is measured end to end on one clock: from the moment the
// HTTP request is sent to the moment the simulated board's siren pin is written (SimulatedIO timestamps).
import { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import autocannon from 'autocannon';
import { dataConverterFor } from '../src/codec/aes-gcm-codec';
import { sendSessionEvent } from '../src/config/session-events';
import { sessionKind as smokeAlarmKind, smokeAlarmWorkflowId } from '../src/shared/smoke-alarm';
import { closedLoop, httpJson, openLoop, type HttpResult } from './load';
import { processMemory, type ProcessMemory } from './machine';
import type { BenchStack } from './stack';
import { distribution, nowMs, sleep, type Distribution } from './stats';
import { openSignal, rawSessionWorkflow } from './workflows/raw-session';
import { scrape, total } from '../test/support/prometheus';

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

/** When the home's siren went to `value` at or after `since` (see BenchStack.sirenAt). */
const sirenWrittenAt = (stack: BenchStack, homeId: string, value: 0 | 1, since: number, timeoutMs: number) =>
  stack.sirenAt(homeId, value, since, timeoutMs);

const round1 = (v: number) => Math.round(v * 10) / 10;

const describeHttp = (r: HttpResult) => `${r.status} ${JSON.stringify(r.body).slice(0, 200)}`;

/**
 * A write as a well-behaved client sends it: shed by the API (429, nothing sent), it waits Retry-After and
 * sends again. The waits count in its time; `shedWrites` counts the refusals.
 */
export const shedWrites = { count: 0 };
async function write(send: () => Promise<HttpResult>): Promise<HttpResult> {
  const first = await send();
  let last = first;
  while (last.status === 429) {
    shedWrites.count += 1;
    await sleep((last.retryAfterSec ?? 1) * 1000);
    last = await send();
  }
  return { ...last, startedAt: first.startedAt, ms: nowMs() - first.startedAt };
}
const smoke = (stack: BenchStack, homeId: string) =>
  write(() =>
    httpJson(stack.apiUrl, 'POST', `/homes/${homeId}/smoke`, stack.homes.device(homeId), {
      detectorId: 'kitchen',
    }),
  );
const cancel = (stack: BenchStack, homeId: string) =>
  write(() => httpJson(stack.apiUrl, 'POST', `/homes/${homeId}/alarm/cancel`, stack.homes.owner(homeId)));
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
  /** Then the platform's floor at the same rate for this long (see floorOpenings); its first second is warm-up. */
  floorSec: number;
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
  /** Workflow tasks (WorkflowTaskCompleted in history) of a sample of the sessions, open to closed. */
  workflowTasksPerSession: Distribution;
  /** Where smoke → siren HIGH went, from the histories of a sample of measured sessions (see openingPhases). */
  openingPhasesMs: Record<OpeningPhase, Distribution>;
  /** The platform's floor beside it: the Temporal client opening a trivial workflow (floorOpenings). */
  floorMs: Distribution;
  /** Sessions the API opened with an eager start (its `sessionflow_eager_openings_total`). */
  eagerOpenings: number;
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
  // Split after the run (history reads would add load): every fifth measured opening.
  const phaseSample: [string, number, number][] = [];
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
    if (counted && onAt !== undefined && i % 5 === 0) phaseSample.push([homeId, t0, onAt]);
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
  const phases = await Promise.all(phaseSample.map(([h, t0, onAt]) => openingPhases(stack, h, t0, onAt)));
  const floorMs = await floorOpenings(stack, o.ratePerSec, o.floorSec, failures);
  const eagerOpenings = await apiCounter(stack, 'sessionflow_eager_openings_total');
  const sample = Array.from({ length: Math.min(10, sessions) }, (_, k) =>
    stack.homes.id(group, Math.floor((k * sessions) / Math.min(10, sessions))),
  );
  return {
    options: o,
    sessions,
    smokeToSirenMs: distribution(on),
    cancelToSirenOffMs: distribution(off),
    statusMs: distribution(statusMs),
    smokePostMs: distribution(smokePost),
    samples: samples.sort((a, b) => a[0] - b[0]),
    workflowTasksPerSession: distribution(await Promise.all(sample.map((h) => workflowTasks(stack, h)))),
    openingPhasesMs: Object.fromEntries(
      openingPhaseNames.map((name) => [name, distribution(phases.map((p) => p[name]))]),
    ) as Record<OpeningPhase, Distribution>,
    floorMs,
    eagerOpenings,
    allClosed: running === 0 && completed === sessions,
    failures,
  };
}

/** The sum of one of the API's counters over its labels, from its /metrics. */
const apiCounter = async (stack: BenchStack, name: string) =>
  total(await scrape(`${stack.apiUrl}/metrics`), name);

/** Opens the bench's trivial session as a raw client would: signalWithStart on its own task queue. */
const openRawSession = (stack: BenchStack, workflowId: string) =>
  stack.client.workflow.signalWithStart(rawSessionWorkflow, {
    workflowId,
    taskQueue: stack.rawTaskQueue,
    signal: openSignal,
  });

/**
 * What smoke → siren is measured against on the same machine in the same run: the bench's trivial
 * workflow (bench/workflows/raw-session.ts) opened by the Temporal client in this process at the same
 * rate, alone, from signalWithStart to the end of its first activation (its sink runs there, where a
 * session's first local activity is dispatched). No HTTP, no API, no session logic, no codec.
 */
async function floorOpenings(
  stack: BenchStack,
  ratePerSec: number,
  durationSec: number,
  failures: Failures,
): Promise<Distribution> {
  const ids: string[] = [];
  const ms: number[] = [];
  const warmup = Math.floor(ratePerSec);
  if (durationSec <= 0) return distribution(ms);
  await openLoop(ratePerSec, durationSec * 1000, async (i) => {
    const workflowId = `bench-floor-${stack.homes.tag}-${i}`;
    ids.push(workflowId);
    const t0 = nowMs();
    const opened = stack.rawOpened.wait(workflowId, 30_000);
    try {
      await openRawSession(stack, workflowId);
    } catch (err) {
      failures.add('floor-signal-with-start', String(err));
      return;
    }
    const at = await opened;
    if (at === undefined) failures.add('floor-never-opened', workflowId);
    else if (i >= warmup) ms.push(at - t0);
  });
  await terminateAll(stack, ids);
  return distribution(ms);
}

/** Workflow tasks a session's run took: its history's WorkflowTaskCompleted events. */
async function workflowTasks(stack: BenchStack, homeId: string): Promise<number> {
  const history = await stack.client.workflow.getHandle(smokeAlarmWorkflowId(homeId)).fetchHistory();
  const completed = temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED;
  return (history.events ?? []).filter((e) => e.eventType === completed).length;
}

const openingPhaseNames = ['api', 'firstTaskWait', 'firstTaskToSiren', 'firstTask'] as const;
type OpeningPhase = (typeof openingPhaseNames)[number];
type OpeningPhases = Record<OpeningPhase, number>;

/**
 * Splits one opening by its history's event times (server clock, the same host's): POST sent → run started
 * (API and the server's start), → first workflow task started (dispatch to the worker's poll), → siren pin
 * HIGH (the first task switches an embedded board itself, src/workflows/hardware.ts). `firstTask` is that
 * task's whole time, to its completion: the siren does not wait for it.
 */
async function openingPhases(
  stack: BenchStack,
  homeId: string,
  t0: number,
  onAt: number,
): Promise<OpeningPhases> {
  const toEpoch = Date.now() - nowMs();
  const history = await stack.client.workflow.getHandle(smokeAlarmWorkflowId(homeId)).fetchHistory();
  const T = temporal.api.enums.v1.EventType;
  const events = history.events ?? [];
  const at = (type: temporal.api.enums.v1.EventType) => {
    const t = events.find((ev) => ev.eventType === type)?.eventTime;
    return t ? tsToMs(t) - toEpoch : NaN;
  };
  const started = at(T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
  const taskStarted = at(T.EVENT_TYPE_WORKFLOW_TASK_STARTED);
  return {
    api: started - t0,
    firstTaskWait: taskStarted - started,
    firstTaskToSiren: onAt - taskStarted,
    firstTask: at(T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) - taskStarted,
  };
}

/** Opens a session for each home (smoke POST) and waits until its siren is on: it is then published. */
async function openSessions(stack: BenchStack, homeIds: string[], failures: Failures, callers = 8) {
  await closedLoop(
    callers,
    (i) => i >= homeIds.length,
    async (i) => {
      const t0 = nowMs();
      const on = sirenWrittenAt(stack, homeIds[i], HIGH, t0, 30_000);
      const posted = await smoke(stack, homeIds[i]);
      if (posted.status !== 202) failures.add('smoke-post', describeHttp(posted));
      if ((await on) === undefined) failures.add('siren-never-on', homeIds[i]);
    },
  );
}

function runAutocannon(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((done, fail) => {
    autocannon(opts, (err: Error | null, result) => (err ? fail(err) : done(result)));
  });
}

/** What one autocannon run measured, in the figures the targets name. */
export interface HttpLoad {
  requests: number;
  seconds: number;
  requestsPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
}

function httpLoad(r: autocannon.Result, statuses: Record<string, number>): HttpLoad {
  return {
    requests: r.requests.total,
    seconds: r.duration,
    requestsPerSec: r.requests.total / r.duration,
    latencyMs: {
      p50: r.latency.p50,
      p90: r.latency.p90,
      p99: r.latency.p99,
      max: r.latency.max,
      mean: r.latency.average,
    },
    statuses,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}

const count = (statuses: Record<string, number>, status: number) =>
  void (statuses[status] = (statuses[status] ?? 0) + 1);

// ---------------------------------------------------------------------------------------------------------
// Status GET throughput: autocannon with N connections reading the status of open sessions, round robin.

export interface StatusOptions {
  homes: number;
  connections: number;
  durationSec: number;
}

export interface StatusResult {
  options: StatusOptions;
  load: HttpLoad;
  failures: Failures;
}

export async function statusScenario(stack: BenchStack, o: StatusOptions): Promise<StatusResult> {
  const failures = new Failures();
  const homeIds = Array.from({ length: o.homes }, (_, i) => stack.homes.id('status', i));
  await openSessions(stack, homeIds, failures);
  let next = 0;
  const statuses: Record<string, number> = {};
  const result = await runAutocannon({
    url: stack.apiUrl,
    connections: o.connections,
    duration: o.durationSec,
    requests: [
      {
        setupRequest: (req) => {
          const homeId = homeIds[next++ % homeIds.length];
          return {
            ...req,
            method: 'GET',
            path: `/homes/${homeId}/alarm`,
            headers: { authorization: `Bearer ${stack.homes.owner(homeId)}` },
          };
        },
        onResponse: (status) => count(statuses, status),
      },
    ],
  });
  const load = httpLoad(result, statuses);
  const bad = Object.entries(statuses).filter(([s]) => s !== '200');
  if (bad.length > 0) failures.add('status-not-200', JSON.stringify(Object.fromEntries(bad)));
  if (result.errors > 0) failures.add('http-errors', `${result.errors} (timeouts ${result.timeouts})`);
  return { options: o, load, failures };
}

// ---------------------------------------------------------------------------------------------------------
// Mixed load, as in test/e2e/load.test.ts: N connections, each posting a smoke event for the next of a few
// homes and then reading that home's status; a fixed number of requests, so every answer is known. Above
// the write capacity the API may shed (429, nothing sent); 5xx are failures; every accepted event must be
// counted in its session (asked from Temporal afterwards). Measured after a warm-up of the same mix on other
// homes, as scenario 1 is: the figure is the running system's; the warm-up's (a fresh worker and API, code
// not yet optimised) is reported beside it.

export interface MixedOptions {
  homes: number;
  connections: number;
  requests: number;
  /** Requests of the same mix on `homes` other homes before the measured ones (0: none). */
  warmupRequests: number;
}

export interface MixedResult {
  options: MixedOptions;
  load: HttpLoad;
  /** The warm-up: the same mix on other homes, from a fresh stack. */
  coldStart: HttpLoad | undefined;
  accepted: number;
  shed: number;
  serverErrors: number;
  failures: Failures;
}

interface MixRound {
  load: HttpLoad;
  accepted: number;
  shed: number;
  serverErrors: number;
}

async function mixRound(
  stack: BenchStack,
  homeIds: string[],
  connections: number,
  requests: number,
  failures: Failures,
): Promise<MixRound> {
  const accepted = new Map<string, number>();
  // A 503 on smoke means "not confirmed": the event may or may not have been taken.
  const unconfirmed = new Map<string, number>();
  const statuses: Record<string, number> = {};
  let next = 0;
  type Ctx = { homeId: string };
  const result = await runAutocannon({
    url: stack.apiUrl,
    connections,
    amount: requests,
    requests: [
      {
        setupRequest: (req, ctx: object) => {
          const homeId = homeIds[next++ % homeIds.length];
          (ctx as Ctx).homeId = homeId;
          return {
            ...req,
            method: 'POST',
            path: `/homes/${homeId}/smoke`,
            headers: {
              authorization: `Bearer ${stack.homes.device(homeId)}`,
              'content-type': 'application/json',
            },
            body: JSON.stringify({ detectorId: 'kitchen' }),
          };
        },
        onResponse: (status, _body, ctx: object) => {
          count(statuses, status);
          const { homeId } = ctx as Ctx;
          if (status === 202) accepted.set(homeId, (accepted.get(homeId) ?? 0) + 1);
          if (status >= 500) unconfirmed.set(homeId, (unconfirmed.get(homeId) ?? 0) + 1);
        },
      },
      {
        setupRequest: (req, ctx: object) => ({
          ...req,
          method: 'GET',
          path: `/homes/${(ctx as Ctx).homeId}/alarm`,
          headers: { authorization: `Bearer ${stack.homes.owner((ctx as Ctx).homeId)}` },
        }),
        onResponse: (status) => count(statuses, status),
      },
    ],
  });
  const load = httpLoad(result, statuses);
  const serverErrors = Object.entries(statuses)
    .filter(([s]) => Number(s) >= 500)
    .reduce((n, [, c]) => n + c, 0);
  if (result.errors > 0) failures.add('http-errors', `${result.errors} (timeouts ${result.timeouts})`);
  for (const homeId of homeIds) {
    const want = accepted.get(homeId) ?? 0;
    const r = await httpJson(
      stack.apiUrl,
      'GET',
      `/homes/${homeId}/alarm?consistent=true`,
      stack.homes.owner(homeId),
    );
    const body = r.body as { detectors?: { events?: number }[] } | undefined;
    const events = body?.detectors?.[0]?.events ?? 0;
    if (events < want || events > want + (unconfirmed.get(homeId) ?? 0))
      failures.add('event-lost', `${homeId}: ${events} events in the session, ${want} accepted`);
  }
  return {
    load,
    accepted: [...accepted.values()].reduce((a, b) => a + b, 0),
    shed: statuses[429] ?? 0,
    serverErrors,
  };
}

/** The stack's `mixed` homes: the first `homes` are measured, the next `homes` take the warm-up. */
export const mixedHomeCount = (o: MixedOptions) => (o.warmupRequests > 0 ? 2 * o.homes : o.homes);

export async function mixedScenario(stack: BenchStack, o: MixedOptions): Promise<MixedResult> {
  const failures = new Failures();
  const ids = Array.from({ length: mixedHomeCount(o) }, (_, i) => stack.homes.id('mixed', i));
  const measured = ids.slice(0, o.homes);
  const cold =
    o.warmupRequests > 0
      ? await mixRound(stack, ids.slice(o.homes), o.connections, o.warmupRequests, failures)
      : undefined;
  const round = await mixRound(stack, measured, o.connections, o.requests, failures);
  return {
    options: o,
    load: round.load,
    coldStart: cold?.load,
    accepted: round.accepted,
    shed: round.shed,
    serverErrors: round.serverErrors + (cold?.serverErrors ?? 0),
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
  /** The server's write capacity: `callers` raw clients back to back for `capacitySec` each. */
  capacityCallers: number;
  capacitySec: number;
  /**
   * Ours against the Temporal client, paired: `rounds` rounds in which each side opens sessions closed loop
   * (`pairedCallers` callers, each start → siren HIGH → next) for `pairedSec`, in alternating order.
   */
  rounds: number;
  pairedCallers: number;
  pairedSec: number;
  /** Pause after each side's round. */
  pairedSettleSec: number;
}

/** Sessions opened per second by each side in each paired round, and the ratio of their medians. */
export interface PairedOpenings {
  callers: number;
  seconds: number;
  oursPerSec: number[];
  directPerSec: number[];
  /** median(ours) / median(direct), nearest-rank (`distribution`): the target. */
  ratio: number;
}

/** What the Temporal server accepts with the raw client, closed loop: the ceiling under our API's writes. */
export interface WriteCapacity {
  callers: number;
  seconds: number;
  signalsPerSec: number;
  startsPerSec: number;
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
  /** The same smoke-alarm sessions opened by the Temporal client itself (what our API does, minus HTTP). */
  direct: RateResult;
  /** A trivial workflow opened by the Temporal client: what the session's own work costs beside it. */
  raw: RateResult;
  /** ours / direct, sustained open-loop rates: moves by a bisection step between runs. */
  directRatio: number;
  /** ours / direct closed loop in paired rounds: what our API costs over the client (the target). */
  paired: PairedOpenings;
  /** ours / raw. */
  ratio: number;
  capacity: WriteCapacity;
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
    readonly side: Side,
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
 * The sides step through the same rates in turn (raw, direct, ours, raw…), so a change in the machine's
 * background load hits all alike: rising by `factor` until a side fails, then bisecting each side.
 */
async function rampTogether(o: ThroughputOptions, sides: Ramp[]): Promise<void> {
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

/**
 * Ours and the Temporal client open sessions closed loop in turns (ours first in even rounds, second in
 * odd ones), so a drift in the machine's load weighs on both alike; each round's rate is sessions whose
 * siren went on, over the time from the round's start to the last of them. Open-loop ramps decide a
 * sustained rate by one p99 at the edge, and their ratio moved between 0.84 and 1.40 from one run to the next.
 */
async function pairedOpenings(
  o: ThroughputOptions,
  failures: Failures,
  sides: { ours: Side; direct: Side },
  /** Each side's homes for the rounds: `count` of those its `start` and `effectAt` index, from `offset`. */
  homes: { offset: number; count: number },
): Promise<{ figures: PairedOpenings; keys: string[] }> {
  const keys: string[] = [];
  const used = { ours: 0, direct: 0 };
  const openRound = async (name: 'ours' | 'direct'): Promise<number> => {
    const side = sides[name];
    const began = nowMs();
    const until = began + o.pairedSec * 1000;
    let opened = 0;
    let last = began;
    await closedLoop(
      o.pairedCallers,
      // A side out of homes ends its round early; the rate over what it opened still holds.
      () => nowMs() >= until || used[name] >= homes.count,
      async () => {
        const i = homes.offset + used[name]++;
        const since = nowMs();
        const effect = side.effectAt(i, since);
        const started = await side.start(i);
        if (!started) return;
        keys.push(started.key);
        const at = await effect;
        if (at === undefined) {
          failures.add(`${name}-paired-never-opened`, started.key);
          return;
        }
        opened += 1;
        last = Math.max(last, at);
      },
    );
    return last > began ? (opened * 1000) / (last - began) : 0;
  };
  const oursPerSec: number[] = [];
  const directPerSec: number[] = [];
  // A round's sessions go on working after their siren (the first notice, its task): let that settle
  // before the next round, so it does not weigh on the other side.
  const round = async (name: 'ours' | 'direct') => {
    const rate = await openRound(name);
    await sleep(o.pairedSettleSec * 1000);
    return rate;
  };
  for (let k = 0; k < o.rounds; k++) {
    if (k % 2 === 0) {
      oursPerSec.push(await round('ours'));
      directPerSec.push(await round('direct'));
    } else {
      directPerSec.push(await round('direct'));
      oursPerSec.push(await round('ours'));
    }
  }
  const d = distribution(directPerSec).p50;
  return {
    figures: {
      callers: o.pairedCallers,
      seconds: o.pairedSec,
      oursPerSec,
      directPerSec,
      ratio: d > 0 ? distribution(oursPerSec).p50 / d : NaN,
    },
    keys,
  };
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
        await openRawSession(stack, rawId(i));
        return { key: rawId(i), ms: nowMs() - began };
      } catch (err) {
        failures.add('raw-signal-with-start', String(err));
        return undefined;
      }
    },
    effectAt: (i) => stack.rawOpened.wait(rawId(i), effectTimeoutMs),
  });
  // The client the API itself uses, with the codec, sending the event the way the API sends it.
  const directClient = new Client({
    connection: stack.client.connection,
    namespace: stack.namespace,
    dataConverter: dataConverterFor(stack.config),
  });
  const half = Math.floor(o.homePool / 2);
  // Each side's homes: the ramp's from the start of its half, the paired rounds' from its end.
  const rampLimit = Math.floor(half * 0.6);
  const direct = new Ramp(o, {
    limit: rampLimit,
    start: async (i) => {
      const began = nowMs();
      const homeId = homeAt(half + i);
      try {
        await sendSessionEvent(directClient, stack.config, smokeAlarmKind, homeId, 'smokeDetected', {
          detectorId: 'kitchen',
        });
        return { key: smokeAlarmWorkflowId(homeId), ms: nowMs() - began };
      } catch (err) {
        failures.add('direct-signal-with-start', String(err));
        return undefined;
      }
    },
    effectAt: (i, since) => sirenWrittenAt(stack, homeAt(half + i), HIGH, since, effectTimeoutMs),
  });
  const ours = new Ramp(o, {
    limit: rampLimit,
    start: async (i) => {
      const posted = await smoke(stack, homeAt(i));
      if (posted.status === 202) return { key: smokeAlarmWorkflowId(homeAt(i)), ms: posted.ms };
      failures.add('smoke-post', describeHttp(posted));
      return undefined;
    },
    effectAt: (i, since) => sirenWrittenAt(stack, homeAt(i), HIGH, since, effectTimeoutMs),
  });
  await rampTogether(o, [raw, direct, ours]);
  const paired = await pairedOpenings(
    o,
    failures,
    { ours: ours.side, direct: direct.side },
    { offset: rampLimit, count: half - rampLimit },
  );
  const capacity = await writeCapacity(stack, o, raw.keys, failures);
  await terminateAll(stack, [...raw.keys, ...direct.keys, ...ours.keys, ...paired.keys, ...capacity.started]);

  const lost = (r: RateResult) => r.steps.reduce((n, st) => n + st.neverTookEffect, 0);
  if (lost(raw.result()) > 0) failures.add('raw-lost', `${lost(raw.result())} raw workflows never opened`);
  for (const [side, name] of [
    [ours, 'siren-never-on'],
    [direct, 'direct-siren-never-on'],
  ] as const)
    if (lost(side.result()) > 0)
      failures.add(name, `${lost(side.result())} sessions never turned the siren on`);
  return {
    options: o,
    ours: ours.result(),
    direct: direct.result(),
    raw: raw.result(),
    directRatio: direct.good > 0 ? ours.good / direct.good : NaN,
    paired: paired.figures,
    ratio: raw.good > 0 ? ours.good / raw.good : NaN,
    capacity: capacity.figures,
    failures,
  };
}

/**
 * Signals to open raw sessions, then starts of new ones, each by `capacityCallers` callers back to back
 * for `capacitySec`: the writes per second the server (and its store) accepts here.
 */
async function writeCapacity(
  stack: BenchStack,
  o: ThroughputOptions,
  open: string[],
  failures: Failures,
): Promise<{ figures: WriteCapacity; started: string[] }> {
  const timed = async (call: (i: number) => Promise<unknown>, kind: string) => {
    const began = nowMs();
    const until = began + o.capacitySec * 1000;
    const n = await closedLoop(
      o.capacityCallers,
      () => nowMs() >= until,
      (i) =>
        call(i).then(
          () => undefined,
          (err: unknown) => failures.add(kind, String(err)),
        ),
    );
    return n / ((nowMs() - began) / 1000);
  };
  const signalsPerSec =
    open.length === 0
      ? NaN
      : await timed(
          (i) => stack.client.workflow.getHandle(open[i % open.length]).signal(openSignal),
          'capacity-signal',
        );
  const started: string[] = [];
  const startsPerSec = await timed((i) => {
    const workflowId = `bench-cap-${stack.homes.tag}-${i}`;
    started.push(workflowId);
    return stack.client.workflow.start(rawSessionWorkflow, { workflowId, taskQueue: stack.rawTaskQueue });
  }, 'capacity-start');
  return {
    figures: { callers: o.capacityCallers, seconds: o.capacitySec, signalsPerSec, startsPerSec },
    started,
  };
}

// ---------------------------------------------------------------------------------------------------------
// 5. Scale: N sessions open at once in their (long) cancel window, homes on a gateway's queue so the worker
// process is the central worker alone; its memory; cancel latency of a sample at a modest rate while all
// the others stay open; then all the rest cancelled as fast as `concurrency` callers go.

export interface ScaleOptions {
  sessions: number;
  concurrency: number;
  /** The sample cancelled while all are open: this many, at this rate (open loop). */
  cancelSample: number;
  cancelRatePerSec: number;
}

export interface ScaleResult {
  options: ScaleOptions;
  opened: number;
  openSeconds: number;
  runningSeen: number;
  memory: {
    worker: ProcessMemory | undefined;
    api: ProcessMemory | undefined;
    server: ProcessMemory | undefined;
  };
  workerSettings: Record<string, unknown>;
  /** Peak resident memory over the whole scenario (VmHWM once all are closed). */
  peakAfterCancel: { worker: ProcessMemory | undefined; server: ProcessMemory | undefined };
  /** The sample, cancelled while all others were open. */
  cancelToSirenOffMs: Distribution;
  cancelPostMs: Distribution;
  /** From the first cancel of the rest until visibility shows none running and all completed. */
  allClosedSeconds: number;
  runningAfterCancel: number;
  completed: number;
  lost: number;
  failures: Failures;
}

/** The central worker's settings: `workerTuning`, which the raw-client baseline's worker runs with too. */
export function workerSettings(stack: BenchStack): Record<string, unknown> {
  const w = stack.rawWorker.options;
  return {
    maxCachedWorkflows: w.maxCachedWorkflows,
    reuseV8Context: w.reuseV8Context,
    workflowThreadPoolSize: w.workflowThreadPoolSize,
    workflowTaskSlots: w.tuner.workflowTaskSlotSupplier,
    // Added to them where the API shares the worker's connection (scenario 1): workerTuning.
    eagerStartSlots: stack.config.worker.eagerStartSlots,
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
  const every = Math.max(1000, Math.round(o.sessions / 20));

  const openedAt = nowMs();
  const sirensOn: Promise<void>[] = [];
  let opened = 0;
  await closedLoop(
    o.concurrency,
    (i) => i >= o.sessions,
    async (i) => {
      sirensOn.push(
        sirenWrittenAt(stack, homeAt(i), HIGH, 0, effectTimeoutMs).then((at) => {
          if (at === undefined) failures.add('siren-never-on', homeAt(i));
        }),
      );
      const posted = await smoke(stack, homeAt(i));
      if (posted.status === 202) opened += 1;
      else failures.add('smoke-post', describeHttp(posted));
      if ((i + 1) % every === 0) log(`  scale: ${i + 1}/${o.sessions} opened`);
    },
  );
  await Promise.all(sirensOn);
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
    worker: processMemory(stack.workerPid),
    api: processMemory(stack.apiPid),
    server: processMemory(stack.serverPid),
  };

  const off: number[] = [];
  const cancelPost: number[] = [];
  const cancelOne = async (i: number, sample: boolean) => {
    const homeId = homeAt(i);
    const t1 = nowMs();
    const sirenOff = sirenWrittenAt(stack, homeId, LOW, t1, effectTimeoutMs);
    const cancelled = await cancel(stack, homeId);
    if (sample) cancelPost.push(cancelled.ms);
    if (cancelled.status !== 200 || (cancelled.body as { state?: string })?.state !== 'cancelled')
      failures.add('cancel', describeHttp(cancelled));
    const at = await sirenOff;
    if (at === undefined) failures.add('siren-never-off', homeId);
    else if (sample) off.push(at - t1);
  };
  // The sample: spread over the sessions, at a modest rate, while all the others are open.
  const sample = Math.min(o.cancelSample, o.sessions);
  const sampled = new Set(Array.from({ length: sample }, (_, k) => Math.floor((k * o.sessions) / sample)));
  const sampleIds = [...sampled];
  log(`  scale: cancelling ${sample} at ${o.cancelRatePerSec}/s while the others stay open`);
  await openLoop(o.cancelRatePerSec, (sample / o.cancelRatePerSec) * 1000, (k) =>
    cancelOne(sampleIds[k], true),
  );
  const rest = Array.from({ length: o.sessions }, (_, i) => i).filter((i) => !sampled.has(i));
  const closeStart = nowMs();
  await closedLoop(
    o.concurrency,
    (k) => k >= rest.length,
    async (k) => {
      await cancelOne(rest[k], false);
      if ((k + 1) % every === 0) log(`  scale: ${k + 1}/${rest.length} others cancelled`);
    },
  );
  const runningAfterCancel = await visibilityCount(stack, sessionsQuery(stack, group, 'Running'), 0, 120_000);
  const completed = await visibilityCount(
    stack,
    sessionsQuery(stack, group, 'Completed'),
    o.sessions,
    60_000,
  );
  const allClosedSeconds = (nowMs() - closeStart) / 1000;
  const peakAfterCancel = {
    worker: processMemory(stack.workerPid),
    server: processMemory(stack.serverPid),
  };
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
