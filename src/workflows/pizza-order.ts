// The pizza-order session as plain async code: one workflow per order, from placing to the door.
// History stays small by construction (a handful of updates and activities per order, refusals leave
// no trace), so unlike the alarm this session never needs continue-as-new.
import {
  ApplicationFailure,
  ActivityFailure,
  condition,
  log,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import {
  OrderRefusal,
  cancelOrderUpdate,
  cancellableStates,
  deliveryEventUpdate,
  estimateDelivery,
  kitchenEventUpdate,
  orderNonRetryableErrorTypes,
  orderStatusQuery,
  payOrderUpdate,
  pizzaOrderModel,
  sessionKind,
  staffEventSteps,
  type CancelReason,
  type CancelRequest,
  type OrderState,
  type OrderStatus,
  type PayRequest,
  type PizzaOrderActivities,
  type PizzaOrderInput,
  type StaffEvent,
} from '../shared/pizza-order';
import { checkActor, refuse } from './requests';
import { SessionTrack, TransitionTaskGuard, allWorkFinished, kindActivities } from './session';
import { StepRunner, describeError, iso } from './step-runner';

const nonRetryableErrorTypes = orderNonRetryableErrorTypes;

// The customer waits on the HTTP answer while we charge: give up after 30 s and let them retry.
const payments = kindActivities<PizzaOrderActivities>(sessionKind.name, {
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '5s', nonRetryableErrorTypes },
});

// Money must go back: a refund keeps retrying for a day (the provider dedupes on the key).
const refunds = kindActivities<PizzaOrderActivities>(sessionKind.name, {
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '24h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m', nonRetryableErrorTypes },
});

// A message about a pizza is worth sending for an hour at most.
const notices = kindActivities<PizzaOrderActivities>(sessionKind.name, {
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '1h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes },
});

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency}`;

export async function pizzaOrderWorkflow(input: PizzaOrderInput): Promise<OrderStatus> {
  const { orderId, timing, currency } = input;
  const placedAtMs = Date.now();
  const s: OrderStatus = {
    orderId,
    customerId: input.customerId,
    state: pizzaOrderModel.decl.initial,
    late: false,
    lines: input.lines,
    totalCents: input.totalCents,
    currency,
    address: input.address,
    customerName: input.customer.name,
    placedAt: iso(placedAtMs),
    paymentDueBy: iso(placedAtMs + timing.paymentTimeoutMs),
    promisedBy: null,
    eta: iso(estimateDelivery('awaiting-payment', placedAtMs, timing)!),
    payment: null,
    refund: null,
    cancelled: null,
    voucher: null,
    requestDigest: input.requestDigest,
    timeline: [{ at: iso(placedAtMs), event: 'placed', by: input.customerId }],
    steps: [],
    path: [],
  };
  const steps = new StepRunner<string>(s.steps);
  /** One charge at a time; a declined charge is a finished attempt, the next one gets a new key. */
  let charging = false;
  let chargeAttempt = 0;

  const track = new SessionTrack<OrderState>(sessionKind.name, pizzaOrderModel, s);
  const move = (to: OrderState, on: string, event: string, by: string | null) => {
    const { at } = track.move(to, on);
    s.timeline.push({ at, event, by });
    const eta = estimateDelivery(to, Date.parse(at), timing);
    s.eta = eta === null ? null : iso(eta);
  };
  const tell = (what: string, text: string) =>
    steps.run(`notify-${what}`, () =>
      notices.notifyCustomer({
        orderId,
        // Same key on every retry: the customer hears each thing once.
        idempotencyKey: `${workflowInfo().workflowId}/notify-${what}`,
        to: input.customer.phone,
        text,
      }),
    );
  const ended = () => track.ended;
  // A deadline handled in the same task as an accepted update replays in the other order (update first)
  // and fails the task for good; every update is refused in that task and asked again by the API.
  const deadlineTask = new TransitionTaskGuard();
  const checkDeadline = () =>
    deadlineTask.check(OrderRefusal.deadlinePassing, 'a deadline of this order is passing right now; retry');

  setHandler(orderStatusQuery, () => s);

  setHandler(
    payOrderUpdate,
    async (req: PayRequest) => {
      charging = true;
      chargeAttempt += 1;
      const step = `charge-${chargeAttempt}`;
      try {
        const { paymentId } = await steps.track(step, () =>
          payments.chargePayment({
            orderId,
            amountCents: req.amountCents,
            currency,
            paymentMethod: req.paymentMethod,
            idempotencyKey: `${workflowInfo().workflowId}/${step}`,
          }),
        );
        s.payment = { paymentId, amountCents: req.amountCents, at: iso(Date.now()), by: req.by };
        s.promisedBy = iso(Date.now() + timing.deliveryPromiseMs);
        move('paid', 'pay', 'paid', req.by);
        void tell(
          'paid',
          `Order ${orderId}: payment of ${money(req.amountCents, currency)} received. ` +
            `Expected at your door by ${s.eta}.`,
        );
        return s;
      } catch (err) {
        const declined =
          err instanceof ActivityFailure &&
          err.cause instanceof ApplicationFailure &&
          err.cause.type === 'PaymentDeclined';
        if (!declined) chargeAttempt -= 1; // the provider may still hold this attempt: reuse its key
        throw declined
          ? refuse(OrderRefusal.paymentDeclined, `payment declined: ${describeError(err)}`)
          : refuse(OrderRefusal.paymentUnavailable, 'the payment provider did not answer; try again');
      } finally {
        charging = false;
      }
    },
    {
      // Validators refuse without touching state or history.
      validator: (req: PayRequest) => {
        checkActor(req);
        checkDeadline();
        if (s.state === 'cancelled') throw refuse(OrderRefusal.cancelled, 'the order is cancelled');
        if (charging) throw refuse(OrderRefusal.paymentInProgress, 'a payment is already being processed');
        if (s.state !== 'awaiting-payment')
          throw refuse(OrderRefusal.alreadyPaid, 'the order is already paid');
        if (!Number.isInteger(req.amountCents) || req.amountCents !== s.totalCents) {
          throw refuse(
            OrderRefusal.wrongAmount,
            `amount must be exactly the order total, ${s.totalCents} (${money(s.totalCents, currency)})`,
          );
        }
        if (typeof req.paymentMethod !== 'string' || req.paymentMethod.length === 0) {
          throw refuse(OrderRefusal.badRequest, 'paymentMethod is required');
        }
      },
    },
  );

  const cancel = (reason: CancelReason, by: string, on: string) => {
    move('cancelled', on, reason === 'payment-timeout' ? 'payment-timeout' : 'cancelled', by);
    s.cancelled = { reason, by, at: iso(Date.now()) };
    if (s.payment) s.refund = { status: 'pending', amountCents: s.payment.amountCents, refundId: null };
  };

  setHandler(
    cancelOrderUpdate,
    (req) => {
      cancel(req.reason, req.by, 'cancel');
      return s;
    },
    {
      validator: (req: CancelRequest) => {
        checkActor(req);
        checkDeadline();
        if (req.reason !== 'customer' && req.reason !== 'staff') {
          throw refuse(OrderRefusal.badRequest, "reason must be 'customer' or 'staff'");
        }
        if (s.state === 'cancelled') throw refuse(OrderRefusal.cancelled, 'the order is already cancelled');
        if (charging) throw refuse(OrderRefusal.paymentInProgress, 'a payment is being processed; try again');
        if (!cancellableStates.includes(s.state)) {
          throw refuse(OrderRefusal.tooLate, `too late to cancel: the order is ${s.state}`);
        }
      },
    },
  );

  const staffEvent = (kind: 'kitchen' | 'delivery') => ({
    handler: (req: { event: StaffEvent; by: string }) => {
      move(staffEventSteps[req.event].to, `${kind}:${req.event}`, req.event, req.by);
      if (req.event === 'picked-up')
        void tell('out-for-delivery', `Order ${orderId} is on its way: ETA ${s.eta}.`);
      return s;
    },
    validator: (req: { event: StaffEvent; by: string }) => {
      checkActor(req);
      checkDeadline();
      const step = staffEventSteps[req.event];
      if (!step || !pizzaOrderModel.can(step.from, step.to, `${kind}:${req.event}`)) {
        throw refuse(OrderRefusal.badRequest, `'${String(req.event)}' is not a ${kind} event`);
      }
      if (s.state === 'cancelled') throw refuse(OrderRefusal.cancelled, 'the order is cancelled');
      if (s.state !== step.from) {
        throw refuse(
          OrderRefusal.outOfOrder,
          `'${req.event}' needs the order ${step.from}; it is ${s.state}`,
        );
      }
    },
  });
  const kitchen = staffEvent('kitchen');
  const delivery = staffEvent('delivery');
  setHandler(kitchenEventUpdate, kitchen.handler, { validator: kitchen.validator });
  setHandler(deliveryEventUpdate, delivery.handler, { validator: delivery.validator });

  track.publish({ key: orderId, customerId: input.customerId });
  void tell(
    'placed',
    `Order ${orderId} received: ${money(s.totalCents, currency)}. Please pay by ${s.paymentDueBy}.`,
  );

  // Payment window: a charge still running when it closes decides the outcome.
  const paidInTime = await condition(() => s.state !== 'awaiting-payment', timing.paymentTimeoutMs);
  if (!paidInTime) {
    deadlineTask.mark();
    await condition(() => !charging);
    if (s.state === 'awaiting-payment') cancel('payment-timeout', 'timer', 'timer:payment-timeout');
  }

  // The promise: one notice with a voucher if the door has not been reached by then.
  if (!ended() && s.promisedBy) {
    const deliveredInTime = await condition(ended, Date.parse(s.promisedBy) - Date.now());
    if (!deliveredInTime) {
      deadlineTask.mark();
      s.late = true;
      s.voucher = `LATE-${uuid4().slice(0, 8).toUpperCase()}`;
      s.timeline.push({ at: iso(Date.now()), event: 'late', by: null });
      void tell(
        'late',
        `Sorry, order ${orderId} is late. Voucher ${s.voucher} takes 20% off your next order.`,
      );
    }
  }
  await condition(ended);

  if (s.state === 'cancelled') {
    const why =
      s.cancelled?.reason === 'payment-timeout'
        ? 'no payment arrived in time'
        : `cancelled by ${s.cancelled?.by}`;
    if (s.payment && s.refund) {
      const { payment, refund } = s;
      // Compensation, exactly once: one key per order, and the provider dedupes on it.
      await steps.run('refund', async () => {
        try {
          const { refundId } = await refunds.refundPayment({
            orderId,
            paymentId: payment.paymentId,
            amountCents: payment.amountCents,
            idempotencyKey: `${workflowInfo().workflowId}/refund`,
          });
          refund.status = 'done';
          refund.refundId = refundId;
          s.timeline.push({ at: iso(Date.now()), event: 'refunded', by: null });
        } catch (err) {
          refund.status = 'failed';
          log.error('refund failed: staff must refund by hand', { orderId, error: describeError(err) });
          throw err;
        }
      });
    }
    const refundText =
      s.refund?.status === 'done' ? ` ${money(s.refund.amountCents, currency)} refunded.` : '';
    void tell('cancelled', `Order ${orderId} cancelled: ${why}.${refundText}`);
  }

  // Messages still retrying belong to this order: finish them before closing.
  await allWorkFinished(steps);
  return s;
}
