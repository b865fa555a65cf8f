// Side effects of the smoke-alarm session. Contacts are looked up here, from configuration,
// so phone numbers and addresses never travel through workflow history.
import { ApplicationFailure } from '@temporalio/activity';
import type { HomeConfig } from '../config/config';
import type { SirenBank } from '../hardware/siren-bank';
import type { NotificationInput, SmokeAlarmActivities } from '../shared/smoke-alarm';
import type { Notifier } from './notifier';
import { setSirenActivity } from './siren-activity';

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
    setSiren: setSirenActivity(sirens),
    notifyOwner: (n: NotificationInput) => notifier.notify({ ...n, to: home(n.homeId).owner.phone }),
    smsOwner: (n: NotificationInput) => notifier.sms({ ...n, to: home(n.homeId).owner.phone }),
    callEmergency: (n: NotificationInput) => {
      const { emergency } = home(n.homeId);
      return notifier.call({ ...n, to: emergency.phone, text: `${n.text} Address: ${emergency.address}.` });
    },
  };
}
