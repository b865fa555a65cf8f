// All activities the central worker registers: one line per session kind.
import { createSmokeAlarmActivities, type SmokeAlarmDeps } from './smoke-alarm-activities';

export type ActivityDeps = SmokeAlarmDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createSmokeAlarmActivities(deps),
  };
}
