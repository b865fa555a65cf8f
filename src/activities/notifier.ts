// Notifications behind one small interface; channels (log, webhook) are interchangeable.
// Every message carries an idempotency key so retries never double an SMS or a call.
import { ApplicationFailure } from '@temporalio/activity';
import type { Logger } from '../config/logger';

export type NotificationChannel = 'sms' | 'call' | 'notify';

export interface Notification {
  /** Same on every retry of one session step. Receivers should dedupe on it too. */
  idempotencyKey: string;
  /** The session it is about, for the receiver and the log: a home's alarm or an order. */
  homeId?: string;
  orderId?: string;
  /** Phone number or address; resolved from configuration inside the activity, never in history. */
  to: string;
  text: string;
  /** Parts of `text` that identify a person or a place (a street address): channels that log mask them. */
  personal?: string[];
}

export interface Notifier {
  sms(n: Notification): Promise<void>;
  call(n: Notification): Promise<void>;
  notify(n: Notification): Promise<void>;
}

/** A contact for logs and errors: a phone number keeps its last 3 digits, an e-mail address its domain. */
export function maskContact(to: string): string {
  const at = to.lastIndexOf('@');
  if (at > 0) return `***${to.slice(at)}`;
  return to.length <= 4 ? '***' : `***${to.slice(-3)}`;
}

/** Anything in a free text that looks like a phone number (7+ digits, with the usual separators). */
const phoneLike = /\+?\d[\d ().-]{5,}\d/g;

/** A message text for logs: the contact, its personal parts and any phone number in it masked. */
export function maskText(n: Pick<Notification, 'to' | 'text' | 'personal'>): string {
  let text = n.text.split(n.to).join(maskContact(n.to));
  for (const part of n.personal ?? []) if (part) text = text.split(part).join('[withheld]');
  return text.replace(phoneLike, (m) => (m.replace(/\D/g, '').length >= 7 ? maskContact(m) : m));
}

/** Writes messages to the log: the demo channel, and a sane default with no provider configured. */
export class LogNotifier implements Notifier {
  constructor(private readonly logger: Logger) {}
  sms = (n: Notification) => this.send('sms', n);
  call = (n: Notification) => this.send('call', n);
  notify = (n: Notification) => this.send('notify', n);

  private send(channel: NotificationChannel, n: Notification): Promise<void> {
    this.logger.info(
      {
        channel,
        homeId: n.homeId,
        orderId: n.orderId,
        to: maskContact(n.to),
        idempotencyKey: n.idempotencyKey,
        text: maskText(n),
      },
      `notification (${channel})`,
    );
    return Promise.resolve();
  }
}

/**
 * POSTs each message as JSON to an SMS/voice/push gateway. 4xx (other than 408/429) means the request
 * itself is wrong and is final; 5xx, timeouts and network errors are thrown as retryable.
 */
export class WebhookNotifier implements Notifier {
  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {}
  sms = (n: Notification) => this.post('sms', n);
  call = (n: Notification) => this.post('call', n);
  notify = (n: Notification) => this.post('notify', n);

  private async post(channel: NotificationChannel, n: Notification): Promise<void> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': n.idempotencyKey },
        // `personal` only tells log channels what to mask; the text already carries it.
        body: JSON.stringify({ channel, ...n, personal: undefined }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new Error(`webhook ${channel}: ${(err as Error).message}`);
    }
    await res.body?.cancel();
    if (res.ok) return;
    const message = `webhook ${channel}: receiver answered ${res.status}`;
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
      throw ApplicationFailure.nonRetryable(message, 'NotificationRejected');
    }
    throw new Error(message);
  }
}

/**
 * Remembers the keys this process delivered, so an attempt retried after a lost completion is not sent
 * again. Bounded: oldest keys are forgotten first.
 */
export class DedupingNotifier implements Notifier {
  private readonly delivered = new Set<string>();

  constructor(
    private readonly inner: Notifier,
    private readonly logger: Logger,
    private readonly capacity = 10_000,
  ) {}
  sms = (n: Notification) => this.once('sms', n);
  call = (n: Notification) => this.once('call', n);
  notify = (n: Notification) => this.once('notify', n);

  private async once(channel: NotificationChannel, n: Notification): Promise<void> {
    const key = `${channel}:${n.idempotencyKey}`;
    if (this.delivered.has(key)) {
      this.logger.info({ idempotencyKey: n.idempotencyKey, channel }, 'already delivered; not sending again');
      return;
    }
    await this.inner[channel](n);
    this.delivered.add(key);
    if (this.delivered.size > this.capacity) {
      const oldest = this.delivered.values().next().value;
      if (oldest !== undefined) this.delivered.delete(oldest);
    }
  }
}
