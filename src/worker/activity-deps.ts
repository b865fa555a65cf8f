// Builds the activities' dependencies from configuration: the embedded gateway's boards and the notification channel.
import type { Config } from '../config/config';
import type { Logger } from '../config/logger';
import { DedupingNotifier, LogNotifier, WebhookNotifier, type Notifier } from '../activities/notifier';
import type { Client } from '@temporalio/client';
import { EMBEDDED_GATEWAY, Gateway, homesOfGateway } from '../gateway/gateway';
import type { SimulatedIO } from '../hardware/simulated-io';
import type { ActivityDeps } from '../activities';
import { FakePaymentProvider } from '../activities/payment-provider';

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
  });
  return {
    config,
    sirens: gateway,
    gateway,
    notifier: buildNotifier(config, logger),
    simulatedBoards: gateway.simulatedBoards,
    payments: new FakePaymentProvider(),
  };
}

export function buildNotifier(config: Config, logger: Logger): Notifier {
  const { channel, webhook } = config.notifications;
  const inner =
    channel === 'webhook' && webhook.url
      ? new WebhookNotifier(webhook.url, webhook.timeoutMs)
      : new LogNotifier(logger.child({ component: 'notifier' }));
  return new DedupingNotifier(inner, logger.child({ component: 'notifier' }));
}
