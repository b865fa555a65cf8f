// Notices by e-mail over SMTP (nodemailer). The Message-ID is derived from the idempotency key, so every
// retry of one session step carries the same id: mail systems and people can tell a resend from news.
import { ApplicationFailure } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Channel, SendReceipt } from './durable-notifier';
import { maskContact, type Notification, type NotificationChannel } from './notifier';

export interface EmailOptions {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  user?: string;
  /** Secret: from the environment, never logged. */
  pass?: string;
  from: string;
  /**
   * Recipient when the notification's contact is not an e-mail address (alarm contacts are phone
   * numbers today): e.g. the monitoring centre's mailbox.
   */
  to?: string;
  timeoutMs: number;
}

const subjects: Record<NotificationChannel, string> = {
  sms: 'Message',
  call: 'Urgent call',
  notify: 'Notice',
};

export class EmailChannel implements Channel {
  readonly name = 'email';
  private readonly transport: Transporter;
  private readonly domain: string;

  constructor(private readonly opts: EmailOptions) {
    this.transport = nodemailer.createTransport({
      host: opts.host,
      port: opts.port,
      secure: opts.secure,
      auth: opts.user ? { user: opts.user, pass: opts.pass ?? '' } : undefined,
      connectionTimeout: opts.timeoutMs,
      greetingTimeout: opts.timeoutMs,
      socketTimeout: opts.timeoutMs,
    });
    this.domain = /@([^>\s]+)>?\s*$/.exec(opts.from)?.[1] ?? 'sessionflow.invalid';
  }

  async send(kind: NotificationChannel, n: Notification): Promise<SendReceipt> {
    const to = n.to.includes('@') ? n.to : this.opts.to;
    if (!to)
      throw ApplicationFailure.nonRetryable(
        `email ${kind}: the contact is no e-mail address and notifications.email.to is not set`,
        'BadConfiguration',
      );
    // A hash, not the key itself: keys hold workflow ids, and Message-IDs allow few characters.
    const messageId = `<${createHash('sha256').update(`${kind}:${n.idempotencyKey}`).digest('hex').slice(0, 40)}@${this.domain}>`;
    const about = n.homeId ? ` (${n.homeId})` : n.orderId ? ` (order ${n.orderId})` : '';
    try {
      const info = (await this.transport.sendMail({
        from: this.opts.from,
        to,
        subject: `${subjects[kind]}${about}`,
        text: n.text,
        messageId,
        headers: { 'X-Idempotency-Key': n.idempotencyKey },
      })) as { messageId?: string };
      return { providerId: info.messageId ?? messageId };
    } catch (err) {
      throw asActivityError(kind, err, to);
    }
  }
}

/**
 * SMTP 5xx is a permanent refusal (bad recipient, auth); 4xx and connection errors are worth a retry.
 * The message goes into workflow history, where payload encryption does not reach: the address is masked.
 */
function asActivityError(kind: NotificationChannel, err: unknown, to: string): Error {
  const e = err as { responseCode?: number; message?: string; code?: string };
  const message = `email ${kind}: ${e.responseCode ?? e.code ?? ''} ${e.message ?? String(err)}`
    .split(to)
    .join(maskContact(to));
  if (e.code === 'EAUTH' || (e.responseCode !== undefined && e.responseCode >= 500))
    return ApplicationFailure.nonRetryable(message, 'NotificationRejected');
  return new Error(message);
}
