// Exactly once per session step across worker crashes: every send is claimed in the machine's SentLog
// ("about to send") and recorded as sent once the provider accepted it; a retry that finds "sent" returns
// without sending. Which channel a kind of notification takes is configuration (routes).
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from '../config/logger';
import type { Notification, NotificationChannel, Notifier } from './notifier';
import type { SentLog } from './sent-log';

export interface SendReceipt {
  /** The provider's id of what it accepted (Twilio SID, e-mail Message-ID), kept in the sent log. */
  providerId?: string;
}

/** One way out (log, webhook, twilio, email); `kind` says whether it is an SMS, a call or a notice. */
export interface Channel {
  readonly name: string;
  send(kind: NotificationChannel, n: Notification): Promise<SendReceipt>;
}

/** A plain Notifier (log, webhook) as a channel. */
export const notifierChannel = (name: string, notifier: Notifier): Channel => ({
  name,
  send: async (kind, n) => {
    await notifier[kind](n);
    return {};
  },
});

export type Routes = Record<NotificationChannel, Channel>;

export class DurableNotifier implements Notifier {
  constructor(
    private readonly routes: Routes,
    private readonly sentLog: SentLog,
    private readonly logger: Logger,
    private readonly fallbackLeaseMs = 60_000,
  ) {}
  sms = (n: Notification) => this.once('sms', n);
  call = (n: Notification) => this.once('call', n);
  notify = (n: Notification) => this.once('notify', n);

  private async once(kind: NotificationChannel, n: Notification): Promise<void> {
    const channel = this.routes[kind];
    const key = `${kind}:${n.idempotencyKey}`;
    const log = {
      kind,
      channel: channel.name,
      idempotencyKey: n.idempotencyKey,
      homeId: n.homeId,
      orderId: n.orderId,
    };
    const claim = this.sentLog.claim(key, channel.name, leaseMs(this.fallbackLeaseMs));
    if (claim.kind === 'sent') {
      this.logger.info({ ...log, providerId: claim.providerId }, 'already sent; not sending again');
      return;
    }
    if (claim.kind === 'busy')
      throw ApplicationFailure.retryable(
        `${kind} is being sent by another worker right now`,
        'NotificationInProgress',
      );
    // The window that remains: between the provider taking the message and our "sent" commit (one round
    // trip and one fsync). A worker dying inside it leaves "sending" behind, and the next attempt cannot
    // know whether the provider has the message: it sends again, because for an alarm a second SMS is
    // better than none. Twilio has no idempotency key to close this; for e-mail the same Message-ID does.
    if (claim.ambiguous)
      this.logger.warn(
        log,
        'a worker died while sending this; sending again (the provider may have it twice)',
      );
    let receipt: SendReceipt;
    try {
      receipt = await channel.send(kind, n);
    } catch (err) {
      // Counted as not sent, so the retry sends. A timeout lands here too although the provider may
      // have taken the message: the same window as above, at the same (at-least-once) price.
      this.sentLog.failed(key);
      throw err;
    }
    this.sentLog.sent(key, receipt.providerId);
    this.logger.info({ ...log, providerId: receipt.providerId }, `notification sent (${kind})`);
  }
}

/** How long our claim holds off other processes that cannot check our pid: this attempt's own timeout. */
function leaseMs(fallback: number): number {
  try {
    return Context.current().info.startToCloseTimeoutMs || fallback;
  } catch {
    return fallback; // not inside an activity (tests, scripts)
  }
}
