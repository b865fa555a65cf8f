// The chaos run: many smoke-alarm and door-left-open sessions with a mix of outcomes, half of them driven
// through the friendly routes and half through the generic /sessions routes, while the stack is killed
// again and again: the worker, the API and the edge gateway (each its own process of the built
// dist/…/main.js) are SIGKILLed one at a time and restarted, some worker kills aimed between a provider
// accepting a send and Temporal hearing of it; the dev server is stopped and restarted on its SQLite
// file; and the whole stack (dev server, worker, API, gateway) is SIGKILLed at once, as a power cut would,
// and started again. Half the alarm homes have their sirens on the gateway's simulated johnny-five boards,
// the others on the worker's embedded gateway. Afterwards every session is checked against its expected
// outcome and siren (the session's record, and the gateway's pins for its homes), and every SMS and call
// is counted where the provider would see it (the loopback Twilio stand-in, by phone number) and every
// notice at a real SMTP server (by Message-ID): exactly once, none extra, each within a stated bound of
// when it became due. The worker's sent log says how many retries it answered from its record and how
// many sends it had to repeat blind (a worker killed while the request was in flight). Used by
// test/e2e/chaos.test.ts (small, in `npm test`) and `npm run chaos` (full).
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { freePort, startTemporalDevServer, type RunningDevServer } from '../../src/dev/temporal-dev-server';
import { http } from '../support/local-stack';
import { killed } from '../support/processes';
import { deviceToken, ownerToken, testCodec, testHome } from '../support/test-config';
import Database from 'better-sqlite3';
import { SentLog, type SentLogTotals } from '../../src/activities/sent-log';
import { SmtpSink, testSmtpAuth } from '../support/smtp-sink';
import { FreezableProxy } from '../support/tcp-proxy';
import { TwilioStandIn, testTwilio } from '../support/twilio-standin';

export interface ChaosProfile {
  name: string;
  sessions: number;
  /** Sessions open spread over this many seconds. */
  openOverSeconds: number;
  /** Cancel windows of the sessions that escalate by timeout, seconds (uniform in the range). */
  windowSeconds: [number, number];
  /**
   * A SIGKILL every this many seconds (± 30 %), of the worker, the API and the gateway in turn (every
   * other worker kill aimed after a send), the component restarted after killPauseMs.
   */
  killEverySeconds: number;
  killPauseMs: number;
  /** Dev-server stop/start cycles, spread over the run. */
  serverRestarts: number;
  serverDownMs: number;
  /** SIGKILLs of the whole stack at once (dev server, worker, API, gateway), spread over the run. */
  stackKills: number;
  stackDownMs: number;
  /** An SMS, call or notice later than this after it became due counts as late. */
  latenessBoundMs: number;
}

export const chaosProfiles: Record<string, ChaosProfile> = {
  stress: {
    name: 'stress',
    sessions: 60,
    openOverSeconds: 30,
    windowSeconds: [8, 30],
    killEverySeconds: 3,
    killPauseMs: 500,
    serverRestarts: 1,
    serverDownMs: 1000,
    stackKills: 6,
    stackDownMs: 500,
    latenessBoundMs: 60_000,
  },
  small: {
    name: 'small',
    sessions: 16,
    openOverSeconds: 10,
    windowSeconds: [8, 16],
    killEverySeconds: 5,
    killPauseMs: 1000,
    serverRestarts: 1,
    serverDownMs: 2000,
    stackKills: 2,
    stackDownMs: 2000,
    latenessBoundMs: 60_000,
  },
  full: {
    name: 'full',
    sessions: 240,
    openOverSeconds: 150,
    windowSeconds: [15, 90],
    killEverySeconds: 12,
    killPauseMs: 1500,
    serverRestarts: 2,
    serverDownMs: 3000,
    stackKills: 4,
    stackDownMs: 3000,
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
/** The siren each alarm scenario leaves: on while escalated and open, off once ended. */
const finalSiren: Partial<Record<Scenario, 'on' | 'off'>> = {
  cancelled: 'off',
  timeout: 'on',
  'second-detector': 'on',
  resolved: 'off',
};
const LONG_WINDOW_S = 1800;
const GATEWAY_ID = 'edge-1';
/** The siren relay's pin on every chaos home's board (testHome). */
const SIREN_PIN = 13;

type Component = 'worker' | 'api' | 'gateway';

interface Session {
  homeId: string;
  scenario: Scenario;
  /** Through the generic /sessions routes rather than the friendly ones. */
  generic: boolean;
  /** Sirens on the gateway process's simulated board (else the worker's embedded gateway). */
  onGateway: boolean;
  windowSeconds: number;
  openAtMs: number;
  /** When the device first tried to open the session (smoke, door opened). */
  openedAt?: number;
  /** When escalation became due: cancel deadline, or the second detector's first try. */
  dueAt?: number;
  /** When the owner first tried to end it (cancel, all-clear) or the door first reported closed. */
  endedAt?: number;
  /** When the door's closing was answered (after any retries). */
  closeAnsweredAt?: number;
  problems: string[];
  notes: string[];
  status?: any;
  /** The gateway's siren pin at the end (gateway homes). */
  sirenPin?: number;
}

export interface ChaosReport {
  profile: string;
  startedAt: string;
  durationSeconds: number;
  sessions: number;
  byScenario: Record<Scenario, number>;
  /** Alarm homes whose sirens are on the gateway process's simulated boards. */
  gatewayHomes: number;
  /** SIGKILLs of one component alone (the whole-stack kills are counted in stackKills). */
  kills: Record<Component, number>;
  /**
   * Kills (of the worker, or of the whole stack) that landed after the provider accepted a send and before
   * Temporal heard of it.
   */
  targetedKills: number;
  /** SIGKILLs of dev server, worker, API and gateway at once, each followed by a restart of all four. */
  stackKills: number;
  /** Graceful dev-server stop/start cycles. */
  serverRestarts: number;
  /** Process starts after the first, per component. */
  restarts: Record<Component, number>;
  /** Exits nobody asked for, per component (restarted by the supervisor, as compose would). */
  crashes: Record<Component, number>;
  expectedDeliveries: number;
  delivered: number;
  lost: number;
  /** Distinct deliveries beyond the expected ones (after the idempotency key: Twilio SID, Message-ID). */
  duplicated: number;
  /** The same e-mail (same Message-ID) at the SMTP server more than once; receivers can dedupe these. */
  wireRedeliveries: number;
  /** The worker's sent log: sends, retries answered from the record (suppressed), blind resends (ambiguous). */
  sentLog: SentLogTotals;
  /** Duplicates that no blind resend explains: must be 0 (a blind resend is the documented window). */
  duplicatedOutsideWindow: number;
  wrongOutcome: number;
  /** Sessions whose siren (the session's record, and for gateway homes the board's pin) is not as expected. */
  wrongSiren: number;
  /**
   * Late: an SMS, call or notice more than latenessBoundMs after it became due (escalation: the cancel
   * deadline or the second detector's first try; notices: the device's or owner's first try; door
   * messages: their timers and the door's closing). Killed stacks count against it.
   */
  latenessBoundMs: number;
  late: number;
  maxLatenessMs: number;
  p50LatenessMs: number;
  p95LatenessMs: number;
  apiRetries: number;
  /** Escalated in the read model but not (yet) in Temporal: a status published by a task that was lost. */
  uncommittedReads: number;
  /** Answers no retry helps (5xx other than 503): each a bug; `apiErrorLog` has the API's side of them. */
  serverErrors: string[];
  /** The distinct errors the API logged as `request failed` (5xx) during the run, to explain them. */
  apiErrorLog: string[];
  problems: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (min: number, max: number) => min + Math.random() * (max - min);
const root = resolve(__dirname, '../..');

/**
 * One app process (built entrypoint), restarted like compose's `restart: unless-stopped` when it exits
 * by itself; `kill()` is a SIGKILL nobody restarts until `start()`.
 */
class AppProcess {
  child?: ChildProcess;
  starts = 0;
  crashes = 0;
  private supervising = true;

  constructor(
    readonly name: Component,
    private readonly main: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logDir: string,
    private readonly log: (m: string) => void,
  ) {}

  start(): void {
    const out = openSync(join(this.logDir, `${this.name}-${this.starts++}.log`), 'w');
    const child = spawn(process.execPath, [resolve(root, this.main)], {
      stdio: ['ignore', out, out],
      env: { ...process.env, ...this.env },
    });
    closeSync(out);
    this.child = child;
    this.supervising = true;
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', (code, signal) => {
      process.removeListener('exit', killOnExit);
      if (signal === 'SIGKILL' || !this.supervising || this.child !== child) return;
      this.crashes++;
      this.log(`${this.name} exited by itself (${signal ?? code}); restarting (${this.crashes})`);
      this.start();
    });
  }

  get running(): boolean {
    return Boolean(this.child && this.child.exitCode === null && this.child.signalCode === null);
  }

  async kill(): Promise<void> {
    this.supervising = false;
    if (this.child && this.running) await killed(this.child);
  }
}

export async function runChaos(profile: ChaosProfile, log: (m: string) => void): Promise<ChaosReport> {
  const started = Date.now();
  const artifacts = resolve(root, 'test-artifacts/chaos');
  const logDir = join(artifacts, `${profile.name}-logs`);
  rmSync(logDir, { recursive: true, force: true }); // only this run's logs
  mkdirSync(logDir, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'sessionflow-chaos-'));
  const dbFile = join(dir, 'temporal.db');
  const port = await freePort();
  const startServer = () => startTemporalDevServer({ dbFile, port, uiPort: false });
  let server: RunningDevServer = await startServer();
  const [twilio, smtp] = await Promise.all([new TwilioStandIn().start(), new SmtpSink().start()]);
  const sentLogPath = join(dir, 'notifications-sent.db');
  const taskQueue = `chaos-${randomUUID()}`;
  const [apiPort, gatewayPort] = [await freePort(), await freePort()];
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;

  const sessions: Session[] = Array.from({ length: profile.sessions }, (_, i) => {
    const scenario = scenarios[i % scenarios.length];
    const escalatesByTimer = scenario === 'timeout' || scenario === 'resolved';
    return {
      homeId: `chaos-${String(i).padStart(4, '0')}`,
      scenario,
      generic: isDoor(scenario) || Math.floor(i / scenarios.length) % 2 === 1,
      // Blocks of twelve: both route styles on the gateway, then both on the embedded one.
      onGateway: Math.floor(i / (2 * scenarios.length)) % 2 === 0,
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
    notifications: {
      routes: { sms: 'twilio', call: 'twilio', notify: 'email' },
      // The auth token and SMTP password reach the worker through its environment (below).
      twilio: {
        accountSid: testTwilio.accountSid,
        from: testTwilio.from,
        baseUrl: twilio.url,
        timeoutMs: 5000,
      },
      email: {
        host: '127.0.0.1',
        port: smtp.port,
        user: testSmtpAuth.user,
        from: 'alarms@sessionflow.test',
        to: 'desk@monitoring.test',
        timeoutMs: 5000,
      },
      sentLog: { path: sentLogPath },
    },
    // The run's own read model (worker writes, API reads), not the checkout's .data/.
    readModel: { path: join(dir, 'read-model.db') },
    board: { readyTimeoutMs: 1000, reconnectDelayMs: 200 },
    homes: Object.fromEntries(
      sessions.map((s, i) => [
        s.homeId,
        testHome(s.homeId, {
          cancelWindowSeconds: s.windowSeconds,
          owner: { name: `Owner ${i}`, phone: ownerPhone(i) },
          emergency: { phone: emergencyPhone(i), address: `${i} Chaos Street` },
          ...(s.onGateway ? { gateway: GATEWAY_ID } : {}),
        }),
      ]),
    ),
    codec: testCodec,
    rateLimit: { perTokenPerMinute: 100_000, unauthenticatedPerMinute: 100_000 },
  };
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(raw));
  const homeOfPhone = new Map(
    sessions.flatMap((s, i) => [
      [ownerPhone(i), s.homeId],
      [emergencyPhone(i), s.homeId],
    ]),
  );
  /** What reached the providers, per session: SMS and calls by phone number, notices by their key. */
  const deliveries = (): Delivery[] => [
    ...twilio.accepted.map((a) => ({
      channel: a.kind,
      homeId: homeOfPhone.get(a.to),
      id: a.sid,
      receivedAt: a.receivedAt,
    })),
    ...smtp.received.map((m) => ({
      channel: 'notify' as const,
      homeId: homeOfKey(m.idempotencyKey),
      id: m.messageId ?? '?',
      receivedAt: m.receivedAt,
    })),
  ];

  // --- the app processes; the worker reaches Temporal through a relay a targeted kill can freeze ---
  const proxy = await new FreezableProxy({ host: '127.0.0.1', port }).start();
  const common = { SESSIONFLOW_CONFIG_FILE: configFile, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' };
  const apps: Record<Component, AppProcess> = {
    worker: new AppProcess(
      'worker',
      'dist/worker/main.js',
      {
        ...common,
        TEMPORAL_ADDRESS: proxy.address,
        TWILIO_AUTH_TOKEN: testTwilio.authToken,
        SMTP_PASS: testSmtpAuth.pass,
      },
      logDir,
      log,
    ),
    // The API sends nothing: it needs no secret.
    api: new AppProcess(
      'api',
      'dist/api/main.js',
      { ...common, API_HOST: '127.0.0.1', API_PORT: String(apiPort) },
      logDir,
      log,
    ),
    gateway: new AppProcess(
      'gateway',
      'dist/gateway/main.js',
      { ...common, GATEWAY_ID: GATEWAY_ID, GATEWAY_HTTP_PORT: String(gatewayPort) },
      logDir,
      log,
    ),
  };
  const components = Object.keys(apps) as Component[];
  /**
   * The kill exactly-once is about: the next SMS, call or e-mail a provider accepts freezes the worker's
   * link to Temporal before the answer leaves, so its completion cannot be reported; once the worker has
   * recorded the send, `kill` (the worker alone, or the whole stack). True when it landed there (false:
   * no send came within 15 s, plain kill).
   */
  let aimedKills = 0;
  const killAfterAccept = async (kill: () => Promise<void>): Promise<boolean> => {
    aimedKills++;
    // The sent-log key (a LIKE pattern) of the accepted send.
    const hit = await new Promise<string | undefined>((resolve) => {
      const done = (h?: string) => {
        if (h) proxy.freeze();
        twilio.onAccept = undefined;
        smtp.onAccept = undefined;
        clearTimeout(timer);
        resolve(h);
      };
      const timer = setTimeout(() => done(), 15_000);
      // A home's session sends one SMS and one call at most; its e-mails carry their key.
      twilio.onAccept = (a) => done(`${a.kind}:%:${homeOfPhone.get(a.to)}/%`);
      smtp.onAccept = (m) => done(`notify:${m.idempotencyKey}`);
    });
    let recorded = false;
    if (hit) {
      const until = Date.now() + 5000;
      while (!(recorded = sentStateIs(sentLogPath, hit, 'sent')) && Date.now() < until) await sleep(20);
    }
    await kill();
    proxy.thaw();
    return recorded;
  };

  // --- client side: a device/phone that retries while the service is away or says "try again" ---
  let apiRetries = 0;
  const serverErrors: string[] = [];
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const until = Date.now() + 180_000;
    for (;;) {
      const res = await http(apiUrl, method, path, { token, body }).catch(() => undefined);
      const again =
        !res ||
        res.status === 503 ||
        res.status === 429 ||
        (res.status === 409 && res.body?.error?.code === 'escalation-in-progress');
      if (res && res.status >= 500 && !again)
        serverErrors.push(`${method} ${path} answered ${res.status} ${res.body?.error?.code}`);
      if (!again) return res;
      if (Date.now() > until) return res ?? { status: 0, body: undefined, headers: new Headers() };
      apiRetries++;
      await sleep(500);
    }
  };
  const sessionPath = (s: Session) =>
    isDoor(s.scenario) ? `/sessions/door-left-open/${s.homeId}.front` : `/sessions/smoke-alarm/${s.homeId}`;
  const status = (s: Session, consistent = false) =>
    call(
      'GET',
      `${s.generic ? sessionPath(s) : `/homes/${s.homeId}/alarm`}${consistent ? '?consistent=true' : ''}`,
      ownerToken(s.homeId),
    );
  /**
   * Waits until the session is escalated, as its owner's app would: polling the read model. The worker
   * publishes a status before Temporal has accepted the task that made it, so a worker killed in between
   * leaves a state in the read model that Temporal never recorded (known issue, docs/reliability.md);
   * acting on it goes wrong (the door closes "after" a second contact who was never told). Each escalated
   * read is confirmed by a consistent one; disagreements are counted.
   */
  let uncommittedReads = 0;
  const untilEscalated = async (s: Session, until: number): Promise<boolean> => {
    for (;;) {
      if ((await status(s)).body?.state === 'escalated') {
        if ((await status(s, true)).body?.state === 'escalated') return true;
        uncommittedReads++;
        s.notes.push('read model said escalated before Temporal did');
      }
      if (Date.now() > until) return false;
      await sleep(1000);
    }
  };
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
    s.endedAt = Date.now();
    const res = await call('POST', path, ownerToken(s.homeId));
    if (res.status !== 200 && res.status !== 409) s.problems.push(`${what} answered ${res.status}`);
    // A 409 is fine only when an earlier, unanswered try did it; the final check says; keep why.
    if (res.status === 409) s.notes.push(`${what}: 409 ${res.body?.error?.code}`);
  };

  /** The door opens, and closes after a moment or once the second contact was told. */
  const driveDoor = async (s: Session) => {
    s.openedAt = Date.now();
    const opened = await event(s, 'doorOpened');
    if (opened.status !== 202) return void s.problems.push(`doorOpened answered ${opened.status}`);
    if (s.scenario === 'door-closed') await sleep(rand(1000, 5000));
    else {
      const until = Date.now() + (profile.windowSeconds[0] + 6) * 1000 + 180_000;
      if (!(await untilEscalated(s, until))) return void s.problems.push('never escalated');
    }
    s.endedAt = Date.now();
    const closed = await event(s, 'doorClosed');
    s.closeAnsweredAt = Date.now();
    // A 404 after a lost answer is fine when the session did close; the final check says.
    if (closed.status !== 202 && closed.status !== 404)
      s.problems.push(`doorClosed answered ${closed.status}`);
  };

  const drive = async (s: Session) => {
    await sleep(s.openAtMs);
    if (isDoor(s.scenario)) return driveDoor(s);
    s.openedAt = Date.now();
    const opened = await smoke(s, 'kitchen');
    if (opened.status !== 202) return void s.problems.push(`smoke answered ${opened.status}`);
    if (s.scenario === 'cancelled') {
      await sleep(rand(1000, 5000));
      await end(s, 'cancel');
    } else if (s.scenario === 'second-detector') {
      await sleep(rand(1000, 5000));
      s.dueAt = Date.now();
      const second = await smoke(s, 'hall');
      if (second.status !== 202) s.problems.push(`second smoke answered ${second.status}`);
    } else if (s.scenario === 'resolved') {
      const until = Date.now() + s.windowSeconds * 1000 + 180_000;
      if (!(await untilEscalated(s, until))) return void s.problems.push('never escalated');
      await end(s, 'all-clear');
    }
  };

  /**
   * The deliveries a session must have produced. A door meant to close in time whose closing was held up
   * by the chaos (its answer came after the reminder was due) was rightly reminded: reminder, second
   * contact if it got that far, and "closed again". A reminder for a closing answered before it was due
   * stays a duplicate.
   */
  const wanted = (s: Session) => {
    const want = expected[s.scenario];
    const st = s.status;
    const heldUp =
      s.scenario === 'door-closed' &&
      s.openedAt !== undefined &&
      (s.closeAnsweredAt ?? Infinity) > s.openedAt + profile.windowSeconds[0] * 1000;
    if (!heldUp || !(st?.reminders > 0)) return want;
    const escalated = (st.path ?? []).some((t: { to: string }) => t.to === 'escalated');
    return { ...want, sms: 2 + (escalated ? 1 : 0) };
  };

  /** The gateway's siren pin per home it serves (undefined while it is down or the board not up). */
  const gatewayPins = async (): Promise<Map<string, number>> => {
    const res = await fetch(`${gatewayUrl}/status`, { signal: AbortSignal.timeout(2000) }).catch(
      () => undefined,
    );
    const body = (await res?.json().catch(() => undefined)) as
      { homes: { homeId: string; connected: boolean; simulatedPins?: Record<string, number> }[] } | undefined;
    return new Map(
      (body?.homes ?? [])
        .filter((h) => h.connected && h.simulatedPins)
        .map((h) => [h.homeId, h.simulatedPins![SIREN_PIN]]),
    );
  };

  // --- chaos: kill/restart the components one at a time, stop/start the dev server, kill everything ---
  for (const c of components) apps[c].start();
  let chaosOn = true;
  const kills: Record<Component, number> = { worker: 0, api: 0, gateway: 0 };
  let targetedKills = 0;
  let serverRestarts = 0;
  let stackKills = 0;
  let actions = 0;
  const chaosSpan = (profile.openOverSeconds + profile.windowSeconds[1]) * 1000;
  // Whole-stack kills and server restarts take turns over the run, a whole-stack kill first.
  const big = profile.stackKills + profile.serverRestarts;
  const bigEvents = Array.from({ length: big }, (_, i) => ({
    at: started + ((i + 1) * chaosSpan) / (big + 1),
    what:
      (i % 2 === 0 && i / 2 < profile.stackKills) || (i - 1) / 2 >= profile.serverRestarts
        ? ('stack-kill' as const)
        : ('server-restart' as const),
  }));
  /** Every other one (the first included) right after a send, as the aimed worker kills. */
  const killStack = async () => {
    const aimed = stackKills % 2 === 0;
    log(
      `chaos: SIGKILL the whole stack: dev server, worker, API, gateway${aimed ? ', right after a send' : ''} (${stackKills + 1})`,
    );
    const all = async () => {
      await Promise.all([server.kill(), ...components.map((c) => apps[c].kill())]);
    };
    if (!aimed) await all();
    else if (await killAfterAccept(all)) targetedKills++;
    stackKills++;
    await sleep(profile.stackDownMs);
    server = await startServer();
    for (const c of components) apps[c].start();
  };
  const restartServer = async () => {
    log(`chaos: stopping the dev server (${serverRestarts + 1})`);
    await server.stop();
    await sleep(profile.serverDownMs);
    server = await startServer();
    serverRestarts++;
  };
  /** worker (aimed after a send), API, gateway, worker (plain), in turn. */
  const killOne = async () => {
    const turn = actions++ % 4;
    const c: Component = turn === 1 ? 'api' : turn === 2 ? 'gateway' : 'worker';
    if (turn === 0) {
      log(`chaos: SIGKILL worker right after a send (${kills.worker + 1})`);
      if (await killAfterAccept(() => apps.worker.kill())) targetedKills++;
    } else {
      log(`chaos: SIGKILL ${c} (${kills[c] + 1})`);
      await apps[c].kill();
    }
    kills[c]++;
    await sleep(profile.killPauseMs);
    apps[c].start();
  };
  // A failed restart ends the run (below) instead of leaving it waiting for kills that never come.
  let chaosFailed: Error | undefined;
  const chaos = (async () => {
    while (chaosOn) {
      await sleep(profile.killEverySeconds * 1000 * rand(0.7, 1.3));
      if (!chaosOn) break;
      const next = bigEvents[0];
      if (next && Date.now() >= next.at) {
        bigEvents.shift();
        await (next.what === 'stack-kill' ? killStack() : restartServer());
      } else await killOne();
    }
  })().catch((err: unknown) => {
    chaosFailed = err instanceof Error ? err : new Error(String(err));
  });

  try {
    await Promise.all(sessions.map(drive));
    // Every timer-driven escalation must have come due before chaos stops: keep the pressure on till then.
    const timerDue = sessions
      .filter((s) => s.windowSeconds < LONG_WINDOW_S)
      .map((s) => started + s.openAtMs + s.windowSeconds * 1000);
    const lastDue = Math.max(0, ...timerDue);
    // ...and until the profile's crashes have all happened: every component killed alone, the worker
    // twice, and at least one kill landed between a send and its completion (a few tries at most).
    while (
      Date.now() < lastDue ||
      kills.worker < 2 ||
      kills.api < 1 ||
      kills.gateway < 1 ||
      serverRestarts < profile.serverRestarts ||
      stackKills < profile.stackKills ||
      (targetedKills < 1 && aimedKills < 6)
    ) {
      if (chaosFailed) break;
      await sleep(500);
    }
    chaosOn = false;
    await chaos;
    if (chaosFailed) throw chaosFailed;
    for (const c of components) if (!apps[c].running) apps[c].start();
    log('chaos over; waiting for every session to settle');

    // --- settle and check ---
    const settleUntil = Date.now() + 180_000;
    for (const s of sessions) {
      const siren = finalSiren[s.scenario];
      for (;;) {
        const st = await status(s);
        const mine = deliveries().filter((n) => n.homeId === s.homeId);
        const uniq = (ch: string) => new Set(mine.filter((n) => n.channel === ch).map((n) => n.id)).size;
        s.status = st.body;
        const want = wanted(s);
        if (s.onGateway && siren) s.sirenPin = (await gatewayPins()).get(s.homeId);
        const done =
          st.body?.state === finalState[s.scenario] &&
          uniq('sms') >= want.sms &&
          uniq('call') >= want.call &&
          uniq('notify') >= want.notify &&
          (!siren || st.body?.siren === siren) &&
          (!siren || !s.onGateway || s.sirenPin === (siren === 'on' ? 1 : 0));
        if (done || Date.now() > settleUntil) break;
        await sleep(500);
      }
    }
    // A send cut off by an aimed kill is at the provider already; its retry comes only after the
    // activity's heartbeat timeout. Wait for those retries, which must be answered from the log.
    const retriesUntil = Date.now() + 60_000;
    while (sentLogTotals(sentLogPath).suppressed < targetedKills && Date.now() < retriesUntil)
      await sleep(500);
    await sleep(5000); // room for any duplicate to show up
  } finally {
    chaosOn = false;
    await Promise.all(components.map((c) => apps[c].kill()));
    await Promise.all([twilio.stop(), smtp.stop(), proxy.stop()]);
    await server.stop();
  }

  // --- the report ---
  let expectedDeliveries = 0;
  let delivered = 0;
  let lost = 0;
  let duplicated = 0;
  let wireRedeliveries = 0;
  let duplicatedOutsideWindow = 0;
  let wrongSiren = 0;
  const { totals, blindResends } = readSentLog(sentLogPath);
  const all = deliveries();
  let wrongOutcome = 0;
  const lateness: number[] = [];
  const doorRemind = profile.windowSeconds[0] * 1000;
  const doorEscalate = (profile.windowSeconds[0] + 6) * 1000;
  for (const s of sessions) {
    const want = wanted(s);
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
    const siren = finalSiren[s.scenario];
    if (siren) {
      const pinWanted = siren === 'on' ? 1 : 0;
      const wrong = [
        ...(st?.siren !== siren ? [`siren ${st?.siren} (want ${siren})`] : []),
        ...(s.onGateway && s.sirenPin !== pinWanted
          ? [`gateway pin ${SIREN_PIN} = ${s.sirenPin} (want ${pinWanted})`]
          : []),
      ];
      if (wrong.length) {
        wrongSiren++;
        s.problems.push(...wrong);
      }
    }
    if (s.problems.length) wrongOutcome++;
    if (want !== expected[s.scenario])
      s.notes.push(`door closing held up past the reminder: ${want.sms} SMS expected`);
    const mine = all.filter((n) => n.homeId === s.homeId);
    if (s.dueAt === undefined && st?.cancelDeadline && s.scenario !== 'cancelled')
      s.dueAt = Date.parse(st.cancelDeadline);
    // When each expected delivery became due, per channel; paired in order with the first arrival of
    // each distinct delivery (pairing sorted with sorted gives the smallest worst lateness).
    const opened = s.openedAt ?? 0;
    const due: Record<'sms' | 'call' | 'notify', (number | undefined)[]> = isDoor(s.scenario)
      ? {
          sms: [
            ...(want.sms > 0 ? [opened + doorRemind] : []),
            ...(want.sms > 2 ? [opened + doorEscalate] : []),
            ...(want.sms > 0 ? [s.endedAt] : []),
          ],
          call: [],
          notify: [],
        }
      : {
          sms: want.sms ? [s.dueAt] : [],
          call: want.call ? [s.dueAt] : [],
          notify: [s.openedAt, ...(want.notify > 1 ? [s.endedAt] : [])],
        };
    for (const channel of ['sms', 'call', 'notify'] as const) {
      const got = mine.filter((n) => n.channel === channel);
      const keys = new Set(got.map((n) => n.id));
      expectedDeliveries += want[channel];
      delivered += Math.min(keys.size, want[channel]);
      wireRedeliveries += got.length - keys.size;
      if (keys.size < want[channel]) {
        lost += want[channel] - keys.size;
        s.problems.push(`${channel}: ${keys.size} of ${want[channel]} delivered`);
      }
      if (keys.size > want[channel]) {
        const extra = keys.size - want[channel];
        const explained = Math.min(extra, blindResends.get(`${channel}:${s.homeId}`) ?? 0);
        duplicated += extra;
        duplicatedOutsideWindow += extra - explained;
        if (extra > explained)
          s.problems.push(`${channel}: ${keys.size} distinct deliveries, want ${want[channel]}`);
        else s.notes.push(`${channel}: ${extra} blind resend(s) after a kill mid-request`);
      }
      const firstArrivals = [...keys]
        .map((k) => Math.min(...got.filter((n) => n.id === k).map((n) => n.receivedAt)))
        .sort((a, b) => a - b);
      const dues = due[channel].filter((d): d is number => d !== undefined).sort((a, b) => a - b);
      for (let i = 0; i < Math.min(dues.length, firstArrivals.length); i++) {
        const l = firstArrivals[i] - dues[i];
        lateness.push(l);
        if (l > profile.latenessBoundMs)
          s.problems.push(`${channel} ${i + 1}: ${Math.round(l / 1000)} s late`);
      }
    }
  }
  lateness.sort((a, b) => a - b);
  const pct = (p: number) =>
    lateness.length ? lateness[Math.min(lateness.length - 1, Math.floor(p * lateness.length))] : 0;
  const count = (f: (a: AppProcess) => number) =>
    Object.fromEntries(components.map((c) => [c, f(apps[c])])) as Record<Component, number>;
  const report: ChaosReport = {
    profile: profile.name,
    startedAt: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    sessions: sessions.length,
    byScenario: Object.fromEntries(
      scenarios.map((k) => [k, sessions.filter((s) => s.scenario === k).length]),
    ) as Record<Scenario, number>,
    gatewayHomes: sessions.filter((s) => s.onGateway && finalSiren[s.scenario]).length,
    kills,
    targetedKills,
    stackKills,
    serverRestarts,
    restarts: count((a) => a.starts - 1),
    crashes: count((a) => a.crashes),
    expectedDeliveries,
    delivered,
    lost,
    duplicated,
    wireRedeliveries,
    sentLog: totals,
    duplicatedOutsideWindow,
    wrongOutcome,
    wrongSiren,
    latenessBoundMs: profile.latenessBoundMs,
    late: lateness.filter((l) => l > profile.latenessBoundMs).length,
    maxLatenessMs: lateness.length ? lateness[lateness.length - 1] : 0,
    p50LatenessMs: pct(0.5),
    p95LatenessMs: pct(0.95),
    apiRetries,
    uncommittedReads,
    serverErrors,
    apiErrorLog: apiErrorLog(logDir),
    problems: sessions
      .filter((s) => s.problems.length)
      .slice(0, 30)
      .map((s) => `${s.homeId} (${s.scenario}): ${[...s.problems, ...s.notes].join('; ')}`),
  };
  return report;
}

interface Delivery {
  channel: 'sms' | 'call' | 'notify';
  homeId: string | undefined;
  /** Twilio SID (every create is a new one) or the e-mail's Message-ID (the same on a resend). */
  id: string;
  receivedAt: number;
}

const ownerPhone = (i: number) => `+1555${String(i).padStart(7, '0')}`;
const emergencyPhone = (i: number) => `+1556${String(i).padStart(7, '0')}`;

/**
 * The sent log's totals, and the blind resends per `<channel>:<homeId>` (keys are
 * `<channel>:<session kind>:<session key>/…`; a door's session key is `<homeId>.front`).
 */
function readSentLog(path: string): { totals: SentLogTotals; blindResends: Map<string, number> } {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare('SELECT key, ambiguous FROM sends WHERE ambiguous > 0').all() as {
      key: string;
      ambiguous: number;
    }[];
    const blindResends = new Map<string, number>();
    for (const { key, ambiguous } of rows) {
      const channel = key.slice(0, key.indexOf(':'));
      const home = homeOfKey(key.slice(channel.length + 1));
      if (home)
        blindResends.set(`${channel}:${home}`, (blindResends.get(`${channel}:${home}`) ?? 0) + ambiguous);
    }
    return { totals: sentLogTotals(path), blindResends };
  } finally {
    db.close();
  }
}

function sentLogTotals(path: string): SentLogTotals {
  const log = new SentLog(path);
  try {
    return log.totals();
  } finally {
    log.close();
  }
}

/** Whether the sent log has a key matching the LIKE `pattern` in `state` (read as another process would). */
function sentStateIs(path: string, pattern: string, state: string): boolean {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return Boolean(db.prepare('SELECT 1 FROM sends WHERE key LIKE ? AND state = ?').get(pattern, state));
  } finally {
    db.close();
  }
}

/** The distinct `request failed` errors in the API's logs (pino lines), as type: message. */
function apiErrorLog(logDir: string): string[] {
  const found = new Set<string>();
  for (const file of readdirSync(logDir).filter((f) => f.startsWith('api-'))) {
    for (const line of readFileSync(join(logDir, file), 'utf8').split('\n')) {
      if (!line.includes('"request failed"')) continue;
      try {
        const { err } = JSON.parse(line) as { err?: { type?: string; message?: string } };
        found.add(`${err?.type}: ${err?.message}`);
      } catch {
        found.add(line.slice(0, 300)); // a line cut off by a kill
      }
    }
  }
  return [...found];
}

/**
 * Idempotency keys start with the workflow id, `<session kind>:<session key>`: the home, or for a door
 * `<homeId>.front` (home ids here have no dot).
 */
const homeOfKey = (key: string | undefined) => /^[\w-]+:([^/.]+)[^/]*\//.exec(key ?? '')?.[1];
