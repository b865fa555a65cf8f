// What the /ui page needs to know about each session kind: its model, its named deadlines (to label
// open timers) and the public API call behind each action its model allows in the current state.
import type { Principal } from '../api/auth';
import { PIZZA_ORDER_KIND, pizzaOrderModel, type OrderStatus } from '../shared/pizza-order';
import type { SessionModel, TransitionTaken } from '../shared/session-model';
import { SMOKE_ALARM_KIND, smokeAlarmModel, type AlarmStatus } from '../shared/smoke-alarm';

export interface UiAction {
  /** The model transition it drives, e.g. `cancel` or `kitchen:baked`. */
  on: string;
  label: string;
  method: 'POST';
  /** A public API route: the page acts exactly as any client would. */
  path: string;
  body?: unknown;
}

/** What every session status offers the page, whatever its kind. */
export interface SessionStatusCommon {
  state: string;
  path?: TransitionTaken[];
}

export interface UiSessionKind<S extends SessionStatusCommon = SessionStatusCommon> {
  kind: string;
  title: string;
  model: SessionModel<string>;
  /** Every named deadline of the session; they name the timers found in its history. */
  deadlines(status: S): { label: string; at: string }[];
  /** The API call for a trigger of the model, if people can send it (timers and signals they cannot). */
  action(on: string, key: string, status: S): Omit<UiAction, 'on'> | undefined;
}

const smokeAlarm: UiSessionKind<AlarmStatus> = {
  kind: SMOKE_ALARM_KIND,
  title: 'Smoke alarm',
  model: smokeAlarmModel,
  deadlines: (s) =>
    s.state === 'waiting-for-cancel' ? [{ label: 'cancel window', at: s.cancelDeadline }] : [],
  action: (on, homeId) => {
    const home = `/homes/${encodeURIComponent(homeId)}/alarm`;
    if (on === 'cancel') return { label: 'Cancel alarm', method: 'POST', path: `${home}/cancel` };
    if (on === 'allClear') return { label: 'All clear', method: 'POST', path: `${home}/all-clear` };
    return undefined;
  },
};

const pizzaOrder: UiSessionKind<OrderStatus> = {
  kind: PIZZA_ORDER_KIND,
  title: 'Pizza order',
  model: pizzaOrderModel,
  deadlines: (s) => [
    { label: 'payment window', at: s.paymentDueBy },
    ...(s.promisedBy ? [{ label: 'delivery promise', at: s.promisedBy }] : []),
  ],
  action: (on, orderId, s) => {
    const order = `/orders/${encodeURIComponent(orderId)}`;
    if (on === 'pay') {
      const body = { amountCents: s.totalCents, paymentMethod: 'pm_card_visa' };
      return {
        label: `Pay ${(s.totalCents / 100).toFixed(2)} ${s.currency} (test card)`,
        method: 'POST',
        path: `${order}/payment`,
        body,
      };
    }
    if (on === 'cancel') return { label: 'Cancel order', method: 'POST', path: `${order}/cancel` };
    const [desk, event] = on.split(':');
    if (desk === 'kitchen' || desk === 'delivery') {
      return { label: `${desk}: ${event}`, method: 'POST', path: `${order}/${desk}`, body: { event } };
    }
    return undefined;
  },
};

export const uiSessionKinds: UiSessionKind[] = [smokeAlarm, pizzaOrder];

export function uiKindOf(kind: string): UiSessionKind | undefined {
  return uiSessionKinds.find((k) => k.kind === kind);
}

/** The actions the model allows from the current state that this caller may send. */
export function actionsFor(
  ui: UiSessionKind,
  key: string,
  status: SessionStatusCommon,
  principal: Principal,
): UiAction[] {
  const out: UiAction[] = [];
  for (const t of ui.model.decl.transitions) {
    if (t.from !== status.state || out.some((a) => a.on === t.on)) continue;
    const action = ui.action(t.on, key, status);
    if (action && mayAct(principal, ui.kind, t.on)) out.push({ on: t.on, ...action });
  }
  return out;
}

function mayAct(p: Principal, kind: string, on: string): boolean {
  if (p.role === 'operator') return true;
  if (kind === SMOKE_ALARM_KIND) return p.role === 'owner';
  if (kind === PIZZA_ORDER_KIND) return p.role === 'staff' || on === 'pay' || on === 'cancel';
  return false;
}

/** Search attributes a session carries that decide who may see it. */
export interface SessionScope {
  kind: string;
  homeId?: string;
  customerId?: string;
}

export function maySee(p: Principal, s: SessionScope): boolean {
  switch (p.role) {
    case 'operator':
      return true;
    case 'owner':
      return s.kind === SMOKE_ALARM_KIND && s.homeId === p.homeId;
    case 'staff':
      return s.kind === PIZZA_ORDER_KIND;
    case 'customer':
      return s.kind === PIZZA_ORDER_KIND && s.customerId === p.name;
    default:
      return false;
  }
}

/** The same rule as a visibility query clause (values are ids from configuration: safe to quote). */
export function visibilityScope(p: Principal): string | undefined {
  switch (p.role) {
    case 'operator':
      return `SessionKind IN ('${SMOKE_ALARM_KIND}', '${PIZZA_ORDER_KIND}')`;
    case 'owner':
      return `SessionKind = '${SMOKE_ALARM_KIND}' AND HomeId = '${p.homeId}'`;
    case 'staff':
      return `SessionKind = '${PIZZA_ORDER_KIND}'`;
    case 'customer':
      return `SessionKind = '${PIZZA_ORDER_KIND}' AND CustomerId = '${p.name}'`;
    default:
      return undefined;
  }
}
