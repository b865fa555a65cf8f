// A real SMTP server (smtp-server) on loopback that parses and keeps every message it accepts.
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { eventually } from './eventually';

export interface ReceivedMail {
  messageId?: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  idempotencyKey?: string;
  receivedAt: number;
}

export const testSmtpAuth = { user: 'sessionflow', pass: 'smtp-test-password-0123' };

export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  /** SMTP reply codes to answer the next DATA with (e.g. 451, 550), then accept. */
  failNext: number[] = [];
  /** Called after a message is accepted and before the 250 reply goes out (crash tests freeze here). */
  onAccept?: (m: ReceivedMail) => void;
  port = 0;
  connectionErrors = 0;
  private server?: SMTPServer;

  async start(): Promise<this> {
    this.server = new SMTPServer({
      // Plain loopback: no certificate to manage; the credentials are still checked.
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authOptional: false,
      logger: false,
      onAuth: (auth, _session, cb) =>
        auth.username === testSmtpAuth.user && auth.password === testSmtpAuth.pass
          ? cb(null, { user: auth.username })
          : cb(new Error('Invalid username or password')),
      onData: (stream, session, cb) => {
        const code = this.failNext.shift();
        simpleParser(stream)
          .then((mail) => {
            if (code) {
              const err = new Error(`injected ${code}`) as Error & { responseCode: number };
              err.responseCode = code;
              return cb(err);
            }
            const key = mail.headers.get('x-idempotency-key');
            const received: ReceivedMail = {
              messageId: mail.messageId,
              from: mail.from?.text ?? '',
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: mail.subject ?? '',
              text: (mail.text ?? '').trim(),
              idempotencyKey: typeof key === 'string' ? key : undefined,
              receivedAt: Date.now(),
            };
            this.received.push(received);
            this.onAccept?.(received);
            cb();
          })
          .catch((err: Error) => cb(err));
      },
    });
    // A client killed mid-session (crash tests) resets its connection: smtp-server reports that as an
    // 'error' event, which must not bring the test process down.
    this.server.on('error', () => this.connectionErrors++);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  async waitFor(pred: (all: ReceivedMail[]) => boolean, timeoutMs = 15_000): Promise<void> {
    await eventually(() => Promise.resolve(this.received), pred, timeoutMs);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
