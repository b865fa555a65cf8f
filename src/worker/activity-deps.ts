// Builds the activities' dependencies from configuration: the siren boards and the notification channel.
import type { Config } from '../config/config';
import type { Logger } from '../config/logger';
import { DedupingNotifier, LogNotifier, WebhookNotifier, type Notifier } from '../activities/notifier';
import { JohnnyFiveSirenBank } from '../hardware/siren-bank';
import { SimulatedIO } from '../hardware/simulated-io';
import type { ActivityDeps } from '../activities';
import { FakePaymentProvider } from '../activities/payment-provider';

export interface BuiltActivityDeps extends ActivityDeps {
  /** The simulated boards by home, created on first use: the demo and tests read their pins. */
  simulatedBoards: Map<string, SimulatedIO>;
  /** The only provider so far; tests count its charges and refunds. */
  payments: FakePaymentProvider;
}

export function buildActivityDeps(config: Config, logger: Logger): BuiltActivityDeps {
  const simulatedBoards = new Map<string, SimulatedIO>();
  const ioFor = (homeId: string) => {
    let io = simulatedBoards.get(homeId);
    if (!io) {
      io = new SimulatedIO(`simulated:${homeId}`);
      simulatedBoards.set(homeId, io);
    }
    return io;
  };
  const sirens = new JohnnyFiveSirenBank({
    sirenFor: (homeId) => config.homes[homeId]?.siren,
    ioFor,
    readyTimeoutMs: config.board.readyTimeoutMs,
    logger: logger.child({ component: 'sirens' }),
  });
  return {
    sirens,
    notifier: buildNotifier(config, logger),
    homes: config.homes,
    simulatedBoards,
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
