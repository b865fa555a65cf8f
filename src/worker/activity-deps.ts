// Builds the activities' dependencies from configuration: the embedded gateway's boards and the notification channels.
import { ConfigError, type Config } from '../config/config';
import type { Logger } from '../config/logger';
import { resolve } from 'node:path';
import {
  CountingNotifier,
  DedupingNotifier,
  LogNotifier,
  WebhookNotifier,
  type Notifier,
} from '../activities/notifier';
import { DurableNotifier, notifierChannel, type Channel } from '../activities/durable-notifier';
import { EmailChannel } from '../activities/email-notifier';
import { SentLog } from '../activities/sent-log';
import { TwilioChannel } from '../activities/twilio-notifier';
import type { Client } from '@temporalio/client';
import { EMBEDDED_GATEWAY, Gateway, homesOfGateway } from '../gateway/gateway';
import type { SimulatedIO } from '../hardware/simulated-io';
import type { ActivityDeps } from '../activities';
import { FakePaymentProvider } from '../activities/payment-provider';
import { readModelAt } from '../read-model/store';

export interface BuiltActivityDeps extends ActivityDeps {
  /** The simulated boards by home, created on first use: the demo and tests read their pins. */
  simulatedBoards: Map<string, SimulatedIO>;
  /** The embedded gateway: the boards of every home that names no gateway of its own. */
  gateway: Gateway;
  /** The only provider so far; tests count its charges and refunds. */
  payments: FakePaymentProvider;
}

export interface BuildActivityDepsOptions {
  /** Lets the embedded gateway send detector events and learn the desired siren state (see Gateway). */
  client?: Client;
  /** That client shares the worker's connection: opening events start eagerly (see Gateway). */
  eagerOpenings?: boolean;
}

export function buildActivityDeps(
  config: Config,
  logger: Logger,
  opts: BuildActivityDepsOptions = {},
): BuiltActivityDeps {
  const gateway = new Gateway({
    config,
    gatewayId: EMBEDDED_GATEWAY,
    homeIds: homesOfGateway(config, undefined),
    logger,
    client: opts.client,
    eagerOpenings: opts.eagerOpenings,
  });
  return {
    config,
    sirens: gateway,
    gateway,
    notifier: buildNotifier(config, logger),
    simulatedBoards: gateway.simulatedBoards,
    payments: new FakePaymentProvider(),
    readModel: readModelAt(config.readModel.path),
  };
}

/**
 * The notifier of the configured routes. With only the log channel nothing leaves the process, so the
 * in-process dedupe is enough; any real channel goes through the machine's durable sent log.
 */
export function buildNotifier(config: Config, logger: Logger): Notifier {
  const n = config.notifications;
  const log = logger.child({ component: 'notifier' });
  const route = {
    sms: n.routes.sms ?? n.channel,
    call: n.routes.call ?? n.channel,
    notify: n.routes.notify ?? n.channel,
  };
  return new CountingNotifier(routedNotifier(config, route, log), (channel) => route[channel]);
}

function routedNotifier(
  config: Config,
  route: Record<'sms' | 'call' | 'notify', Config['notifications']['channel']>,
  log: Logger,
): Notifier {
  const n = config.notifications;
  const used = new Set(Object.values(route));
  if (used.size === 1 && used.has('log')) return new DedupingNotifier(new LogNotifier(log), log);

  // The schema made sure each used channel is configured (the `!`s below rest on that), except for the
  // secret, which only this process needs.
  if (used.has('twilio') && !n.twilio.authToken)
    throw new ConfigError('the twilio channel needs its auth token: set TWILIO_AUTH_TOKEN');
  const channels: Partial<Record<(typeof route)['sms'], Channel>> = {};
  const channel = (name: (typeof route)['sms']): Channel => {
    const made = (channels[name] ??=
      name === 'twilio'
        ? new TwilioChannel({
            accountSid: n.twilio.accountSid!,
            authToken: n.twilio.authToken!,
            from: n.twilio.from!,
            baseUrl: n.twilio.baseUrl,
            edge: n.twilio.edge,
            region: n.twilio.region,
            timeoutMs: n.twilio.timeoutMs,
          })
        : name === 'email'
          ? new EmailChannel({ ...n.email, host: n.email.host!, from: n.email.from! })
          : name === 'webhook'
            ? notifierChannel('webhook', new WebhookNotifier(n.webhook.url!, n.webhook.timeoutMs))
            : notifierChannel('log', new LogNotifier(log)));
    return made;
  };
  const routes = { sms: channel(route.sms), call: channel(route.call), notify: channel(route.notify) };
  return new DurableNotifier(routes, sentLogAt(n.sentLog.path), log);
}

/** One SentLog (one SQLite connection) per file and process, however many workers a process builds. */
const sentLogs = new Map<string, SentLog>();
function sentLogAt(path: string): SentLog {
  const full = path === ':memory:' ? path : resolve(path);
  let found = sentLogs.get(full);
  if (!found) sentLogs.set(full, (found = new SentLog(full)));
  return found;
}
