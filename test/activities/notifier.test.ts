// Notification channels against a real HTTP receiver.
import { ApplicationFailure } from '@temporalio/common';
import {
  DedupingNotifier,
  WebhookNotifier,
  maskContact,
  type Notification,
} from '../../src/activities/notifier';
import { freePort } from '../../src/dev/temporal-dev-server';
import { testLogger } from '../support/silent-logger';
import { WebhookSink } from '../support/webhook-sink';

let sink: WebhookSink;
beforeAll(async () => {
  sink = await new WebhookSink().start();
});
afterAll(async () => {
  await sink.stop();
});
beforeEach(() => {
  sink.received.length = 0;
  sink.failNext = [];
});

const note = (key = 'smoke-alarm:h/run/sms-owner'): Notification => ({
  idempotencyKey: key,
  homeId: 'h',
  to: '+15550000001',
  text: 'FIRE',
});

describe('WebhookNotifier', () => {
  test('When the receiver accepts, then the message arrives once with its idempotency key as a header', async () => {
    await new WebhookNotifier(sink.url, 2000).sms(note());
    expect(sink.received).toEqual([
      expect.objectContaining({
        channel: 'sms',
        to: '+15550000001',
        text: 'FIRE',
        idempotencyKey: 'smoke-alarm:h/run/sms-owner',
        headerKey: 'smoke-alarm:h/run/sms-owner',
      }),
    ]);
  });

  test.each([400, 404, 422])(
    'When the receiver answers %i, then the failure is non-retryable',
    async (code) => {
      sink.failNext = [code];
      const err = await new WebhookNotifier(sink.url, 2000).call(note()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: 'NotificationRejected', nonRetryable: true });
    },
  );

  test.each([500, 503, 429, 408])(
    'When the receiver answers %i, then the failure is retryable',
    async (code) => {
      sink.failNext = [code];
      const err = await new WebhookNotifier(sink.url, 2000).notify(note()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(ApplicationFailure);
      expect((err as Error).message).toContain(String(code));
    },
  );

  test('When nothing listens at the URL, then the failure is retryable', async () => {
    const url = `http://127.0.0.1:${await freePort()}/notify`;
    const err = await new WebhookNotifier(url, 1000).sms(note()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ApplicationFailure);
  });

  test('When the receiver hangs, then the call times out as retryable', async () => {
    sink.hangNext = 1;
    const started = Date.now();
    const err = await new WebhookNotifier(sink.url, 300).sms(note()).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ApplicationFailure);
  });
});

describe('DedupingNotifier', () => {
  test('When the same step is retried after delivery, then it is not sent again', async () => {
    const notifier = new DedupingNotifier(new WebhookNotifier(sink.url, 2000), testLogger);
    await notifier.sms(note('k1'));
    await notifier.sms(note('k1'));
    await notifier.call(note('k1'));
    expect(sink.received.map((n) => `${n.channel}:${n.idempotencyKey}`)).toEqual(['sms:k1', 'call:k1']);
  });

  test('When a delivery failed, then the retry does send', async () => {
    const notifier = new DedupingNotifier(new WebhookNotifier(sink.url, 2000), testLogger);
    sink.failNext = [503];
    await expect(notifier.sms(note('k2'))).rejects.toThrow('503');
    await notifier.sms(note('k2'));
    expect(sink.of('sms')).toHaveLength(1);
  });

  test('When more keys than its capacity pass, then the oldest are forgotten first', async () => {
    const notifier = new DedupingNotifier(new WebhookNotifier(sink.url, 2000), testLogger, 2);
    for (const k of ['a', 'b', 'c']) await notifier.notify(note(k));
    await notifier.notify(note('c'));
    await notifier.notify(note('a'));
    expect(sink.received.map((n) => n.idempotencyKey)).toEqual(['a', 'b', 'c', 'a']);
  });
});

test('When a contact is logged, then a phone number keeps only its last 3 digits and an e-mail address its domain', () => {
  expect(maskContact('+15550000001')).toBe('***001');
  expect(maskContact('112')).toBe('***');
  expect(maskContact('ada@example.com')).toBe('***@example.com');
});
