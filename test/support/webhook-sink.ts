// A real HTTP receiver for the webhook notification channel: records every POST it gets,
// and can be told to fail, so tests count deliveries at the wire rather than trusting the sender.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { startBodyServer } from './body-server';
import { eventually } from './eventually';

export interface ReceivedNotification {
  channel: 'sms' | 'call' | 'notify';
  homeId?: string;
  orderId?: string;
  to: string;
  text: string;
  idempotencyKey: string;
  headerKey: string | undefined;
  receivedAt: number;
}

export class WebhookSink {
  readonly received: ReceivedNotification[] = [];
  /** Status codes to answer next, one per request (then 204). */
  failNext: number[] = [];
  /** Requests to leave unanswered (to exercise timeouts). */
  hangNext = 0;
  /** Milliseconds to think over each of the next requests before taking it (a slow provider). */
  slowNext: number[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    const { server, url } = await startBodyServer((req, raw, res) => {
      const slow = this.slowNext.shift();
      if (slow) setTimeout(() => this.take(req, raw, res), slow);
      else this.take(req, raw, res);
    });
    this.server = server;
    this.url = `${url}/notify`;
    return this;
  }

  private take(req: IncomingMessage, raw: Buffer, res: ServerResponse): void {
    if (this.hangNext > 0) {
      this.hangNext -= 1;
      return;
    }
    const status = this.failNext.shift();
    if (status) {
      res.writeHead(status).end();
      return;
    }
    const body = JSON.parse(raw.toString('utf8')) as Omit<ReceivedNotification, 'receivedAt' | 'headerKey'>;
    const headerKey = req.headers['idempotency-key'];
    this.received.push({
      ...body,
      headerKey: Array.isArray(headerKey) ? headerKey[0] : headerKey,
      receivedAt: Date.now(),
    });
    res.writeHead(204).end();
  }

  of(channel: ReceivedNotification['channel'], homeId?: string): ReceivedNotification[] {
    return this.received.filter(
      (n) => n.channel === channel && (homeId === undefined || n.homeId === homeId),
    );
  }

  forOrder(orderId: string): ReceivedNotification[] {
    return this.received.filter((n) => n.orderId === orderId);
  }

  async waitFor(pred: (all: ReceivedNotification[]) => boolean, timeoutMs = 15_000): Promise<void> {
    await eventually(() => Promise.resolve(this.received), pred, timeoutMs);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
