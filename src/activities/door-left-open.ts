// Side effects of a door session: messages to the owner and the second contact, whose numbers come from
// configuration here, so they never travel through workflow history.
import { ApplicationFailure } from '@temporalio/activity';
import type { HomeConfig } from '../config/config';
import type { DoorActivities, DoorHome, DoorNotice } from '../shared/door-left-open';
import type { ActivityDeps } from '.';

export function activities({ notifier, config }: ActivityDeps): DoorActivities {
  const home = (homeId: string): HomeConfig & DoorHome => {
    const found = config.homes[homeId];
    if (!found)
      throw ApplicationFailure.nonRetryable(`home '${homeId}' is not configured`, 'BadConfiguration');
    return found;
  };
  return {
    remindOwner: (n: DoorNotice) => notifier.sms({ ...n, to: home(n.homeId).owner.phone }),
    alertSecondContact: (n: DoorNotice) => {
      const { secondContact, owner } = home(n.homeId);
      return notifier.sms({ ...n, to: secondContact?.phone ?? owner.phone });
    },
  };
}
