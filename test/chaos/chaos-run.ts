// The chaos run: many smoke-alarm and door-left-open sessions with a mix of outcomes, half of them driven
// through the friendly routes and half through the generic /sessions routes, while the worker (its own process,
// the built dist/worker/main.js) is SIGKILLed and restarted again and again, and the dev server is
// stopped and restarted on its SQLite file. Afterwards every session is checked against its expected
// outcome, and every SMS/call/notice is counted at a real webhook sink: exactly once, none extra,
// escalations within a stated bound of their deadline. Used by test/e2e/chaos.test.ts (small, in
// `npm test`) and `npm run chaos` (full).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startWebServer, stopWebServer } from '../../src/api/server';
import { createTemporalGateway } from '../../src/api/temporal-gateway';
import { parseConfig } from '../../src/config/config';
import { freePort, startTemporalDevServer, type RunningDevServer } from '../../src/dev/temporal-dev-server';
import { http } from '../support/local-stack';
import { testLogger } from '../support/silent-logger';
import { deviceToken, ownerToken, testCodec, testHome } from '../support/test-config';
import { WebhookSink } from '../support/webhook-sink';

export interface ChaosProfile {
  name: string;
  sessions: number;
  /** Sessions open spread over this many seconds. */
  openOverSeconds: number;
  /** Cancel windows of the sessions that escalate by timeout, seconds (uniform in the range). */
  windowSeconds: [number, number];
  /** A worker SIGKILL every this many seconds (± 30 %), restarted after killPauseMs. */
  killEverySeconds: number;
  killPauseMs: number;
  /** Dev-server stop/start cycles, spread over the run. */
  serverRestarts: number;
  serverDownMs: number;
  /** An SMS or call later than this after its deadline counts as late. */
  latenessBoundMs: number;
}

export const chaosProfiles: Record<string, ChaosProfile> = {
  small: {
    name: 'small',
    sessions: 16,
    openOverSeconds: 10,
    windowSeconds: [8, 16],
    killEverySeconds: 6,
    killPauseMs: 1000,
    serverRestarts: 1,
    serverDownMs: 2000,
    latenessBoundMs: 60_000,
  },
  full: {
    name: 'full',
    sessions: 240,
    openOverSeconds: 150,
    windowSeconds: [15, 90],
    killEverySeconds: 15,
    killPauseMs: 1500,
    serverRestarts: 2,
    serverDownMs: 3000,
    latenessBoundMs: 60_000,
  },
};

type Scenario = 'cancelled' | 'timeout' | 'second-detector' | 'resolved' | 'door-left-open' | 'door-closed';
const scenarios: Scenario[] = [
  'cancelled',
  'timeout',
  'second-detector',
  'resolved',
  'door-left-open',
  'door-closed',
];
const isDoor = (s: Scenario) => s.startsWith('door-');
/**
 * Deliveries each scenario must produce, per channel (alarm: notify = owner told at open + closing notice;
 * door left open: reminder, second contact and "closed again", each an SMS).
 */
const expected: Record<Scenario, { sms: number; call: number; notify: number }> = {
  cancelled: { sms: 0, call: 0, notify: 2 },
  timeout: { sms: 1, call: 1, notify: 1 },
  'second-detector': { sms: 1, call: 1, notify: 1 },
  resolved: { sms: 1, call: 1, notify: 2 },
  'door-left-open': { sms: 3, call: 0, notify: 0 },
  'door-closed': { sms: 0, call: 0, notify: 0 },
};
const finalState: Record<Scenario, string> = {
  cancelled: 'cancelled',
  timeout: 'escalated',
  'second-detector': 'escalated',
  resolved: 'resolved',
  'door-left-open': 'closed',
  'door-closed': 'closed',
};
const LONG_WINDOW_S = 1800;

interface Session {
  homeId: string;
  scenario: Scenario;
  /** Through the generic /sessions routes rather than the friendly ones. */
  generic: boolean;
  windowSeconds: number;
  openAtMs: number;
  /** When escalation became due: cancel deadline, or the accepted second detector. */
  dueAt?: number;
  problems: string[];
  notes: string[];
  status?: any;
}

export interface ChaosReport {
  profile: string;
  startedAt: string;
  durationSeconds: number;
  sessions: number;
  byScenario: Record<Scenario, number>;
  workerKills: number;
  workerRestarts: number;
  /** Worker exits nobody asked for (restarted by the supervisor loop). */
  workerCrashes: number;
  serverRestarts: number;
  expectedDeliveries: number;
  delivered: number;
  lost: number;
  duplicated: number;
  /** Same idempotency key at the sink more than once (a send retried after a crash; receivers dedupe). */
  wireRedeliveries: number;
  wrongOutcome: number;
  latenessBoundMs: number;
  late: number;
  maxLatenessMs: number;
  p50LatenessMs: number;
  p95LatenessMs: number;
  apiRetries: number;
  problems: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (min: number, max: number) => min + Math.random() * (max - min);
const root = resolve(__dirname, '../..');

export async function runChaos(profile: ChaosProfile, log: (m: string) => void): Promise<ChaosReport> {
  const started = Date.now();
  const artifacts = resolve(root, 'test-artifacts/chaos');
  mkdirSync(artifacts, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'sessionflow-chaos-'));
  const dbFile = join(dir, 'temporal.db');
  const port = await freePort();
  let server: RunningDevServer = await startTemporalDevServer({ dbFile, port, uiPort: false });
  const sink = await new WebhookSink().start();
  const taskQueue = `chaos-${randomUUID()}`;

  const sessions: Session[] = Array.from({ length: profile.sessions }, (_, i) => {
    const scenario = scenarios[i % scenarios.length];
    const escalatesByTimer = scenario === 'timeout' || scenario === 'resolved';
    return {
      homeId: `chaos-${String(i).padStart(4, '0')}`,
      scenario,
      generic: isDoor(scenario) || Math.floor(i / scenarios.length) % 2 === 1,
      windowSeconds: escalatesByTimer ? Math.round(rand(...profile.windowSeconds)) : LONG_WINDOW_S,
      openAtMs: Math.round(rand(0, profile.openOverSeconds * 1000)),
      problems: [],
      notes: [],
    };
  });
  const raw = {
    temporal: { address: server.address, taskQueue, callTimeoutMs: 5000 },
    alarm: { wrapUpTimeoutSeconds: 600 },
    doors: {
      remindAfterSeconds: profile.windowSeconds[0],
      escalateAfterSeconds: profile.windowSeconds[0] + 6,
    },
    notifications: { channel: 'webhook', webhook: { url: sink.url, timeoutMs: 5000 } },
    homes: Object.fromEntries(
      sessions.map((s) => [s.homeId, testHome(s.homeId, { cancelWindowSeconds: s.windowSeconds })]),
    ),
    codec: testCodec,
    rateLimit: { perTokenPerMinute: 100_000, unauthenticatedPerMinute: 100_000 },
  };
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(raw));
  const config = parseConfig(raw);
  const temporal = createTemporalGateway(config);
  const api = await startWebServer({ config, temporal, logger: testLogger }, 0);

  // --- the worker, as its own process ---
  let worker: ChildProcess | undefined;
  let workerStarts = 0;
  let workerCrashes = 0;
  let supervising = true;
  const startWorker = () => {
    const out = openSync(join(artifacts, `${profile.name}-worker-${workerStarts++}.log`), 'w');
    worker = spawn(process.execPath, [resolve(root, 'dist/worker/main.js')], {
      stdio: ['ignore', out, out],
      env: {
        ...process.env,
        SESSIONFLOW_CONFIG_FILE: configFile,
        TEMPORAL_ADDRESS: server.address,
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
      },
    });
    // Like compose's `restart: unless-stopped`: a worker that exits by itself is started again.
    const me = worker;
    me.once('exit', (_code, signal) => {
      if (signal === 'SIGKILL' || !supervising || worker !== me) return;
      workerCrashes++;
      log(`worker exited by itself; restarting (${workerCrashes})`);
      startWorker();
    });
  };
  const killWorker = async () => {
    const w = worker;
    if (!w || w.exitCode !== null) return;
    const exited = new Promise((r) => w.once('exit', r));
    w.kill('SIGKILL');
    await exited;
  };

  // --- client side: a device/phone that retries while the service says "try again" ---
  let apiRetries = 0;
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const until = Date.now() + 180_000;
    for (;;) {
      const res = await http(api.url, method, path, { token, body }).catch(() => undefined);
      const again =
        !res ||
        res.status === 503 ||
        res.status === 429 ||
        (res.status === 409 && res.body?.error?.code === 'escalation-in-progress');
      if (!again) return res;
      if (Date.now() > until) return res ?? { status: 0, body: undefined, headers: new Headers() };
      apiRetries++;
      await sleep(500);
    }
  };
  const sessionPath = (s: Session) =>
    isDoor(s.scenario) ? `/sessions/door-left-open/${s.homeId}.front` : `/sessions/smoke-alarm/${s.homeId}`;
  const status = (s: Session) =>
    call('GET', s.generic ? sessionPath(s) : `/homes/${s.homeId}/alarm`, ownerToken(s.homeId));
  const event = (s: Session, name: string, body: unknown = {}) =>
    call('POST', `${sessionPath(s)}/events/${name}`, deviceToken(s.homeId), body);
  const smoke = (s: Session, detectorId: string) =>
    s.generic
      ? event(s, 'smokeDetected', { detectorId })
      : call('POST', `/homes/${s.homeId}/smoke`, deviceToken(s.homeId), { detectorId });
  /** cancel / all-clear; a 409 after a lost answer is fine when the session did end that way. */
  const end = async (s: Session, what: 'cancel' | 'all-clear') => {
    const path = s.generic
      ? `${sessionPath(s)}/requests/${what === 'cancel' ? 'cancel' : 'allClear'}`
      : `/homes/${s.homeId}/alarm/${what}`;
    const res = await call('POST', path, ownerToken(s.homeId));
    if (res.status !== 200 && res.status !== 409) s.problems.push(`${what} answered ${res.status}`);
    // A 409 is fine only when an earlier, unanswered try did it; the final check says; keep why.
    if (res.status === 409) s.notes.push(`${what}: 409 ${res.body?.error?.code}`);
  };

  /** The door opens, and closes after a moment or once the second contact was told. */
  const driveDoor = async (s: Session) => {
    const opened = await event(s, 'doorOpened');
    if (opened.status !== 202) return void s.problems.push(`doorOpened answered ${opened.status}`);
    if (s.scenario === 'door-closed') await sleep(rand(1000, 5000));
    else {
      const until = Date.now() + (profile.windowSeconds[0] + 6) * 1000 + 180_000;
      while ((await status(s)).body?.state !== 'escalated') {
        if (Date.now() > until) return void s.problems.push('never escalated');
        await sleep(1000);
      }
    }
    const closed = await event(s, 'doorClosed');
    // A 404 after a lost answer is fine when the session did close; the final check says.
    if (closed.status !== 202 && closed.status !== 404)
      s.problems.push(`doorClosed answered ${closed.status}`);
  };

  const drive = async (s: Session) => {
    await sleep(s.openAtMs);
    if (isDoor(s.scenario)) return driveDoor(s);
    const opened = await smoke(s, 'kitchen');
    if (opened.status !== 202) return void s.problems.push(`smoke answered ${opened.status}`);
    if (s.scenario === 'cancelled') {
      await sleep(rand(1000, 5000));
      await end(s, 'cancel');
    } else if (s.scenario === 'second-detector') {
      await sleep(rand(1000, 5000));
      const second = await smoke(s, 'hall');
      if (second.status !== 202) s.problems.push(`second smoke answered ${second.status}`);
      s.dueAt = Date.now();
    } else if (s.scenario === 'resolved') {
      const until = Date.now() + s.windowSeconds * 1000 + 180_000;
      while ((await status(s)).body?.state !== 'escalated') {
        if (Date.now() > until) return void s.problems.push('never escalated');
        await sleep(1000);
      }
      await end(s, 'all-clear');
    }
  };

  // --- chaos: kill/restart the worker, stop/start the dev server ---
  startWorker();
  let chaosOn = true;
  let kills = 0;
  let serverRestarts = 0;
  const chaosSpan = (profile.openOverSeconds + profile.windowSeconds[1]) * 1000;
  const serverRestartAt = Array.from(
    { length: profile.serverRestarts },
    (_, i) => started + ((i + 1) * chaosSpan) / (profile.serverRestarts + 1),
  );
  const chaos = (async () => {
    while (chaosOn) {
      await sleep(profile.killEverySeconds * 1000 * rand(0.7, 1.3));
      if (!chaosOn) break;
      if (serverRestartAt.length && Date.now() >= serverRestartAt[0]) {
        serverRestartAt.shift();
        log(`chaos: stopping the dev server (${serverRestarts + 1})`);
        await server.stop();
        await sleep(profile.serverDownMs);
        server = await startTemporalDevServer({ dbFile, port, uiPort: false });
        serverRestarts++;
        continue;
      }
      log(`chaos: SIGKILL worker (${kills + 1})`);
      await killWorker();
      kills++;
      await sleep(profile.killPauseMs);
      startWorker();
    }
  })();

  try {
    await Promise.all(sessions.map(drive));
    // Every timer-driven escalation must have come due before chaos stops: keep the pressure on till then.
    const timerDue = sessions
      .filter((s) => s.windowSeconds < LONG_WINDOW_S)
      .map((s) => started + s.openAtMs + s.windowSeconds * 1000);
    const lastDue = Math.max(0, ...timerDue);
    // ...and until the profile's crashes have all happened.
    while (Date.now() < lastDue || kills < 2 || serverRestarts < profile.serverRestarts) await sleep(500);
    chaosOn = false;
    await chaos;
    if (!worker || worker.exitCode !== null) startWorker();
    log('chaos over; waiting for every session to settle');

    // --- settle and check ---
    const settleUntil = Date.now() + 180_000;
    for (const s of sessions) {
      const want = expected[s.scenario];
      for (;;) {
        const st = await status(s);
        const mine = sink.received.filter((n) => n.homeId === s.homeId);
        const uniq = (ch: string) =>
          new Set(mine.filter((n) => n.channel === ch).map((n) => n.idempotencyKey)).size;
        s.status = st.body;
        const done =
          st.body?.state === finalState[s.scenario] &&
          uniq('sms') >= want.sms &&
          uniq('call') >= want.call &&
          uniq('notify') >= want.notify;
        if (done || Date.now() > settleUntil) break;
        await sleep(500);
      }
    }
    await sleep(5000); // room for any duplicate to show up
  } finally {
    chaosOn = false;
    supervising = false;
    await killWorker();
    await stopWebServer(api);
    await temporal.close();
    await sink.stop();
    await server.stop();
  }

  // --- the report ---
  let expectedDeliveries = 0;
  let delivered = 0;
  let lost = 0;
  let duplicated = 0;
  let wireRedeliveries = 0;
  let wrongOutcome = 0;
  const lateness: number[] = [];
  for (const s of sessions) {
    const want = expected[s.scenario];
    const st = s.status;
    if (st?.state !== finalState[s.scenario])
      s.problems.push(`state ${st?.state} (want ${finalState[s.scenario]})`);
    const reason = (
      {
        timeout: 'window-expired',
        resolved: 'window-expired',
        'second-detector': 'second-detector',
      } as Partial<Record<Scenario, string>>
    )[s.scenario];
    if (reason && st?.escalation?.reason !== reason)
      s.problems.push(`escalation ${st?.escalation?.reason} (want ${reason})`);
    if (s.problems.length) wrongOutcome++;
    const mine = sink.received.filter((n) => n.homeId === s.homeId);
    if (s.dueAt === undefined && st?.cancelDeadline && s.scenario !== 'cancelled')
      s.dueAt = Date.parse(st.cancelDeadline);
    for (const channel of ['sms', 'call', 'notify'] as const) {
      const got = mine.filter((n) => n.channel === channel);
      const keys = new Set(got.map((n) => n.idempotencyKey));
      expectedDeliveries += want[channel];
      delivered += Math.min(keys.size, want[channel]);
      wireRedeliveries += got.length - keys.size;
      if (keys.size < want[channel]) {
        lost += want[channel] - keys.size;
        s.problems.push(`${channel}: ${keys.size} of ${want[channel]} delivered`);
      }
      if (keys.size > want[channel]) {
        duplicated += keys.size - want[channel];
        s.problems.push(`${channel}: ${keys.size} distinct deliveries, want ${want[channel]}`);
      }
      if ((channel === 'sms' || channel === 'call') && got.length && s.dueAt !== undefined)
        lateness.push(Math.min(...got.map((n) => n.receivedAt)) - s.dueAt);
    }
  }
  lateness.sort((a, b) => a - b);
  const pct = (p: number) =>
    lateness.length ? lateness[Math.min(lateness.length - 1, Math.floor(p * lateness.length))] : 0;
  const report: ChaosReport = {
    profile: profile.name,
    startedAt: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    sessions: sessions.length,
    byScenario: Object.fromEntries(
      scenarios.map((k) => [k, sessions.filter((s) => s.scenario === k).length]),
    ) as Record<Scenario, number>,
    workerKills: kills,
    workerRestarts: workerStarts - 1,
    workerCrashes,
    serverRestarts,
    expectedDeliveries,
    delivered,
    lost,
    duplicated,
    wireRedeliveries,
    wrongOutcome,
    latenessBoundMs: profile.latenessBoundMs,
    late: lateness.filter((l) => l > profile.latenessBoundMs).length,
    maxLatenessMs: lateness.length ? lateness[lateness.length - 1] : 0,
    p50LatenessMs: pct(0.5),
    p95LatenessMs: pct(0.95),
    apiRetries,
    problems: sessions
      .filter((s) => s.problems.length)
      .slice(0, 30)
      .map((s) => `${s.homeId} (${s.scenario}): ${[...s.problems, ...s.notes].join('; ')}`),
  };
  return report;
}
