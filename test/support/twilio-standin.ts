// A stand-in for Twilio's REST API on loopback, speaking its wire format for the two calls we make:
// POST /2010-04-01/Accounts/{AccountSid}/Messages.json and /Calls.json, form-encoded, basic auth
// (account SID : auth token), 201 with the resource as JSON, errors as Twilio's {code, message,
// more_info, status}. It records what it accepted, so tests count at the "provider".
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from './eventually';

export interface Accepted {
  kind: 'sms' | 'call';
  sid: string;
  to: string;
  from: string;
  /** The SMS body, or for a call the text of its TwiML <Say>. */
  text: string;
  twiml?: string;
  receivedAt: number;
}

export const testTwilio = {
  accountSid: `AC${'0123456789abcdef'.repeat(2)}`,
  authToken: 'twilio-test-auth-token-0123456789',
  from: '+15550001000',
};

const apiVersion = '2010-04-01';

export class TwilioStandIn {
  readonly accepted: Accepted[] = [];
  /** Every request, including refused ones (to see retries). */
  requests = 0;
  /** Status codes to answer next instead of accepting (then normal service). */
  failNext: number[] = [];
  /** Called after a message is accepted and before the answer is written (crash tests freeze here). */
  onAccept?: (a: Accepted) => void;
  url = '';
  private server?: Server;

  constructor(private readonly account = testTwilio) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  of(kind: Accepted['kind'], to?: string): Accepted[] {
    return this.accepted.filter((a) => a.kind === kind && (to === undefined || a.to === to));
  }

  async waitFor(pred: (all: Accepted[]) => boolean, timeoutMs = 15_000): Promise<void> {
    await eventually(() => Promise.resolve(this.accepted), pred, timeoutMs);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    this.requests++;
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match)
      return error(res, 404, 20404, 'The requested resource was not found');
    const [, sid, resource] = match;
    const [user, pass] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
      .toString('utf8')
      .split(':');
    if (user !== this.account.accountSid || pass !== this.account.authToken || sid !== user)
      return error(res, 401, 20003, 'Authenticate');
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded'))
      return error(res, 400, 20001, 'Content-Type must be application/x-www-form-urlencoded');
    const status = this.failNext.shift();
    if (status) return error(res, status, status === 429 ? 20429 : 20500, 'Injected failure');
    const form = new URLSearchParams(body);
    const to = form.get('To');
    const from = form.get('From');
    if (!to) return error(res, 400, 21604, "A 'To' phone number is required.");
    if (!from) return error(res, 400, 21603, "A 'From' phone number is required.");
    if (!/^\+[1-9]\d{6,14}$/.test(to))
      return error(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    const now = new Date();
    const common = {
      account_sid: sid,
      api_version: apiVersion,
      to,
      from,
      date_created: now.toUTCString(),
      date_updated: now.toUTCString(),
      status: 'queued',
      price: null,
      price_unit: 'USD',
    };
    if (resource === 'Messages') {
      const text = form.get('Body');
      if (!text) return error(res, 400, 21602, 'Message body is required.');
      const a = this.accept({ kind: 'sms', sid: `SM${randomBytes(16).toString('hex')}`, to, from, text });
      return json(res, 201, {
        ...common,
        sid: a.sid,
        body: text,
        direction: 'outbound-api',
        num_segments: String(Math.ceil(text.length / 160)),
        num_media: '0',
        messaging_service_sid: null,
        date_sent: null,
        error_code: null,
        error_message: null,
        uri: `/${apiVersion}/Accounts/${sid}/Messages/${a.sid}.json`,
        subresource_uris: { media: `/${apiVersion}/Accounts/${sid}/Messages/${a.sid}/Media.json` },
      });
    }
    const twiml = form.get('Twiml') ?? undefined;
    if (!twiml && !form.get('Url')) return error(res, 400, 21205, 'Url or Twiml is required.');
    const say = twiml ? /<Say[^>]*>([\s\S]*?)<\/Say>/.exec(twiml)?.[1] : undefined;
    const a = this.accept({
      kind: 'call',
      sid: `CA${randomBytes(16).toString('hex')}`,
      to,
      from,
      text: unescapeXml(say ?? ''),
      twiml,
    });
    return json(res, 201, {
      ...common,
      sid: a.sid,
      direction: 'outbound-api',
      parent_call_sid: null,
      start_time: null,
      end_time: null,
      duration: null,
      answered_by: null,
      caller_name: null,
      uri: `/${apiVersion}/Accounts/${sid}/Calls/${a.sid}.json`,
    });
  }

  private accept(a: Omit<Accepted, 'receivedAt'>): Accepted {
    const accepted = { ...a, receivedAt: Date.now() };
    this.accepted.push(accepted);
    this.onAccept?.(accepted);
    return accepted;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function error(res: ServerResponse, status: number, code: number, message: string): void {
  json(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

const unescapeXml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
