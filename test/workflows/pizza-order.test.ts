// The pizza-order story on the time-skipping test server: real workflow, real activities (the fake
// payment provider, webhook notices to a real HTTP sink), timers of minutes skipped.
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import '../support/quiet-runtime';
import { randomUUID } from 'node:crypto';
import { settingsOf } from '../../src/config/kinds';
import {
  pizzaOrderModel,
  sessionKind as pizzaOrder,
  orderTiming,
  cancelOrderUpdate,
  deliveryEventUpdate,
  kitchenEventUpdate,
  orderStatusQuery,
  payOrderUpdate,
  pizzaOrderWorkflowId,
  priceOrder,
  type DeliveryEvent,
  type KitchenEvent,
  type OrderStatus,
  type PizzaOrderInput,
} from '../../src/shared/pizza-order';
import type { BuiltActivityDeps } from '../../src/worker/activity-deps';
import type { pizzaOrderWorkflow } from '../../src/workflows/pizza-order';
import { testConfig } from '../support/test-config';
import { WebhookSink } from '../support/webhook-sink';
import {
  eventuallyTrue as eventually,
  expectModelCovered,
  refusal,
  startTimeSkippingWorld,
  type TimeSkippingWorld,
} from '../support/time-skipping';

let world: TimeSkippingWorld;
let env: TestWorkflowEnvironment;
let sink: WebhookSink;
let deps: BuiltActivityDeps;
let taskQueue: string;
const timing = orderTiming(settingsOf(pizzaOrder, testConfig({ taskQueue: 'unused', homes: [] })));
const MINUTE = 60_000;

beforeAll(async () => {
  world = await startTimeSkippingWorld({ name: 'pizza-order-wf' });
  ({ env, sink, deps, taskQueue } = world);
});

afterAll(async () => {
  await world?.stop();
});

type OrderHandle = WorkflowHandle<typeof pizzaOrderWorkflow>;

async function placeOrder(): Promise<{ orderId: string; handle: OrderHandle; total: number }> {
  const orderId = randomUUID().replace(/-/g, '').slice(0, 24);
  const priced = priceOrder(settingsOf(pizzaOrder, world.config).menu, [
    { sku: 'margherita', qty: 2 },
    { sku: 'cola', qty: 1 },
  ]);
  const input: PizzaOrderInput = {
    orderId,
    customerId: 'ada',
    ...priced,
    currency: 'EUR',
    address: '1 Test Street',
    customer: { name: 'Ada', phone: '+15550000042' },
    requestDigest: 'digest',
    timing,
    // The Java test server has no custom search attributes: visibility is asserted on the dev server.
  };
  const handle = await env.client.workflow.start<typeof pizzaOrderWorkflow>('pizzaOrderWorkflow', {
    workflowId: pizzaOrderWorkflowId(orderId),
    taskQueue,
    args: [input],
  });
  return { orderId, handle, total: priced.totalCents };
}

const status = (h: OrderHandle) => h.query(orderStatusQuery);
const pay = (h: OrderHandle, amountCents: number, paymentMethod = 'pm_card_visa') =>
  h.executeUpdate(payOrderUpdate, { args: [{ by: 'ada', amountCents, paymentMethod }] });
const kitchen = (h: OrderHandle, event: KitchenEvent) =>
  h.executeUpdate(kitchenEventUpdate, { args: [{ by: 'chef', event }] });
const delivery = (h: OrderHandle, event: DeliveryEvent) =>
  h.executeUpdate(deliveryEventUpdate, { args: [{ by: 'driver', event }] });
const cancel = (h: OrderHandle, by = 'ada', reason: 'customer' | 'staff' = 'customer') =>
  h.executeUpdate(cancelOrderUpdate, { args: [{ by, reason }] });

/** A refused request must leave the order exactly as it was. */
async function expectUnchanged(h: OrderHandle, before: OrderStatus) {
  const after = await status(h);
  expect(after.state).toBe(before.state);
  expect(after.timeline).toEqual(before.timeline);
  expect(after.payment).toEqual(before.payment);
}

const chargesFor = (orderId: string) => deps.payments.charges.filter((c) => c.orderId === orderId);
const refundsFor = (orderId: string) => deps.payments.refunds.filter((r) => r.orderId === orderId);
const textsTo = (orderId: string) => sink.forOrder(orderId).map((n) => n.text);

describe('pizza-order workflow', () => {
  test('When an order is paid and goes through kitchen and delivery, then each step shows in the status with an ETA', async () => {
    const { orderId, handle, total } = await placeOrder();
    expect(total).toBe(2 * 900 + 300);

    const placed = await status(handle);
    expect(placed).toMatchObject({ state: 'awaiting-payment', totalCents: 2100, late: false, payment: null });
    expect(Date.parse(placed.paymentDueBy) - Date.parse(placed.placedAt)).toBe(timing.paymentTimeoutMs);

    const paid = await pay(handle, total);
    expect(paid.state).toBe('paid');
    expect(paid.payment).toMatchObject({ amountCents: total, by: 'ada' });
    expect(Date.parse(paid.promisedBy!) - Date.parse(paid.payment!.at)).toBe(timing.deliveryPromiseMs);
    expect(Date.parse(paid.eta!) - Date.parse(paid.payment!.at)).toBe(
      timing.kitchenMs + timing.bakingMs + timing.deliveryMs,
    );

    const seen: string[] = [];
    for (const [step, expected] of [
      [() => kitchen(handle, 'accepted'), 'in-kitchen'],
      [() => kitchen(handle, 'in-oven'), 'baking'],
      [() => kitchen(handle, 'baked'), 'ready'],
      [() => delivery(handle, 'picked-up'), 'out-for-delivery'],
    ] as const) {
      await env.sleep(2 * MINUTE);
      const answer = await step();
      expect(answer.state).toBe(expected);
      seen.push(answer.state);
      const latest = answer.timeline[answer.timeline.length - 1];
      if (expected === 'out-for-delivery') {
        expect(Date.parse(answer.eta!) - Date.parse(latest.at)).toBe(timing.deliveryMs);
      }
    }
    expect(seen).toEqual(['in-kitchen', 'baking', 'ready', 'out-for-delivery']);
    const done = await delivery(handle, 'delivered');
    expect(done.state).toBe('delivered');

    const final = await handle.result();
    expect(final.timeline.map((t) => t.event)).toEqual([
      'placed',
      'paid',
      'accepted',
      'in-oven',
      'baked',
      'picked-up',
      'delivered',
    ]);
    expect(final.late).toBe(false);
    expect(chargesFor(orderId)).toHaveLength(1);
    expect(refundsFor(orderId)).toHaveLength(0);
    expect(textsTo(orderId)).toEqual([
      expect.stringContaining('Please pay by'),
      expect.stringContaining('payment of 21.00 EUR received'),
      expect.stringContaining('on its way'),
    ]);
  });

  test('When the kitchen accepts before payment, then it is refused out-of-order and accepting after payment works', async () => {
    const { handle, total } = await placeOrder();
    const before = await status(handle);
    expect(await refusal(kitchen(handle, 'accepted'))).toBe('out-of-order');
    await expectUnchanged(handle, before);

    await pay(handle, total);
    expect((await kitchen(handle, 'accepted')).state).toBe('in-kitchen');
  });

  test('When a payment has the wrong amount or comes twice, then it is refused and nothing is charged again', async () => {
    const { orderId, handle, total } = await placeOrder();
    const before = await status(handle);
    expect(await refusal(pay(handle, total - 1))).toBe('wrong-amount');
    expect(await refusal(pay(handle, total + 100))).toBe('wrong-amount');
    await expectUnchanged(handle, before);
    expect(chargesFor(orderId)).toHaveLength(0);

    await pay(handle, total);
    const paid = await status(handle);
    expect(await refusal(pay(handle, total))).toBe('already-paid');
    await expectUnchanged(handle, paid);
    expect(chargesFor(orderId)).toHaveLength(1);
  });

  test('When the card is declined, then the order stays unpaid and another card can pay it', async () => {
    const { orderId, handle, total } = await placeOrder();
    const before = await status(handle);
    expect(await refusal(pay(handle, total, 'pm_card_declined'))).toBe('payment-declined');
    await expectUnchanged(handle, before);

    const paid = await pay(handle, total, 'pm_card_visa');
    expect(paid.state).toBe('paid');
    expect(chargesFor(orderId)).toEqual([expect.objectContaining({ paymentMethod: 'pm_card_visa' })]);
    expect(paid.steps.filter((s) => s.step.startsWith('charge-')).map((s) => s.status)).toEqual([
      'failed',
      'done',
    ]);
  });

  test('When the payment provider is briefly down, then the charge is retried under the same key and made once', async () => {
    const { orderId, handle, total } = await placeOrder();
    deps.payments.failNext = 2;
    const paid = await pay(handle, total);
    expect(paid.state).toBe('paid');
    expect(chargesFor(orderId)).toHaveLength(1);
  });

  test('When a paid order is cancelled, then the payment is refunded exactly once and the customer told', async () => {
    const { orderId, handle, total } = await placeOrder();
    await pay(handle, total);
    await kitchen(handle, 'accepted');
    // The provider is down when the refund starts: retries must still refund once.
    deps.payments.failNext = Infinity;
    const answer = await handle.executeUpdate(cancelOrderUpdate, {
      args: [{ by: 'ada', reason: 'customer' }],
    });
    expect(answer.state).toBe('cancelled');
    expect(answer.refund).toEqual({ status: 'pending', amountCents: total, refundId: null });
    // While the refund retries, the order is still open: a second cancel or a payment is refused.
    expect(await refusal(cancel(handle))).toBe('order-cancelled');
    expect(await refusal(pay(handle, total))).toBe('order-cancelled');
    expect(await refusal(kitchen(handle, 'in-oven'))).toBe('order-cancelled');
    await eventually(async () => (await status(handle)).steps.some((s) => s.step === 'refund'));
    deps.payments.failNext = 0;

    const final = await handle.result();
    expect(final.cancelled).toMatchObject({ reason: 'customer', by: 'ada' });
    expect(final.refund).toMatchObject({ status: 'done', amountCents: total });
    const [charge] = chargesFor(orderId);
    expect(refundsFor(orderId)).toEqual([
      expect.objectContaining({
        paymentId: charge.paymentId,
        amountCents: total,
        refundId: final.refund!.refundId,
      }),
    ]);
    expect(textsTo(orderId).filter((t) => t.includes('cancelled'))).toEqual([
      expect.stringContaining('21.00 EUR refunded'),
    ]);
  });

  test.each([
    ['paid', []],
    ['baking', ['accepted', 'in-oven']],
    ['ready', ['accepted', 'in-oven', 'baked']],
  ] as const)(
    'When a %s order is cancelled, then it is refunded once',
    async (_state, kitchenSteps: readonly KitchenEvent[]) => {
      const { orderId, handle, total } = await placeOrder();
      await pay(handle, total);
      for (const e of kitchenSteps) await kitchen(handle, e);
      expect((await cancel(handle)).state).toBe('cancelled');
      expect((await handle.result()).refund?.status).toBe('done');
      expect(refundsFor(orderId)).toHaveLength(1);
    },
  );

  test('When an unpaid order is cancelled, then nothing is refunded', async () => {
    const { orderId, handle } = await placeOrder();
    const answer = await cancel(handle, 'shop', 'staff');
    expect(answer.refund).toBeNull();
    const final = await handle.result();
    expect(final.cancelled).toMatchObject({ reason: 'staff', by: 'shop' });
    expect(refundsFor(orderId)).toHaveLength(0);
  });

  test('When the driver has the pizza, then cancel is refused too-late and the order goes on', async () => {
    const { handle, total } = await placeOrder();
    await pay(handle, total);
    for (const e of ['accepted', 'in-oven', 'baked'] as const) await kitchen(handle, e);
    await delivery(handle, 'picked-up');
    const before = await status(handle);
    expect(await refusal(cancel(handle))).toBe('too-late');
    await expectUnchanged(handle, before);
    expect((await delivery(handle, 'delivered')).state).toBe('delivered');
  });

  test('When nobody pays within the payment window, then the order is cancelled payment-timeout and the customer told', async () => {
    const { orderId, handle } = await placeOrder();
    const final = await handle.result();
    expect(final.state).toBe('cancelled');
    expect(final.cancelled).toMatchObject({ reason: 'payment-timeout', by: 'timer' });
    expect(Date.parse(final.cancelled!.at) - Date.parse(final.placedAt)).toBeGreaterThanOrEqual(
      timing.paymentTimeoutMs,
    );
    expect(Date.parse(final.cancelled!.at) - Date.parse(final.placedAt)).toBeLessThan(
      timing.paymentTimeoutMs + 1000,
    );
    expect(final.refund).toBeNull();
    expect(textsTo(orderId)).toContainEqual(expect.stringContaining('no payment arrived in time'));
    expect(chargesFor(orderId)).toHaveLength(0);
  });

  test('When delivery misses the promised time, then the order is flagged late and the customer gets one voucher', async () => {
    const { orderId, handle, total } = await placeOrder();
    await pay(handle, total);
    await kitchen(handle, 'accepted');
    await env.sleep(timing.deliveryPromiseMs + MINUTE);
    const late = await status(handle);
    expect(late.late).toBe(true);
    expect(late.voucher).toMatch(/^LATE-[0-9A-F]{8}$/);
    expect(late.state).toBe('in-kitchen');

    for (const e of ['in-oven', 'baked'] as const) await kitchen(handle, e);
    await delivery(handle, 'picked-up');
    await env.sleep(timing.deliveryPromiseMs);
    await delivery(handle, 'delivered');
    const final = await handle.result();
    expect(final.late).toBe(true);
    const vouchers = textsTo(orderId).filter((t) => t.includes('Voucher'));
    expect(vouchers).toEqual([expect.stringContaining(late.voucher!)]);
  });

  test('When staff events come out of order or from the wrong desk, then they are refused and nothing changes', async () => {
    const { handle, total } = await placeOrder();
    await pay(handle, total);
    const paid = await status(handle);
    expect(await refusal(kitchen(handle, 'baked'))).toBe('out-of-order');
    expect(await refusal(delivery(handle, 'delivered'))).toBe('out-of-order');
    expect(await refusal(delivery(handle, 'picked-up'))).toBe('out-of-order');
    expect(
      await refusal(
        handle.executeUpdate(deliveryEventUpdate, { args: [{ by: 'x', event: 'accepted' as never }] }),
      ),
    ).toBe('bad-request');
    await expectUnchanged(handle, paid);
    await kitchen(handle, 'accepted');
    expect(await refusal(kitchen(handle, 'accepted'))).toBe('out-of-order');
  });

  test('When the whole story suite has run, then it took every declared transition and no other', async () => {
    expectModelCovered(pizzaOrderModel, await world.transitionsTaken());
  });
});
