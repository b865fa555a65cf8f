// All activities the central worker registers: one line per session kind.
import { createPizzaOrderActivities, type PizzaOrderDeps } from './pizza-order-activities';
import { createSmokeAlarmActivities, type SmokeAlarmDeps } from './smoke-alarm-activities';

export type ActivityDeps = SmokeAlarmDeps & PizzaOrderDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createSmokeAlarmActivities(deps),
    ...createPizzaOrderActivities(deps),
  };
}
