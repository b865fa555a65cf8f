// Pizza-order session: one per order, from placing to the door. The declaration the platform reads,
// shared by the workflow, the worker and the API. Sandbox-safe: no Node built-ins and no I/O here.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { defineRequest, defineSessionKind, sessionId, type Caller } from './session-kind';
import { SessionModel, isoTime, sessionStepSchema, transitionTakenSchema } from './session-model';

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
  kind: 'pizza-order',
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

export const orderIdSchema = z.string().regex(/^[a-f0-9]{24}$/, 'an order id is 24 lowercase hex characters');

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
}

export type CancelReason = 'customer' | 'staff' | 'payment-timeout';

export const orderStatusSchema = z.strictObject({
  orderId: orderIdSchema,
  customerId: z.string(),
  state: z.enum(orderStates),
  /** Set once when the promised time passes before delivery; never cleared. */
  late: z.boolean(),
  lines: z.array(
    z.strictObject({ sku: z.string(), name: z.string(), qty: z.int(), unitPriceCents: z.int() }),
  ),
  totalCents: z.int(),
  currency: z.string(),
  address: z.string(),
  customerName: z.string(),
  placedAt: isoTime,
  paymentDueBy: isoTime,
  /** Set at payment. */
  promisedBy: isoTime.nullable(),
  /** Estimated delivery, recomputed at every step from the configured estimates. */
  eta: isoTime.nullable(),
  payment: z
    .strictObject({ paymentId: z.string(), amountCents: z.int(), at: isoTime, by: z.string() })
    .nullable(),
  refund: z
    .strictObject({
      status: z.enum(['pending', 'done', 'failed']),
      amountCents: z.int(),
      refundId: z.string().nullable(),
    })
    .nullable(),
  cancelled: z
    .strictObject({ reason: z.enum(['customer', 'staff', 'payment-timeout']), by: z.string(), at: isoTime })
    .nullable(),
  voucher: z.string().nullable(),
  requestDigest: z.string(),
  timeline: z.array(z.strictObject({ at: isoTime, event: z.string(), by: z.string().nullable() })),
  steps: z.array(sessionStepSchema),
  /** Every state change so far, in order. */
  path: z.array(transitionTakenSchema),
});
export type OrderStatus = z.infer<typeof orderStatusSchema>;
export type TimelineEntry = OrderStatus['timeline'][number];

/** Who asked, by token *name* (never the token itself). */
export interface OrderActor {
  by: string;
}

export const paymentBody = z.strictObject({
  amountCents: z.number().int().positive().max(10_000_000),
  paymentMethod: z
    .string()
    .regex(/^pm_[A-Za-z0-9_]{1,100}$/, 'a payment-method reference from the provider, e.g. pm_card_visa'),
});
export const cancelBody = z.strictObject({}).optional();
export const kitchenBody = z.strictObject({ event: z.enum(kitchenEvents) });
export const deliveryBody = z.strictObject({ event: z.enum(deliveryEvents) });

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
  /** A deadline (payment window, delivery promise) is being handled in this very task; the API retries. */
  deadlinePassing: 'deadline-in-progress',
} as const;

/** Every request waits out a deadline being handled (see `TransitionTaskGuard`). */
const retryWhile = [OrderRefusal.deadlinePassing];

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

const seconds = (def: number) =>
  z
    .number()
    .positive()
    .max(7 * 24 * 3600)
    .default(def);

export const pizzaSettingsSchema = z
  .strictObject({
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'ISO 4217 code, e.g. EUR')
      .default('EUR'),
    menu: z
      .record(
        z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
        z.strictObject({ name: z.string().min(1).max(100), priceCents: z.number().int().positive() }),
      )
      .default({
        margherita: { name: 'Margherita', priceCents: 900 },
        pepperoni: { name: 'Pepperoni', priceCents: 1100 },
        quattro: { name: 'Quattro Formaggi', priceCents: 1250 },
        cola: { name: 'Cola 0.5 l', priceCents: 300 },
      }),
    paymentTimeoutSeconds: seconds(15 * 60),
    deliveryPromiseSeconds: seconds(45 * 60),
    estimates: z
      .strictObject({
        kitchenSeconds: seconds(10 * 60),
        bakingSeconds: seconds(12 * 60),
        deliverySeconds: seconds(20 * 60),
      })
      .prefault({}),
    /**
     * Orders without a customer token (they get a session token for their order instead). Off unless the
     * shop wants them: each one is a workflow and an SMS to a number the caller chose.
     */
    guestOrders: z.boolean().default(false),
    /** Guest orders per client address and per phone number (each one an SMS to it), per hour. */
    guestLimits: z
      .strictObject({
        perAddressPerHour: z.number().int().positive().default(10),
        perPhonePerHour: z.number().int().positive().default(3),
      })
      .prefault({}),
  })
  .prefault({});
export type PizzaSettings = z.output<typeof pizzaSettingsSchema>;

/** An order's durations, from configuration. */
export function orderTiming(settings: PizzaSettings): OrderTiming {
  const { paymentTimeoutSeconds, deliveryPromiseSeconds, estimates } = settings;
  return {
    paymentTimeoutMs: paymentTimeoutSeconds * 1000,
    deliveryPromiseMs: deliveryPromiseSeconds * 1000,
    kitchenMs: estimates.kitchenSeconds * 1000,
    bakingMs: estimates.bakingSeconds * 1000,
    deliveryMs: estimates.deliverySeconds * 1000,
  };
}

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency}`;
const by = (caller: Caller) => ({ by: caller.name });
const staffDesk = (desk: 'kitchen' | 'delivery') => (on: string) =>
  on.startsWith(`${desk}:`)
    ? { label: `${desk}: ${on.slice(desk.length + 1)}`, body: { event: on.slice(desk.length + 1) } }
    : undefined;

export const sessionKind = defineSessionKind<OrderStatus, PizzaSettings>({
  name: 'pizza-order',
  title: 'Pizza order',
  workflowType: 'pizzaOrderWorkflow',
  key: { name: 'orderId', schema: orderIdSchema, example: '0123456789abcdef01234567' },
  model: pizzaOrderModel,
  // An order ends within about an hour: it finishes on the build it started on.
  versioning: 'pinned',
  status: orderStatusSchema,
  statusQuery: orderStatusQuery,
  events: {},
  requests: {
    pay: defineRequest({
      update: payOrderUpdate,
      body: paymentBody,
      roles: ['customer', 'session', 'staff'],
      summary: 'Pay the order total with a payment-method reference',
      answer: orderStatusSchema,
      retryWhile,
      args: (body, caller) => ({ ...by(caller), ...body }),
      refusals: {
        'wrong-amount': 422,
        'bad-request': 400,
        'payment-declined': 402,
        'payment-unavailable': 503,
      },
      action: (on, s) =>
        on === 'pay'
          ? {
              label: `Pay ${money(s.totalCents, s.currency)} (test card)`,
              body: { amountCents: s.totalCents, paymentMethod: 'pm_card_visa' },
            }
          : undefined,
    }),
    cancel: defineRequest({
      update: cancelOrderUpdate,
      body: cancelBody,
      roles: ['customer', 'session', 'staff'],
      summary: 'Cancel until the driver has it; a paid order is refunded once',
      answer: orderStatusSchema,
      retryWhile,
      // The shop cancels as staff; the one who ordered, as the customer.
      args: (_body, caller) => ({
        ...by(caller),
        reason: caller.role === 'staff' || caller.role === 'operator' ? 'staff' : 'customer',
      }),
      action: (on) => (on === 'cancel' ? { label: 'Cancel order' } : undefined),
    }),
    kitchen: defineRequest({
      update: kitchenEventUpdate,
      body: kitchenBody,
      roles: ['staff'],
      summary: 'The kitchen reports accepted, in-oven or baked, each only from the state before it',
      answer: orderStatusSchema,
      retryWhile,
      args: (body, caller) => ({ ...by(caller), ...body }),
      action: staffDesk('kitchen'),
    }),
    delivery: defineRequest({
      update: deliveryEventUpdate,
      body: deliveryBody,
      roles: ['staff'],
      summary: 'The driver reports picked-up or delivered, each only from the state before it',
      answer: orderStatusSchema,
      retryWhile,
      args: (body, caller) => ({ ...by(caller), ...body }),
      action: staffDesk('delivery'),
    }),
  },
  viewers: ['staff', 'customer', 'session'],
  settings: {
    section: 'pizza',
    schema: pizzaSettingsSchema,
    env: {
      PIZZA_GUEST_ORDERS: 'guestOrders',
      PIZZA_PAYMENT_TIMEOUT_SECONDS: 'paymentTimeoutSeconds',
      PIZZA_DELIVERY_PROMISE_SECONDS: 'deliveryPromiseSeconds',
    },
  },
  deadlines: (s) => [
    { label: 'payment window', at: s.paymentDueBy },
    ...(s.promisedBy ? [{ label: 'delivery promise', at: s.promisedBy }] : []),
  ],
  summary: (s) => ({
    outcome:
      s.state === 'delivered'
        ? s.late
          ? 'delivered-late'
          : 'delivered'
        : s.state === 'cancelled'
          ? `cancelled-by-${s.cancelled?.reason ?? 'staff'}`
          : null,
    // The payment window while unpaid, then the delivery promise.
    deadline: pizzaOrderModel.isFinal(s.state)
      ? null
      : s.state === 'awaiting-payment'
        ? s.paymentDueBy
        : s.promisedBy,
  }),
  closed: (s) => ({ code: `order-${s.state}`, message: `the order is ${s.state} and closed` }),
});

/** Workflow id of an order's session. */
export const pizzaOrderWorkflowId = (orderId: string) => sessionId(sessionKind, orderId);
