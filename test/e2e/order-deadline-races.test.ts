// The order's two timer-versus-update races on a real dev server, made the way a crash makes them (the
// shape of the alarm history in test/workflows/replay.test.ts): the worker holding the order dies just
// before a deadline (the payment timeout, the delivery promise), the update (a payment, the driver's
// "delivered") arrives at that moment, and a fresh worker gets the timer and the update in one workflow
// task, after the task timed out on the dead worker's sticky queue. The orders' deadline guard
// (TransitionTaskGuard) refuses an update in a task that handled a deadline first; this SDK hands an order
// the update first, live as on replay, so the guard lets it through: the payment lands, "delivered" keeps
// the promise, and both histories replay. RECORD_HISTORY=1 saves them as
// test/workflows/histories/order-race-*.binpb, which the replay test pins.
import '../support/quiet-runtime';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { dataConverterFor } from '../../src/codec/aes-gcm-codec';
import {
  OrderRefusal,
  deliveryEventUpdate,
  payOrderUpdate,
  pizzaOrderWorkflowId,
  type OrderStatus,
} from '../../src/shared/pizza-order';
import { http, startLocalStack, type LocalStack } from '../support/local-stack';
import { FreezableProxy } from '../support/tcp-proxy';
import { customerToken, staffToken, testPizza } from '../support/test-config';
import { runStackWorker } from '../support/stack-worker';
import { testWorkflowBundle } from '../support/workflow-bundle';

const PAYMENT_TIMEOUT_S = 6;
const PROMISE_S = 5;
let stack: LocalStack;
let connection: NativeConnection;

beforeAll(async () => {
  stack = await startLocalStack({
    homes: [],
    worker: false,
    overrides: {
      pizza: testPizza({ paymentTimeoutSeconds: PAYMENT_TIMEOUT_S, deliveryPromiseSeconds: PROMISE_S }),
    },
  });
  connection = await NativeConnection.connect({ address: stack.server.address });
});

afterAll(async () => {
  await connection?.close();
  await stack?.stop();
});

/** A worker with an empty cache (a new process after a crash, a redeploy), on its own connection. */
const runWorker = (connection: NativeConnection) =>
  // As the real worker (src/worker/create-worker.ts): a dead worker's tasks move on after 3 s.
  runStackWorker(stack, connection, { stickyQueueScheduleToStartTimeout: '3s' });

const api = (method: string, path: string, token: string, body?: unknown) =>
  http(stack.api.url, method, path, { token, body });
const untilPast = (iso: string, ms: number) =>
  new Promise((r) => setTimeout(r, Math.max(0, Date.parse(iso) + ms - Date.now())));

async function placeOrder(): Promise<OrderStatus> {
  const placed = await api('POST', '/orders', customerToken('ada'), {
    items: [{ sku: 'margherita', qty: 1 }],
    address: '1 Race Street, Springfield',
    customer: { name: 'Ada', phone: '+15550100042' },
  });
  expect(placed.status).toBe(201);
  // Answered by the workflow: its first task ran, so the payment window is open from here.
  const { orderId } = placed.body as OrderStatus;
  const seen = await api('GET', `/orders/${orderId}`, customerToken('ada'));
  expect(seen.status).toBe(200);
  return seen.body as OrderStatus;
}

async function outForDelivery(): Promise<OrderStatus> {
  const { orderId, totalCents } = await placeOrder();
  const paid = await api('POST', `/orders/${orderId}/payment`, customerToken('ada'), {
    amountCents: totalCents,
    paymentMethod: 'pm_card_visa',
  });
  expect(paid.status).toBe(200);
  for (const event of ['accepted', 'in-oven', 'baked'])
    expect((await api('POST', `/orders/${orderId}/kitchen`, staffToken, { event })).status).toBe(200);
  const out = await api('POST', `/orders/${orderId}/delivery`, staffToken, { event: 'picked-up' });
  expect(out.body.state).toBe('out-for-delivery');
  return out.body as OrderStatus;
}

type Answer = { accepted: OrderStatus } | { refused: string };
const answerOf = (p: Promise<OrderStatus>): Promise<Answer> =>
  p.then(
    (accepted) => ({ accepted }),
    (err: unknown) => {
      const cause = err instanceof WorkflowUpdateFailedError ? err.cause : err;
      if (cause instanceof ApplicationFailure && cause.type) return { refused: cause.type };
      throw err;
    },
  );

/**
 * The race as a crash makes it: the worker that holds the order dies shortly before the deadline (its
 * connections close and nothing answers there again, as after SIGKILL) and the update arrives just before
 * the deadline. The server offers the update in a task on the dead worker's sticky queue; the timer fires
 * meanwhile and joins that task, which times out there after 3 s and reaches a fresh worker with both.
 * Returns the update's answers in order, asked again while refused with deadline-in-progress (as the API
 * does).
 */
async function race(
  setUp: () => Promise<OrderStatus>,
  deadline: (s: OrderStatus) => string,
  update: (s: OrderStatus) => Promise<OrderStatus>,
) {
  const [host, port] = stack.server.address.split(':');
  const line = await new FreezableProxy({ host, port: Number(port) }).start();
  const doomedConnection = await NativeConnection.connect({ address: line.address });
  const first = await runWorker(doomedConnection);
  let second: Awaited<ReturnType<typeof runWorker>> | undefined;
  try {
    const status = await setUp();
    await untilPast(deadline(status), -1500);
    await line.stop();
    second = await runWorker(connection);
    await untilPast(deadline(status), -1000);
    const answers: Answer[] = [];
    answers.push(await answerOf(update(status)));
    for (let last = answers[0]; 'refused' in last && last.refused === OrderRefusal.deadlinePassing;) {
      if (answers.length > 10) throw new Error('refused for good with deadline-in-progress');
      answers.push((last = await answerOf(update(status))));
    }
    const history = await handleOf(status.orderId).fetchHistory();
    return { answers, history, orderId: status.orderId };
  } finally {
    await second?.stop();
    await line.stop();
    // The dead worker's pollers find nothing to reach; stopping it only ends them.
    await first.stop();
    await doomedConnection.close();
  }
}

const paymentDue = (s: OrderStatus) => s.paymentDueBy;
const promised = (s: OrderStatus) => s.promisedBy!;
const handleOf = (orderId: string) => stack.client.workflow.getHandle(pizzaOrderWorkflowId(orderId));
const pay = ({ orderId, totalCents }: OrderStatus) =>
  handleOf(orderId).executeUpdate(payOrderUpdate, {
    args: [{ by: 'ada', amountCents: totalCents, paymentMethod: 'pm_card_visa' }],
  });
const delivered = ({ orderId }: OrderStatus) =>
  handleOf(orderId).executeUpdate(deliveryEventUpdate, {
    args: [{ by: 'kitchen-staff', event: 'delivered' }],
  });

function record(name: string, history: temporal.api.history.v1.IHistory) {
  if (process.env.RECORD_HISTORY)
    writeFileSync(
      resolve(__dirname, `../workflows/histories/order-race-${name}.binpb`),
      temporal.api.history.v1.History.encode(history).finish(),
    );
}

const replay = (history: temporal.api.history.v1.IHistory, orderId: string) =>
  Worker.runReplayHistory(
    { workflowBundle: testWorkflowBundle(), dataConverter: dataConverterFor(stack.config) },
    history,
    pizzaOrderWorkflowId(orderId),
  );

/** The timer fired and the update was accepted in one workflow task, after a task timed out unstarted. */
function expectSameTaskAfterDeadWorker(history: temporal.api.history.v1.IHistory) {
  const events = history.events!;
  const fired = events.findIndex((e) => e.timerFiredEventAttributes);
  const accepted = events.findIndex((e, i) => i > fired && e.workflowExecutionUpdateAcceptedEventAttributes);
  expect(fired).toBeGreaterThan(0);
  // One completion between them: the one that accepted the update (it is written right after it).
  expect(events.slice(fired, accepted).filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(1);
  expect(events.slice(fired - 2, accepted).some((e) => e.workflowTaskTimedOutEventAttributes)).toBe(true);
}

describe('order deadline races after a worker dies', () => {
  test('When a payment reaches a fresh worker in one task with the payment timeout, then it is taken (the order is paid, not cancelled) and the history replays', async () => {
    const { answers, history, orderId } = await race(placeOrder, paymentDue, pay);
    expect(answers).toEqual([{ accepted: expect.objectContaining({ state: 'paid', cancelled: null }) }]);
    expectSameTaskAfterDeadWorker(history);
    record('paid-with-payment-timeout', history);
    await expect(replay(history, orderId)).resolves.toBeUndefined();
  });

  test('When "delivered" reaches a fresh worker in one task with the delivery promise, then it is taken (delivered, not late) and the history replays', async () => {
    const { answers, history, orderId } = await race(outForDelivery, promised, delivered);
    expect(answers).toEqual([
      { accepted: expect.objectContaining({ state: 'delivered', late: false, voucher: null }) },
    ]);
    expectSameTaskAfterDeadWorker(history);
    record('delivered-with-delivery-promise', history);
    await expect(replay(history, orderId)).resolves.toBeUndefined();
  });
});
