// The real channels against real protocol servers on loopback: a stand-in that speaks Twilio's REST
// wire format, and an SMTP server (smtp-server). Then routing by kind through buildNotifier.
import { ApplicationFailure } from '@temporalio/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmailChannel, type EmailOptions } from '../../src/activities/email-notifier';
import type { Notification } from '../../src/activities/notifier';
import { TwilioChannel } from '../../src/activities/twilio-notifier';
import { loadConfig, parseConfig } from '../../src/config/config';
import { freePort } from '../../src/dev/temporal-dev-server';
import { buildNotifier } from '../../src/worker/activity-deps';
import { testLogger } from '../support/silent-logger';
import { SmtpSink, testSmtpAuth } from '../support/smtp-sink';
import { TwilioStandIn, testTwilio } from '../support/twilio-standin';

let twilio: TwilioStandIn;
let smtp: SmtpSink;
beforeAll(async () => {
  [twilio, smtp] = await Promise.all([new TwilioStandIn().start(), new SmtpSink().start()]);
});
afterAll(async () => {
  await Promise.all([twilio.stop(), smtp.stop()]);
});
beforeEach(() => {
  twilio.accepted.length = 0;
  twilio.failNext = [];
  smtp.received.length = 0;
  smtp.failNext = [];
});

const note = (key = 'smoke-alarm:h/run/sms-owner', text = 'FIRE at home h'): Notification => ({
  idempotencyKey: key,
  homeId: 'h',
  to: '+15550000001',
  text,
});
const twilioChannel = (over: Partial<typeof testTwilio> = {}) =>
  new TwilioChannel({ ...testTwilio, ...over, baseUrl: twilio.url, timeoutMs: 2000 });
const email = (over: Partial<EmailOptions> = {}) =>
  new EmailChannel({
    host: '127.0.0.1',
    port: smtp.port,
    secure: false,
    ...testSmtpAuth,
    from: 'Sessionflow <alarms@sessionflow.test>',
    to: 'desk@monitoring.test',
    timeoutMs: 2000,
    ...over,
  });
const failure = (p: Promise<unknown>) => p.then(() => undefined).catch((e: unknown) => e);

describe('TwilioChannel', () => {
  test('When an SMS is sent, then the stand-in gets To, From and Body and the SID comes back', async () => {
    const receipt = await twilioChannel().send('sms', note());
    expect(twilio.accepted).toEqual([
      expect.objectContaining({
        kind: 'sms',
        to: '+15550000001',
        from: testTwilio.from,
        text: 'FIRE at home h',
      }),
    ]);
    expect(receipt.providerId).toBe(twilio.accepted[0].sid);
    expect(receipt.providerId).toMatch(/^SM[0-9a-f]{32}$/);
  });

  test('When a call is placed, then its TwiML says the text (escaped) and the call SID comes back', async () => {
    const receipt = await twilioChannel().send('call', note('k-call', 'Smoke & fire <kitchen>.'));
    const [call] = twilio.of('call');
    expect(call.twiml).toContain('<Say>Smoke &amp; fire &lt;kitchen&gt;.</Say>');
    expect(call.text).toBe('Smoke & fire <kitchen>.');
    expect(receipt.providerId).toBe(call.sid);
  });

  test('When a notice is routed to Twilio, then it goes out as an SMS', async () => {
    await twilioChannel().send('notify', note('k-notify'));
    expect(twilio.of('sms')).toHaveLength(1);
  });

  test('When the auth token is wrong, then the failure is final (non-retryable) and names the status', async () => {
    const err = await failure(twilioChannel({ authToken: 'wrong-token-0123456789' }).send('sms', note()));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'NotificationRejected', nonRetryable: true });
    expect((err as Error).message).toContain('401');
    expect((err as Error).message).not.toContain('wrong-token');
    expect(twilio.accepted).toHaveLength(0);
  });

  test('When Twilio refuses the number, then the failure is final and the number is masked in it (it lands in history)', async () => {
    const err = await failure(twilioChannel().send('sms', { ...note(), to: '0049301234567' }));
    expect(err).toMatchObject({ type: 'NotificationRejected', nonRetryable: true });
    expect((err as Error).message).toContain('21211');
    expect((err as Error).message).not.toContain('0049301234567');
    expect((err as Error).message).toContain('***567');
  });

  test.each([500, 503, 429])('When Twilio answers %i, then the failure is retryable', async (code) => {
    twilio.failNext = [code];
    const err = await failure(twilioChannel().send('sms', note()));
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(twilio.accepted).toHaveLength(0);
  });

  test('When nothing listens at the base URL, then the failure is retryable', async () => {
    const channel = new TwilioChannel({
      ...testTwilio,
      baseUrl: `http://127.0.0.1:${await freePort()}`,
      timeoutMs: 1000,
    });
    const err = await failure(channel.send('sms', note()));
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ApplicationFailure);
  });
});

describe('EmailChannel', () => {
  test('When a notice is mailed, then the SMTP server gets it with a Message-ID derived from the key', async () => {
    const receipt = await email().send('notify', note('smoke-alarm:h/run/notify-owner'));
    const [mail] = smtp.received;
    expect(mail).toMatchObject({
      to: ['desk@monitoring.test'],
      subject: 'Notice (h)',
      text: 'FIRE at home h',
      idempotencyKey: 'smoke-alarm:h/run/notify-owner',
    });
    expect(mail.messageId).toMatch(/^<[0-9a-f]{40}@sessionflow\.test>$/);
    expect(receipt.providerId).toBe(mail.messageId);
  });

  test('When the same step is mailed twice, then both carry the same Message-ID; another step gets another', async () => {
    await email().send('notify', note('k1'));
    await email().send('notify', note('k1'));
    await email().send('notify', note('k2'));
    const ids = smtp.received.map((m) => m.messageId);
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  test('When the contact is an e-mail address, then it is the recipient', async () => {
    await email().send('notify', { ...note(), to: 'owner@home.test' });
    expect(smtp.received[0].to).toEqual(['owner@home.test']);
  });

  test('When the contact is a phone number and no fallback recipient is set, then it is bad configuration', async () => {
    const err = await failure(email({ to: undefined }).send('notify', note()));
    expect(err).toMatchObject({ type: 'BadConfiguration', nonRetryable: true });
  });

  test('When the server refuses the message with 550, then the failure is final', async () => {
    smtp.failNext = [550];
    const err = await failure(email().send('notify', note()));
    expect(err).toMatchObject({ type: 'NotificationRejected', nonRetryable: true });
  });

  test('When the server defers with 451, then the failure is retryable', async () => {
    smtp.failNext = [451];
    const err = await failure(email().send('notify', note()));
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ApplicationFailure);
  });

  test('When the password is wrong, then the failure is final and does not show the password', async () => {
    const err = await failure(email({ pass: 'not-the-password-42' }).send('notify', note()));
    expect(err).toMatchObject({ type: 'NotificationRejected', nonRetryable: true });
    expect((err as Error).message).not.toContain('not-the-password-42');
  });
});

describe('buildNotifier routes', () => {
  test('When routes send SMS and calls to Twilio and notices by e-mail, then each kind reaches its server once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessionflow-routes-'));
    const config = parseConfig({
      notifications: {
        routes: { sms: 'twilio', call: 'twilio', notify: 'email' },
        twilio: { ...testTwilio, baseUrl: twilio.url },
        email: {
          host: '127.0.0.1',
          port: smtp.port,
          ...testSmtpAuth,
          from: 'alarms@sessionflow.test',
          to: 'desk@monitoring.test',
        },
        sentLog: { path: join(dir, 'sent.db') },
      },
    });
    const notifier = buildNotifier(config, testLogger);
    for (let i = 0; i < 2; i++) {
      await notifier.sms(note('r/sms'));
      await notifier.call(note('r/call'));
      await notifier.notify(note('r/notify'));
    }
    // Another notifier on the same sent log (a second worker in this process) does not send them again.
    const restarted = buildNotifier(config, testLogger);
    await restarted.sms(note('r/sms'));
    expect(twilio.of('sms')).toHaveLength(1);
    expect(twilio.of('call')).toHaveLength(1);
    expect(smtp.received).toHaveLength(1);
  });

  test('When a route names a channel that is not configured, then the config is refused', () => {
    expect(() => parseConfig({ notifications: { routes: { call: 'twilio' } } })).toThrow(
      /twilio channel needs notifications.twilio.accountSid and from/,
    );
    // The secret is the worker's business: the config (the API's too) passes without it, the notifier not.
    const noToken = parseConfig({
      notifications: {
        routes: { call: 'twilio' },
        twilio: { accountSid: testTwilio.accountSid, from: '+1555' },
      },
    });
    expect(() => buildNotifier(noToken, testLogger)).toThrow(/TWILIO_AUTH_TOKEN/);
    expect(() => parseConfig({ notifications: { routes: { notify: 'email' } } })).toThrow(
      /email channel needs notifications.email.host and from/,
    );
  });

  test('When the auth token and SMTP password come from the environment, then they land in the config', () => {
    const c = loadConfig({
      NOTIFY_ROUTE_SMS: 'twilio',
      NOTIFY_ROUTE_NOTIFY: 'email',
      TWILIO_ACCOUNT_SID: testTwilio.accountSid,
      TWILIO_AUTH_TOKEN: testTwilio.authToken,
      TWILIO_FROM: testTwilio.from,
      TWILIO_BASE_URL: 'http://127.0.0.1:9',
      SMTP_HOST: 'smtp.test',
      SMTP_PORT: '465',
      SMTP_SECURE: 'true',
      SMTP_USER: 'u',
      SMTP_PASS: 'p',
      SMTP_FROM: 'a@b.test',
      NOTIFY_SENT_LOG: '/tmp/x.db',
    });
    expect(c.notifications.routes).toEqual({ sms: 'twilio', notify: 'email' });
    expect(c.notifications.twilio).toMatchObject({
      authToken: testTwilio.authToken,
      baseUrl: 'http://127.0.0.1:9',
    });
    expect(c.notifications.email).toMatchObject({ host: 'smtp.test', port: 465, secure: true, pass: 'p' });
    expect(c.notifications.sentLog.path).toBe('/tmp/x.db');
  });
});
