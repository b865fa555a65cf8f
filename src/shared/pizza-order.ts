// Pizza-order session: the definitions shared by the workflow, the worker and the API.
// Sandbox-safe: imported by workflow code, so no Node built-ins and no I/O here.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { SessionModel, type SessionStep, type TransitionTaken } from './session-model';

export const PIZZA_ORDER_KIND = 'pizza-order';

export const orderStates = [
  'awaiting-payment',
  'paid',
  'in-kitchen',
  'baking',
  'ready',
  'out-for-delivery',
  'delivered',
  'cancelled',
] as const;
export type OrderState = (typeof orderStates)[number];

export const kitchenEvents = ['accepted', 'in-oven', 'baked'] as const;
export const deliveryEvents = ['picked-up', 'delivered'] as const;
export type KitchenEvent = (typeof kitchenEvents)[number];
export type DeliveryEvent = (typeof deliveryEvents)[number];
export type StaffEvent = KitchenEvent | DeliveryEvent;

/** Where each staff event is allowed from and where it leads: the happy path, one step at a time. */
export const staffEventSteps: Record<StaffEvent, { from: OrderState; to: OrderState }> = {
  accepted: { from: 'paid', to: 'in-kitchen' },
  'in-oven': { from: 'in-kitchen', to: 'baking' },
  baked: { from: 'baking', to: 'ready' },
  'picked-up': { from: 'ready', to: 'out-for-delivery' },
  delivered: { from: 'out-for-delivery', to: 'delivered' },
};

/** A customer may cancel until the driver has the pizza. */
export const cancellableStates: readonly OrderState[] = [
  'awaiting-payment',
  'paid',
  'in-kitchen',
  'baking',
  'ready',
];

export const pizzaOrderModel = new SessionModel<OrderState>({
  kind: PIZZA_ORDER_KIND,
  initial: 'awaiting-payment',
  states: orderStates,
  final: ['delivered', 'cancelled'],
  transitions: [
    { from: 'awaiting-payment', to: 'paid', on: 'pay' },
    { from: 'awaiting-payment', to: 'cancelled', on: 'timer:payment-timeout' },
    ...Object.entries(staffEventSteps).map(([event, { from, to }]) => ({
      from,
      to,
      on: `${(kitchenEvents as readonly string[]).includes(event) ? 'kitchen' : 'delivery'}:${event}`,
    })),
    ...cancellableStates.map((from) => ({ from, to: 'cancelled' as const, on: 'cancel' })),
  ],
});

/** Workflow id = `<kind>:<business key>`. */
export function pizzaOrderWorkflowId(orderId: string): string {
  return `${PIZZA_ORDER_KIND}:${orderId}`;
}

export interface OrderLine {
  sku: string;
  name: string;
  qty: number;
  unitPriceCents: number;
}

/** Durations of one order, all from configuration (seconds in e2e tests, minutes in a shop). */
export interface OrderTiming {
  paymentTimeoutMs: number;
  /** Promised delivery time, counted from payment. */
  deliveryPromiseMs: number;
  /** Estimates behind the ETA: payment → into the oven, baking, pickup → door. */
  kitchenMs: number;
  bakingMs: number;
  deliveryMs: number;
}

export interface PizzaOrderInput {
  orderId: string;
  /** Token name of the customer who placed it, or `guest`; lists filter on it. */
  customerId: string;
  lines: OrderLine[];
  totalCents: number;
  currency: string;
  address: string;
  customer: { name: string; phone: string };
  /** Keyed digest of the placing request: an idempotent retry must carry the same order. */
  requestDigest: string;
  timing: OrderTiming;
  /** Off only on servers that cannot register custom search attributes (the Java test server). */
  searchAttributes?: boolean;
}

export type CancelReason = 'customer' | 'staff' | 'payment-timeout';

export interface TimelineEntry {
  at: string;
  event: string;
  by: string | null;
}

export interface OrderStatus {
  orderId: string;
  customerId: string;
  state: OrderState;
  /** Set once when the promised time passes before delivery; never cleared. */
  late: boolean;
  lines: OrderLine[];
  totalCents: number;
  currency: string;
  address: string;
  customerName: string;
  placedAt: string;
  paymentDueBy: string;
  /** Set at payment. */
  promisedBy: string | null;
  /** Estimated delivery, recomputed at every step from the configured estimates. */
  eta: string | null;
  payment: { paymentId: string; amountCents: number; at: string; by: string } | null;
  refund: { status: 'pending' | 'done' | 'failed'; amountCents: number; refundId: string | null } | null;
  cancelled: { reason: CancelReason; by: string; at: string } | null;
  voucher: string | null;
  requestDigest: string;
  timeline: TimelineEntry[];
  steps: SessionStep[];
  /** Every state change so far, in order. */
  path: TransitionTaken[];
}

/** Who asked, by token *name* (never the token itself). */
export interface OrderActor {
  by: string;
}

export interface PayRequest extends OrderActor {
  amountCents: number;
  /** A payment-method reference from the provider (e.g. `pm_card_visa`), never card data. */
  paymentMethod: string;
}

export interface CancelRequest extends OrderActor {
  reason: 'customer' | 'staff';
}

export interface StaffEventRequest<E extends StaffEvent> extends OrderActor {
  event: E;
}

export const payOrderUpdate = defineUpdate<OrderStatus, [PayRequest]>('pay');
export const cancelOrderUpdate = defineUpdate<OrderStatus, [CancelRequest]>('cancel');
export const kitchenEventUpdate = defineUpdate<OrderStatus, [StaffEventRequest<KitchenEvent>]>('kitchen');
export const deliveryEventUpdate = defineUpdate<OrderStatus, [StaffEventRequest<DeliveryEvent>]>('delivery');
export const orderStatusQuery = defineQuery<OrderStatus>('status');

/** Reasons an update is refused; nothing changes on a refusal. The API maps them to HTTP codes. */
export const OrderRefusal = {
  wrongAmount: 'wrong-amount',
  alreadyPaid: 'already-paid',
  paymentInProgress: 'payment-in-progress',
  paymentDeclined: 'payment-declined',
  paymentUnavailable: 'payment-unavailable',
  cancelled: 'order-cancelled',
  tooLate: 'too-late',
  outOfOrder: 'out-of-order',
  badRequest: 'bad-request',
} as const;

/**
 * ETA at the moment the order entered its current state: what is left of the kitchen, baking and
 * delivery estimates from there. Pure, so the workflow computes it deterministically at each step.
 */
export function estimateDelivery(state: OrderState, enteredAtMs: number, t: OrderTiming): number | null {
  const left: Partial<Record<OrderState, number>> = {
    'awaiting-payment': t.kitchenMs + t.bakingMs + t.deliveryMs,
    paid: t.kitchenMs + t.bakingMs + t.deliveryMs,
    'in-kitchen': t.kitchenMs + t.bakingMs + t.deliveryMs,
    baking: t.bakingMs + t.deliveryMs,
    ready: t.deliveryMs,
    'out-for-delivery': t.deliveryMs,
    delivered: 0,
  };
  const ms = left[state];
  return ms === undefined ? null : enteredAtMs + ms;
}

export interface ChargeInput {
  orderId: string;
  amountCents: number;
  currency: string;
  paymentMethod: string;
  /** Same on every retry of one payment attempt: the provider charges at most once per key. */
  idempotencyKey: string;
}

export interface RefundInput {
  orderId: string;
  paymentId: string;
  amountCents: number;
  idempotencyKey: string;
}

export interface CustomerNotice {
  orderId: string;
  idempotencyKey: string;
  to: string;
  text: string;
}

/** The side effects an order needs; implemented by src/activities. */
export interface PizzaOrderActivities {
  chargePayment: (input: ChargeInput) => Promise<{ paymentId: string }>;
  refundPayment: (input: RefundInput) => Promise<{ refundId: string }>;
  notifyCustomer: (input: CustomerNotice) => Promise<void>;
}

/** Error types a retry cannot fix. */
export const orderNonRetryableErrorTypes = ['PaymentDeclined', 'BadConfiguration', 'NotificationRejected'];

export interface MenuItem {
  name: string;
  priceCents: number;
}

/**
 * Prices the requested items from the menu. Callers validate SKUs against the menu first (the API's body
 * schema lists them), so an unknown one here is a bug and throws.
 */
export function priceOrder(
  menu: Record<string, MenuItem>,
  items: { sku: string; qty: number }[],
): { lines: OrderLine[]; totalCents: number } {
  const unknown = items.filter((i) => !Object.hasOwn(menu, i.sku)).map((i) => i.sku);
  if (unknown.length > 0) throw new Error(`not on the menu: ${unknown.join(', ')}`);
  const lines = items.map(({ sku, qty }) => ({
    sku,
    qty,
    name: menu[sku].name,
    unitPriceCents: menu[sku].priceCents,
  }));
  return { lines, totalCents: lines.reduce((sum, l) => sum + l.qty * l.unitPriceCents, 0) };
}
