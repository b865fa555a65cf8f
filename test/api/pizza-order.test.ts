// The pizza-order HTTP API against a real Temporal dev server, a real worker and real HTTP: the whole
// story, idempotent placing, who may see what, and every refusal with nothing started or changed.
import '../support/quiet-runtime';
import { WorkflowNotFoundError } from '@temporalio/client';
import { SessionTokens } from '../../src/api/auth';
import { startWebServer, stopWebServer, type RunningWebServer } from '../../src/api/server';
import { parseConfig } from '../../src/config/config';
import { settingsOf } from '../../src/config/kinds';
import {
  sessionKind as pizzaOrder,
  pizzaOrderWorkflowId,
  type PizzaSettings,
} from '../../src/shared/pizza-order';
import { testLogger } from '../support/silent-logger';
import { eventually, http, startLocalStack, type LocalStack } from '../support/local-stack';
import { customerToken, deviceToken, staffToken, testPizza } from '../support/test-config';

const PAYMENT_TIMEOUT_S = 8;
let stack: LocalStack;
let url: string;

beforeAll(async () => {
  stack = await startLocalStack({
    homes: ['pizza-home'],
    overrides: { pizza: testPizza({ paymentTimeoutSeconds: PAYMENT_TIMEOUT_S }) },
  });
  url = stack.api.url;
});

afterAll(async () => {
  for (const api of extraApis) await stopWebServer(api);
  await stack?.stop();
});

const extraApis: RunningWebServer[] = [];
/** Another API on the same stack with other pizza settings, behind a trusted proxy (X-Forwarded-For). */
async function apiWith(pizza: Partial<PizzaSettings>): Promise<string> {
  const settings = { ...settingsOf(pizzaOrder, stack.config), ...pizza };
  const config = {
    ...stack.config,
    api: { ...stack.config.api, trustProxy: ['loopback'] },
    kinds: { ...stack.config.kinds, [pizzaOrder.name]: settings },
  };
  const api = await startWebServer({ config, temporal: stack.temporal, logger: testLogger }, 0);
  extraApis.push(api);
  return api.url;
}
/** A guest's order from a client address, with an Idempotency-Key: its order id is known in advance. */
async function guestOrder(base: string, from: string, phone: string, key: string) {
  const res = await fetch(`${base}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': from, 'idempotency-key': key },
    body: JSON.stringify(orderBody({ customer: { name: 'Guest', phone } })),
  });
  const orderId = new SessionTokens(stack.config.tokenSecret)
    .digest('order-id', `guest\n${key}`)
    .slice(0, 24);
  return { status: res.status, headers: res.headers, body: (await res.json()) as any, orderId };
}
const expectNoOrder = (orderId: string) =>
  expect(stack.client.workflow.getHandle(pizzaOrderWorkflowId(orderId)).describe()).rejects.toBeInstanceOf(
    WorkflowNotFoundError,
  );

const ADA = customerToken('ada');
const BOB = customerToken('bob');
const orderBody = (extra: Record<string, unknown> = {}) => ({
  items: [
    { sku: 'margherita', qty: 2 },
    { sku: 'cola', qty: 1 },
  ],
  address: '42 Demo Street, Springfield',
  customer: { name: 'Ada', phone: '+15550100042' },
  ...extra,
});
const TOTAL = 2 * 900 + 300;

/** `token: null` places as a guest. */
async function place(token: string | null = ADA, body: unknown = orderBody(), key?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (key) headers['idempotency-key'] = key;
  const res = await fetch(`${url}/orders`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
}
const get = (orderId: string, token = ADA) => http(url, 'GET', `/orders/${orderId}`, { token });
const pay = (orderId: string, amountCents = TOTAL, token = ADA, paymentMethod = 'pm_card_visa') =>
  http(url, 'POST', `/orders/${orderId}/payment`, { token, body: { amountCents, paymentMethod } });
const cancel = (orderId: string, token = ADA) => http(url, 'POST', `/orders/${orderId}/cancel`, { token });
const kitchen = (orderId: string, event: string, token = staffToken) =>
  http(url, 'POST', `/orders/${orderId}/kitchen`, { token, body: { event } });
const delivery = (orderId: string, event: string, token = staffToken) =>
  http(url, 'POST', `/orders/${orderId}/delivery`, { token, body: { event } });
const list = (query: string, token: string | undefined = staffToken) =>
  http(url, 'GET', `/orders${query}`, { token });

const orderIdsIn = (res: { body: { orders: { orderId: string }[] } }) =>
  res.body.orders.map((o) => o.orderId);
const pizzaWorkflowCount = async () =>
  (await stack.client.workflow.count("SessionKind = 'pizza-order'")).count;
const historyLength = async (orderId: string) =>
  (await stack.client.workflow.getHandle(pizzaOrderWorkflowId(orderId)).describe()).historyLength;

describe('pizza-order HTTP API', () => {
  test('When staff repeat a request with the same Idempotency-Key, then the repeat gets the first answer and the order moves once', async () => {
    const { orderId } = (await place()).body;
    expect((await pay(orderId)).status).toBe(200);
    const accept = (key: string) =>
      http(url, 'POST', `/orders/${orderId}/kitchen`, {
        token: staffToken,
        body: { event: 'accepted' },
        headers: { 'Idempotency-Key': key },
      });
    const first = await accept('kitchen-accepted-0001');
    expect(first.status).toBe(200);
    const again = await accept('kitchen-accepted-0001');
    expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: first.body });
    // Another key is another request: the order is past that step.
    expect((await accept('kitchen-accepted-0002')).status).toBe(409);
    const path = (await get(orderId)).body.path.filter((t: { to: string }) => t.to === 'in-kitchen');
    expect(path).toHaveLength(1);
    expect((await accept('short')).status).toBe(400);
  });

  test('When a customer orders, pays and staff report kitchen and delivery, then every status answer follows the order', async () => {
    const placed = await place();
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ state: 'awaiting-payment', totalCents: TOTAL, currency: 'EUR' });
    const { orderId, orderToken } = placed.body as { orderId: string; orderToken: string };
    expect(placed.headers.get('location')).toBe(`/orders/${orderId}`);
    expect(orderToken).toMatch(/^st_/);

    const first = await get(orderId);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ orderId, state: 'awaiting-payment', customerId: 'ada', late: false });

    const paid = await pay(orderId);
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ state: 'paid', payment: { amountCents: TOTAL, by: 'ada' } });
    expect(paid.body.eta).toEqual(expect.any(String));

    const states: string[] = [];
    for (const step of [
      () => kitchen(orderId, 'accepted'),
      () => kitchen(orderId, 'in-oven'),
      () => kitchen(orderId, 'baked'),
      () => delivery(orderId, 'picked-up'),
      () => delivery(orderId, 'delivered'),
    ]) {
      const r = await step();
      expect(r.status).toBe(200);
      states.push(r.body.state);
      // "Where is my pizza?" answers the same state to the customer.
      expect((await get(orderId, orderToken)).body.state).toBe(r.body.state);
    }
    expect(states).toEqual(['in-kitchen', 'baking', 'ready', 'out-for-delivery', 'delivered']);

    // The closed order still answers, and refuses further events by its final state.
    await eventually(
      () => stack.client.workflow.getHandle(pizzaOrderWorkflowId(orderId)).describe(),
      (d) => d.status.name === 'COMPLETED',
    );
    const closed = await get(orderId);
    expect(closed.status).toBe(200);
    expect(closed.body.timeline.map((t: { event: string }) => t.event)).toEqual([
      'placed',
      'paid',
      'accepted',
      'in-oven',
      'baked',
      'picked-up',
      'delivered',
    ]);
    const after = await kitchen(orderId, 'accepted');
    expect(after.status).toBe(409);
    expect(after.body.error.code).toBe('order-delivered');
    expect(stack.deps.payments.charges.filter((c) => c.orderId === orderId)).toHaveLength(1);
    expect(stack.sink.forOrder(orderId).map((n) => n.channel)).toEqual(['sms', 'sms', 'sms']);
  });

  test('When the same order is placed again with its Idempotency-Key, then the same order comes back and nothing is ordered twice', async () => {
    const key = `retry-${Date.now()}-abcdef`;
    const first = await place(ADA, orderBody(), key);
    expect(first.status).toBe(201);
    const again = await place(ADA, orderBody(), key);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);

    // Another body under the same key is a client bug: refused, and the order is untouched.
    const other = await place(ADA, orderBody({ address: '1 Other Road, Shelbyville' }), key);
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency-key-reused');
    expect((await get(first.body.orderId)).body.address).toBe('42 Demo Street, Springfield');

    // Keys are per customer: Bob's identical key is Bob's own order.
    const bobs = await place(BOB, orderBody(), key);
    expect(bobs.status).toBe(201);
    expect(bobs.body.orderId).not.toBe(first.body.orderId);
    expect(await historyLength(first.body.orderId)).toBeGreaterThan(0);
  });

  test('When the shop has not turned guest orders on, then an order without a token is refused and nothing starts', async () => {
    expect(settingsOf(pizzaOrder, parseConfig({})).guestOrders).toBe(false);
    const base = await apiWith({ guestOrders: false });
    const refused = await guestOrder(base, '192.0.2.1', '+15550100100', 'guest-off-0001');
    expect(refused.status).toBe(401);
    await expectNoOrder(refused.orderId);
  });

  test('When guests order beyond the limit per phone number or per client address, then 429 with Retry-After and nothing starts', async () => {
    const base = await apiWith({ guestLimits: { perAddressPerHour: 3, perPhonePerHour: 2 } });
    const run = `${Date.now()}`;
    // One phone number from two addresses: its third SMS is refused wherever it comes from.
    expect((await guestOrder(base, '192.0.2.10', '+15550100200', `${run}-p1`)).status).toBe(201);
    expect((await guestOrder(base, '192.0.2.11', '+1 555 0100 200', `${run}-p2`)).status).toBe(201);
    const phoneRefused = await guestOrder(base, '192.0.2.12', '+15550100200', `${run}-p3`);
    expect(phoneRefused.status).toBe(429);
    expect(Number(phoneRefused.headers.get('retry-after'))).toBeGreaterThan(60);
    expect(phoneRefused.body.error.message).toContain('to this phone number');
    await expectNoOrder(phoneRefused.orderId);
    // One address with new numbers each time: its fourth order in the hour is refused.
    for (const n of [1, 2, 3])
      expect((await guestOrder(base, '192.0.2.20', `+1555010030${n}`, `${run}-a${n}`)).status).toBe(201);
    const addressRefused = await guestOrder(base, '192.0.2.20', '+15550100304', `${run}-a4`);
    expect(addressRefused.status).toBe(429);
    expect(addressRefused.body.error.message).toContain('from this address');
    await expectNoOrder(addressRefused.orderId);
    // Another address with another number still orders.
    expect((await guestOrder(base, '192.0.2.21', '+15550100400', `${run}-b1`)).status).toBe(201);
  });

  test('When a guest orders, then the order token alone follows, pays and cancels that one order', async () => {
    const placed = await place(null);
    expect(placed.status).toBe(201);
    const { orderId, orderToken } = placed.body as { orderId: string; orderToken: string };
    expect((await get(orderId, orderToken)).body.customerId).toBe('guest');

    const other = await place(null);
    expect((await get(other.body.orderId, orderToken)).status).toBe(401);
    expect((await list('', orderToken)).status).toBe(403);
    expect((await place(orderToken)).status).toBe(403);

    expect((await pay(orderId, TOTAL, orderToken)).body.state).toBe('paid');
    const cancelled = await cancel(orderId, orderToken);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ state: 'cancelled', cancelled: { reason: 'customer' } });
    await eventually(
      () => get(orderId, orderToken),
      (r) => r.body.refund?.status === 'done',
    );
    expect(stack.deps.payments.refunds.filter((r) => r.orderId === orderId)).toHaveLength(1);
  });

  test('When customers list orders, then each sees only their own; staff see all and filter by state', async () => {
    const adas = (await place(ADA)).body.orderId as string;
    const bobs = (await place(BOB)).body.orderId as string;
    await pay(bobs, TOTAL, BOB);

    await eventually(
      () => list('?state=paid'),
      (r) => orderIdsIn(r).includes(bobs) && !orderIdsIn(r).includes(adas),
    );
    await eventually(
      () => list('?limit=200'),
      (r) => orderIdsIn(r).includes(bobs) && orderIdsIn(r).includes(adas),
    );
    const adaSees = await eventually(
      () => list('', ADA),
      (r) => orderIdsIn(r).includes(adas),
    );
    expect(orderIdsIn(adaSees)).not.toContain(bobs);
    expect(adaSees.body.orders.every((o: { customerId: string }) => o.customerId === 'ada')).toBe(true);

    // Someone else's order is as absent as a missing one.
    expect((await get(bobs, ADA)).status).toBe(404);
    expect((await pay(adas, TOTAL, BOB)).status).toBe(404);
    expect((await cancel(bobs, ADA)).status).toBe(404);
    expect((await list('?state=eaten')).status).toBe(400);
    expect((await list('')).status).toBe(200);
    expect((await list('', deviceToken('pizza-home'))).status).toBe(403);
    expect((await http(url, 'GET', '/orders')).status).toBe(401);
  });

  test('When payments or staff events are wrong, then each is refused with its code and the order is unchanged', async () => {
    const { orderId } = (await place()).body as { orderId: string };
    await eventually(
      () => get(orderId),
      (r) => r.body.steps?.every((s: { status: string }) => s.status === 'done'),
    );
    // A declined card reaches the workflow (a failed update with its charge attempt)...
    const declined = await pay(orderId, TOTAL, ADA, 'pm_card_declined');
    expect({ status: declined.status, code: declined.body.error.code }).toEqual({
      status: 402,
      code: 'payment-declined',
    });
    const before = await historyLength(orderId);

    // ...every other refusal is stopped by validation or a validator and leaves no trace in history.
    const refused: [() => Promise<{ status: number; body: any }>, number, string][] = [
      [() => pay(orderId, TOTAL - 1), 422, 'wrong-amount'],
      [() => kitchen(orderId, 'accepted'), 409, 'out-of-order'],
      [() => kitchen(orderId, 'picked-up'), 400, 'validation-failed'],
      [() => kitchen(orderId, 'accepted', ADA), 403, 'forbidden'],
      [() => kitchen(orderId, 'accepted', ''), 401, 'unauthorized'],
      [() => delivery(orderId, 'delivered'), 409, 'out-of-order'],
      [
        () => http(url, 'POST', `/orders/${orderId}/payment`, { token: ADA, rawBody: '{"amountCents":' }),
        400,
        'invalid-json',
      ],
      [
        () =>
          http(url, 'POST', `/orders/${orderId}/payment`, {
            token: ADA,
            rawBody: 'amountCents=2100',
            contentType: 'application/x-www-form-urlencoded',
          }),
        415,
        'unsupported-media-type',
      ],
      [
        () =>
          http(url, 'POST', `/orders/${orderId}/payment`, {
            token: ADA,
            body: { amountCents: TOTAL, paymentMethod: 'pm_card_visa', tip: 5 },
          }),
        400,
        'validation-failed',
      ],
      [() => get('0123456789abcdef01234567'), 404, 'no-order'],
      [() => get('not-an-order'), 400, 'validation-failed'],
    ];
    for (const [send, status, code] of refused) {
      const r = await send();
      expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
    }
    const order = (await get(orderId)).body;
    expect(order.state).toBe('awaiting-payment');
    expect(order.timeline).toHaveLength(1);
    expect(stack.deps.payments.charges.filter((c) => c.orderId === orderId)).toHaveLength(0);
    expect(await historyLength(orderId)).toBe(before);

    expect((await pay(orderId)).status).toBe(200);
    const twice = await pay(orderId);
    expect({ status: twice.status, code: twice.body.error.code }).toEqual({
      status: 409,
      code: 'already-paid',
    });
    for (const e of ['accepted', 'in-oven', 'baked']) await kitchen(orderId, e);
    await delivery(orderId, 'picked-up');
    const late = await cancel(orderId);
    expect({ status: late.status, code: late.body.error.code }).toEqual({ status: 409, code: 'too-late' });
    expect(stack.deps.payments.charges.filter((c) => c.orderId === orderId)).toHaveLength(1);
  });

  test('When an order is badly formed, then it is refused and no order is started', async () => {
    const before = await pizzaWorkflowCount();
    const bad: [unknown, number, string][] = [
      [orderBody({ items: [] }), 400, 'validation-failed'],
      [orderBody({ items: [{ sku: 'sushi', qty: 1 }] }), 400, 'validation-failed'],
      [orderBody({ items: [{ sku: 'margherita', qty: 0 }] }), 400, 'validation-failed'],
      [orderBody({ customer: { name: 'Ada', phone: 'call me' } }), 400, 'validation-failed'],
      [orderBody({ discount: 100 }), 400, 'validation-failed'],
      [{ ...orderBody(), address: undefined }, 400, 'validation-failed'],
    ];
    for (const [body, status, code] of bad) {
      const r = await place(ADA, body);
      expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
    }
    expect((await place(deviceToken('pizza-home'))).status).toBe(403);
    expect((await place('no-such-token-0123456789')).status).toBe(401);
    const badKey = await place(ADA, orderBody(), 'short');
    expect(badKey.status).toBe(400);

    // One good order afterwards: once visibility shows it, it must be the only new one.
    const good = await place();
    await eventually(pizzaWorkflowCount, (n) => n >= before + 1);
    expect(await pizzaWorkflowCount()).toBe(before + 1);
    expect(good.status).toBe(201);
  });

  test('When nobody pays in the configured window, then the order is cancelled payment-timeout', async () => {
    const { orderId } = (await place()).body as { orderId: string };
    const cancelled = await eventually(
      () => get(orderId),
      (r) => r.body.state === 'cancelled',
      (PAYMENT_TIMEOUT_S + 10) * 1000,
    );
    expect(cancelled.body.cancelled).toMatchObject({ reason: 'payment-timeout' });
    const late = await pay(orderId);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toMatch(/^order-cancelled$/);
  });
});
