// Exactly once under a SIGKILL between "the provider accepted the SMS" and "Temporal heard the activity
// complete". The worker (the built dist/worker/main.js, its own process) reaches Temporal through a
// relay that the Twilio stand-in freezes the moment it accepts the owner's SMS, so the completion
// cannot get out; once the worker has recorded the send, it is SIGKILLed. A new worker retries the
// activity once its heartbeats stop (5 s, not its 20 s start-to-close timeout), finds "sent" in the
// machine's sent log and does not send.
import '../support/quiet-runtime';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { Client, Connection } from '@temporalio/client';
import { startWebServer, stopWebServer, type RunningWebServer } from '../../src/api/server';
import { createTemporalGateway, type TemporalGateway } from '../../src/api/temporal-gateway';
import { parseConfig } from '../../src/config/config';
import { freePort, startTemporalDevServer, type RunningDevServer } from '../../src/dev/temporal-dev-server';
import { activityAttempts, type ActivityAttempts } from '../support/activity-attempts';
import { eventually, http } from '../support/local-stack';
import { killed, spawnBuilt } from '../support/processes';
import { testLogger } from '../support/silent-logger';
import { SmtpSink, testSmtpAuth } from '../support/smtp-sink';
import { FreezableProxy } from '../support/tcp-proxy';
import { deviceToken, ownerToken, testCodec, testHome } from '../support/test-config';
import { TwilioStandIn, testTwilio } from '../support/twilio-standin';

const root = resolve(__dirname, '../..');
const workerMain = resolve(root, 'dist/worker/main.js');
const HOME = 'home-channels';
const OWNER_PHONE = '+15550000042';
const EMERGENCY_PHONE = '+15550000911';

let dir: string;
let server: RunningDevServer;
let twilio: TwilioStandIn;
let smtp: SmtpSink;
let proxy: FreezableProxy;
let api: RunningWebServer;
let temporal: TemporalGateway;
let connection: Connection;
let configFile: string;
let sentLogPath: string;
const taskQueue = `channels-crash-${randomUUID()}`;
const workers = new Set<ChildProcess>();

function startWorker(name: string, address: string): ChildProcess {
  return spawnBuilt(
    workerMain,
    `channels-crash-${name}`,
    {
      SESSIONFLOW_CONFIG_FILE: configFile,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      // Secrets come from the environment, never from the config file.
      TWILIO_AUTH_TOKEN: testTwilio.authToken,
      SMTP_PASS: testSmtpAuth.pass,
    },
    workers,
  );
}

/** The sent log as the worker left it on disk, read as another process would. */
function sentRows(): { key: string; state: string; suppressed: number; ambiguous: number }[] {
  const db = new Database(sentLogPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT key, state, suppressed, ambiguous FROM sends ORDER BY key').all() as never;
  } finally {
    db.close();
  }
}

function sentRowsOrNone(): ReturnType<typeof sentRows> {
  try {
    return sentRows();
  } catch (err) {
    if (/no such table/.test((err as Error).message)) return [];
    throw err;
  }
}

/** The session's activities, as its history has them. */
const activities = () =>
  activityAttempts(new Client({ connection }).workflow.getHandle(`smoke-alarm:${HOME}`));
const names = (rows: ActivityAttempts[], completed = false) =>
  rows.filter((r) => !completed || r.completed).map((r) => r.name);

beforeAll(async () => {
  if (!existsSync(workerMain))
    throw new Error(`${workerMain} is missing: run 'npm run build' first (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), 'sessionflow-channels-crash-'));
  sentLogPath = join(dir, 'notifications-sent.db');
  server = await startTemporalDevServer({
    dbFile: join(dir, 'temporal.db'),
    port: await freePort(),
    uiPort: false,
  });
  [twilio, smtp] = await Promise.all([new TwilioStandIn().start(), new SmtpSink().start()]);
  const [host, port] = server.address.split(':');
  proxy = await new FreezableProxy({ host, port: Number(port) }).start();
  const raw = {
    temporal: { address: server.address, taskQueue, callTimeoutMs: 3000 },
    alarm: { cancelWindowSeconds: 3 },
    notifications: {
      routes: { sms: 'twilio', call: 'twilio', notify: 'email' },
      twilio: { accountSid: testTwilio.accountSid, from: testTwilio.from, baseUrl: twilio.url },
      email: {
        host: '127.0.0.1',
        port: smtp.port,
        user: testSmtpAuth.user,
        from: 'Sessionflow <alarms@sessionflow.test>',
        to: 'desk@monitoring.test',
      },
      sentLog: { path: sentLogPath },
    },
    homes: {
      [HOME]: testHome(HOME, {
        owner: { name: 'Owner', phone: OWNER_PHONE },
        emergency: { phone: EMERGENCY_PHONE, address: '1 Test Street' },
      }),
    },
    codec: testCodec,
  };
  configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(raw));
  // The API sends nothing: it needs no secret.
  const config = parseConfig(raw);
  temporal = createTemporalGateway(config);
  api = await startWebServer({ config, temporal, logger: testLogger }, 0);
  connection = await Connection.connect({ address: server.address });
});

afterAll(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await stopWebServer(api);
  await temporal.close();
  await connection?.close();
  await Promise.all([twilio.stop(), smtp.stop(), proxy.stop()]);
  await server?.stop();
});

test('When the worker is SIGKILLed after Twilio accepted the SMS but before Temporal heard of it, then the restarted worker does not send it again: one SMS, one call, the notices by e-mail', async () => {
  let frozenAt: number | undefined;
  twilio.onAccept = (a) => {
    if (a.kind === 'sms' && frozenAt === undefined) {
      proxy.freeze(); // before the answer leaves: the completion can no longer reach Temporal
      frozenAt = Date.now();
    }
  };
  const first = startWorker('first', proxy.address);
  const opened = await http(api.url, 'POST', `/homes/${HOME}/smoke`, {
    token: deviceToken(HOME),
    body: { detectorId: 'kitchen' },
  });
  expect(opened.status).toBe(202);

  // The window passes; the worker sends the SMS, records it and tries to report the completion.
  // (The worker creates the file before its table: until both exist, nothing is recorded.)
  // The call goes out beside the SMS: the kill waits until no send is between "the provider took it" and
  // "recorded" (`sending`), the window where a retry must send again (docs/notifications.md); a fast
  // worker had the call there when the SMS was recorded, and the retry called twice.
  await eventually(
    () => Promise.resolve(existsSync(sentLogPath) ? sentRowsOrNone() : []),
    (rows) =>
      rows.some((r) => r.key.startsWith('sms:') && r.state === 'sent') &&
      !rows.some((r) => r.state === 'sending'),
    30_000,
  );
  await killed(first);
  const atKill = await activities();
  expect(names(atKill)).toContain('smsOwner');
  expect(names(atKill, true)).not.toContain('smsOwner');

  startWorker('second', server.address);
  // The retry comes once smsOwner's heartbeats stop (its 5 s heartbeat timeout, not the 20 s
  // start-to-close) and finds "sent".
  const done = await eventually(
    () => activities(),
    (a) => names(a, true).includes('smsOwner') && names(a, true).includes('callEmergency'),
    60_000,
  );
  const sms = done.find((a) => a.name === 'smsOwner')!;
  expect(sms.attempt).toBeGreaterThan(1);
  expect(sms.lastTimeout).toBe('TIMEOUT_TYPE_HEARTBEAT');
  const escalated = await http(api.url, 'GET', `/homes/${HOME}/alarm`, { token: ownerToken(HOME) });
  expect(escalated.body.state).toBe('escalated');
  // The session's next task may still be routed to the dead worker's sticky queue (3-10 s): the API
  // answers 503 meanwhile, and a client retries with the same Idempotency-Key, so a try that took effect
  // after its 503 answers the same again.
  const cleared = await eventually(
    () =>
      http(api.url, 'POST', `/homes/${HOME}/alarm/all-clear`, {
        token: ownerToken(HOME),
        headers: { 'Idempotency-Key': `all-clear-${taskQueue}` },
      }),
    (r) => r.status !== 503,
    30_000,
  );
  expect(cleared.status).toBe(200);
  await smtp.waitFor((mails) => mails.length >= 2);
  await new Promise((r) => setTimeout(r, 1500)); // room for a duplicate to show up

  expect(twilio.of('sms', OWNER_PHONE)).toHaveLength(1);
  expect(twilio.of('call', EMERGENCY_PHONE)).toHaveLength(1);
  expect(twilio.of('call')[0].text).toContain('1 Test Street');
  expect(twilio.accepted).toHaveLength(2);
  // Opened (owner told) and all-clear: two notices, each once, each with its own Message-ID.
  expect(smtp.received).toHaveLength(2);
  expect(new Set(smtp.received.map((m) => m.messageId)).size).toBe(2);
  expect(smtp.received.every((m) => m.to.join() === 'desk@monitoring.test')).toBe(true);
  const smsRow = sentRows().find((r) => r.key.startsWith('sms:'))!;
  expect(smsRow).toMatchObject({ state: 'sent', ambiguous: 0 });
  expect(smsRow.suppressed).toBeGreaterThanOrEqual(1); // the retry was answered from the record
  // The secrets reached the worker through its environment and never its log.
  for (const name of ['first', 'second']) {
    const log = readFileSync(join(root, 'test-artifacts', `channels-crash-${name}.log`), 'utf8');
    expect(log).toContain('notification');
    expect(log).not.toContain(testTwilio.authToken);
    expect(log).not.toContain(testSmtpAuth.pass);
  }
  writeFileSync(
    join(root, 'test-artifacts', 'channels-crash-measurements.json'),
    JSON.stringify(
      {
        smsAccepted: 1,
        callsAccepted: 1,
        mails: smtp.received.length,
        suppressedRetries: smsRow.suppressed,
        // From Twilio taking the SMS (the completion cut off) to Temporal recording the retry's completion.
        smsCompletedAfterCutOffMs: sms.completedAt! - frozenAt!,
        smsAttempts: sms.attempt,
      },
      null,
      2,
    ),
  );
});
