// Side effects of the smoke-alarm session. Contacts are looked up here, from configuration,
// so phone numbers and addresses never travel through workflow history.
import { ApplicationFailure } from '@temporalio/activity';
import type { HomeConfig } from '../config/config';
import { UnknownSirenError, type SirenBank } from '../hardware/siren-bank';
import type { NotificationInput, SmokeAlarmActivities } from '../shared/smoke-alarm';
import type { Notifier } from './notifier';

export interface SmokeAlarmDeps {
  sirens: SirenBank;
  notifier: Notifier;
  homes: Record<string, HomeConfig>;
}

export function createSmokeAlarmActivities({
  sirens,
  notifier,
  homes,
}: SmokeAlarmDeps): SmokeAlarmActivities {
  const home = (homeId: string): HomeConfig => {
    const found = homes[homeId];
    if (!found)
      throw ApplicationFailure.nonRetryable(`home '${homeId}' is not configured`, 'BadConfiguration');
    return found;
  };

  return {
    async setSiren({ homeId, on }) {
      try {
        await sirens.set(homeId, on);
      } catch (err) {
        if (err instanceof UnknownSirenError)
          throw ApplicationFailure.nonRetryable(err.message, 'BadConfiguration');
        throw err;
      }
    },
    notifyOwner: (n: NotificationInput) => notifier.notify({ ...n, to: home(n.homeId).owner.phone }),
    smsOwner: (n: NotificationInput) => notifier.sms({ ...n, to: home(n.homeId).owner.phone }),
    callEmergency: (n: NotificationInput) => {
      const { emergency } = home(n.homeId);
      return notifier.call({ ...n, to: emergency.phone, text: `${n.text} Address: ${emergency.address}.` });
    },
  };
}
