// Side effects of the smoke-alarm session besides the siren (a platform activity the gateway runs).
// Contacts are looked up here, from configuration, so phone numbers and addresses never travel through
// workflow history.
import { ApplicationFailure } from '@temporalio/activity';
import type { HomeConfig } from '../config/config';
import type { AlarmHome, NotificationInput, SmokeAlarmActivities } from '../shared/smoke-alarm';
import type { ActivityDeps } from '.';

export function activities({ notifier, config }: ActivityDeps): SmokeAlarmActivities {
  const home = (homeId: string): HomeConfig & AlarmHome => {
    const found = config.homes[homeId];
    if (!found)
      throw ApplicationFailure.nonRetryable(`home '${homeId}' is not configured`, 'BadConfiguration');
    return found as HomeConfig & AlarmHome;
  };

  return {
    notifyOwner: (n: NotificationInput) => notifier.notify({ ...n, to: home(n.homeId).owner.phone }),
    smsOwner: (n: NotificationInput) => notifier.sms({ ...n, to: home(n.homeId).owner.phone }),
    callEmergency: (n: NotificationInput) => {
      const { emergency } = home(n.homeId);
      return notifier.call({
        ...n,
        to: emergency.phone,
        text: `${n.text} Address: ${emergency.address}.`,
        personal: [emergency.address],
      });
    },
  };
}
