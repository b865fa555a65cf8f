// The timer-versus-update race on a real dev server, made to happen on purpose: the worker is stopped, an
// order's delivery promise passes, the driver's "delivered" arrives, and the next worker gets the timer and
// the update in one workflow task. Such a task replays in the other order (update first, an SDK bug, see
// test/workflows/replay.test.ts), so the order must refuse the update in that task (the API asks again)
// and its history must replay. RECORD_HISTORY=1 saves the history under test/workflows/histories.
import '../support/quiet-runtime';
import { writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { NativeConnection } from '@temporalio/worker';
import { dataConverterFor } from '../../src/codec/aes-gcm-codec';
import { deliveryEventUpdate, pizzaOrderWorkflowId, type OrderStatus } from '../../src/shared/pizza-order';
import { eventually, http, startLocalStack, type LocalStack } from '../support/local-stack';
import { customerToken, staffToken, testPizza } from '../support/test-config';
import { runStackWorker } from '../support/stack-worker';
import { testWorkflowBundle } from '../support/workflow-bundle';

const PROMISE_S = 6;
let stack: LocalStack;
let connection: NativeConnection;
let link: Link;

/**
 * The worker's line to the server, which the test can cut: while it is down the worker keeps its cached
 * workflows but polls nothing, so a timer that fires and an update that arrives meanwhile reach it in one
 * workflow task, as after a network blip.
 */
class Link {
  private readonly sockets = new Set<Socket>();
  private up = true;
  private constructor(private readonly server: Server) {}

  static async open(target: { host: string; port: number }): Promise<Link> {
    const server = createServer();
    const link = new Link(server);
    server.on('connection', (inbound) => {
      if (!link.up) return void inbound.destroy();
      const outbound = createConnection(target);
      for (const [a, b] of [
        [inbound, outbound],
        [outbound, inbound],
      ]) {
        link.sockets.add(a);
        a.pipe(b);
        a.on('error', () => b.destroy());
        a.on('close', () => (link.sockets.delete(a), b.destroy()));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return link;
  }

  get address(): string {
    const a = this.server.address();
    return `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  }

  cut(): void {
    this.up = false;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.up = true;
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((r) => this.server.close(() => r()));
  }
}

beforeAll(async () => {
  stack = await startLocalStack({
    homes: [],
    worker: false,
    overrides: { pizza: testPizza({ deliveryPromiseSeconds: PROMISE_S }) },
  });
  const [host, port] = stack.server.address.split(':');
  link = await Link.open({ host, port: Number(port) });
  connection = await NativeConnection.connect({ address: link.address });
});

afterAll(async () => {
  await connection?.close();
  await link?.close();
  await stack?.stop();
});

const runWorker = () => runStackWorker(stack, connection);

const api = (method: string, path: string, token: string, body?: unknown) =>
  http(stack.api.url, method, path, { token, body });

test('When the delivery promise passes while the worker is cut off and "delivered" arrives, then both reach one workflow task, the order ends consistently and its history replays', async () => {
  const first = await runWorker();
  const placed = await api('POST', '/orders', customerToken('ada'), {
    items: [{ sku: 'margherita', qty: 1 }],
    address: '1 Race Street, Springfield',
    customer: { name: 'Ada', phone: '+15550100042' },
  });
  expect(placed.status).toBe(201);
  const { orderId } = placed.body as { orderId: string };
  expect(
    (
      await api('POST', `/orders/${orderId}/payment`, customerToken('ada'), {
        amountCents: placed.body.totalCents,
        paymentMethod: 'pm_card_visa',
      })
    ).status,
  ).toBe(200);
  for (const event of ['accepted', 'in-oven', 'baked'])
    expect((await api('POST', `/orders/${orderId}/kitchen`, staffToken, { event })).status).toBe(200);
  const out = await api('POST', `/orders/${orderId}/delivery`, staffToken, { event: 'picked-up' });
  expect(out.body.state).toBe('out-for-delivery');
  const promisedBy = Date.parse((out.body as OrderStatus).promisedBy!);

  // The worker's line is down while the promise passes and the driver reports: both wait for one task.
  const at = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, promisedBy + ms - Date.now())));
  await at(-500);
  link.cut();
  await at(500);
  const handle = stack.client.workflow.getHandle(pizzaOrderWorkflowId(orderId));
  const delivered = handle
    .executeUpdate(deliveryEventUpdate, { args: [{ by: 'kitchen-staff', event: 'delivered' }] })
    .then(
      (s) => ({ accepted: s }),
      (err: unknown) => ({ refused: err }),
    );
  await at(1500);
  link.restore();
  let answer: Awaited<typeof delivered>;
  try {
    answer = await delivered;
    await eventually(
      () => handle.describe(),
      (d) => d.status.name === 'COMPLETED',
    );
  } finally {
    await first.stop();
  }

  // The timer and the update reached the worker in one workflow task...
  const history = await handle.fetchHistory();
  const events = history.events!;
  const fired = events.findIndex((e) => e.timerFiredEventAttributes);
  const accepted = events.findIndex((e, i) => i > fired && e.workflowExecutionUpdateAcceptedEventAttributes);
  expect(fired).toBeGreaterThan(0);
  expect(events.slice(fired, accepted).filter((e) => e.workflowTaskCompletedEventAttributes)).toHaveLength(1);
  // ...and this SDK ran the update first, live as on replay: delivered, so the promise was kept. (Were the
  // timer run first, the order's deadline guard would refuse the update with deadline-in-progress and the
  // API would ask again; this test then fails and must assert that instead.)
  expect(answer).toEqual({
    accepted: expect.objectContaining({ state: 'delivered', late: false, voucher: null }),
  });
  if (process.env.RECORD_HISTORY)
    writeFileSync(
      resolve(__dirname, '../workflows/histories/order-delivered-in-same-task-as-promise.binpb'),
      temporal.api.history.v1.History.encode(history).finish(),
    );
  await Worker.runReplayHistory(
    { workflowBundle: testWorkflowBundle(), dataConverter: dataConverterFor(stack.config) },
    history,
    pizzaOrderWorkflowId(orderId),
  );
});
