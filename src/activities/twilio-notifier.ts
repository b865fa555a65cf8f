// SMS and voice calls through Twilio's REST API with the official client. A call reads its text
// aloud through inline TwiML <Say>, so no TwiML URL has to be reachable from Twilio.
//
// Twilio's Messages and Calls create endpoints take no client idempotency key or header, so a retried
// create is a second message: what keeps a retry from sending again is the SentLog in front of this
// channel (see DurableNotifier).
import { ApplicationFailure } from '@temporalio/activity';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient';
import type { Channel, SendReceipt } from './durable-notifier';
import { maskContact, type Notification, type NotificationChannel } from './notifier';

export interface TwilioOptions {
  accountSid: string;
  /** Secret: from the environment, never logged (the client sends it only as basic auth). */
  authToken: string;
  /** A Twilio number (E.164) or a messaging service / caller id the account owns. */
  from: string;
  /** Replaces https://api.twilio.com (a regional edge's host, or a stand-in server in tests). */
  baseUrl?: string;
  /** Twilio's own edge/region routing (e.g. edge "dublin", region "ie1"), when no baseUrl is set. */
  edge?: string;
  region?: string;
  timeoutMs: number;
}

/** The client's request layer with every request's origin replaced by `baseUrl` (path and query kept). */
class BaseUrlRequestClient extends twilio.RequestClient {
  constructor(
    private readonly baseUrl: URL,
    timeoutMs: number,
  ) {
    super({ timeout: timeoutMs });
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const original = new URL(opts.uri);
    const base = this.baseUrl.href.replace(/\/$/, '');
    return super.request<TData>({ ...opts, uri: `${base}${original.pathname}${original.search}` });
  }
}

export class TwilioChannel implements Channel {
  readonly name = 'twilio';
  private readonly client: twilio.Twilio;

  constructor(private readonly opts: TwilioOptions) {
    this.client = twilio(opts.accountSid, opts.authToken, {
      httpClient: opts.baseUrl
        ? new BaseUrlRequestClient(new URL(opts.baseUrl), opts.timeoutMs)
        : new twilio.RequestClient({ timeout: opts.timeoutMs }),
      edge: opts.baseUrl ? undefined : opts.edge,
      region: opts.baseUrl ? undefined : opts.region,
      // Retrying is Temporal's job (with the sent log in front); the client must not resend on its own.
      autoRetry: false,
    });
  }

  async send(kind: NotificationChannel, n: Notification): Promise<SendReceipt> {
    try {
      if (kind === 'call') {
        const twiml = new twilio.twiml.VoiceResponse();
        twiml.say(n.text);
        const call = await this.client.calls.create({
          to: n.to,
          from: this.opts.from,
          twiml: twiml.toString(),
        });
        return { providerId: call.sid };
      }
      // A notice routed to Twilio is an SMS too.
      const message = await this.client.messages.create({ to: n.to, from: this.opts.from, body: n.text });
      return { providerId: message.sid };
    } catch (err) {
      throw asActivityError(kind, err, n.to);
    }
  }
}

/**
 * Twilio answered 4xx (bad number, bad credentials, unverified sender): the same request would only
 * fail again, so it is final. 429, 5xx and network errors are retryable. The message goes into workflow
 * history, where payload encryption does not reach: the phone number in it is masked.
 */
function asActivityError(kind: NotificationChannel, err: unknown, to: string): Error {
  const clean = (text: string) => text.split(to).join(maskContact(to)).replace(/\s+/g, ' ').trim();
  if (err instanceof twilio.RestException) {
    const message = clean(`twilio ${kind}: ${err.status} ${err.code ?? ''} ${err.message}`);
    if (err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429)
      return ApplicationFailure.nonRetryable(message, 'NotificationRejected');
    return new Error(message);
  }
  return new Error(clean(`twilio ${kind}: ${(err as Error).message}`));
}
