// The order's representative sessions: one at each stage, and both ways of being cancelled.
import { sessionKind } from '../../src/shared/pizza-order';
import { customerToken, staffToken, testPizza } from '../../test/support/test-config';
import type { HistoryScenario, KindScenarios, ScenarioContext } from './scenario';

const ADA = customerToken('ada');
const order = (id: string) => `/sessions/${sessionKind.name}/${id}`;
const request = (ctx: ScenarioContext, id: string, name: string, body: unknown, token = staffToken) =>
  ctx.api('POST', `${order(id)}/requests/${name}`, { token, body });

/** The stages in order, each the request that leads to it. */
const stages: [state: string, step: (ctx: ScenarioContext, id: string, total: number) => Promise<unknown>][] =
  [
    [
      'paid',
      (ctx, id, total) => request(ctx, id, 'pay', { amountCents: total, paymentMethod: 'pm_card_visa' }, ADA),
    ],
    ['in-kitchen', (ctx, id) => request(ctx, id, 'kitchen', { event: 'accepted' })],
    ['baking', (ctx, id) => request(ctx, id, 'kitchen', { event: 'in-oven' })],
    ['ready', (ctx, id) => request(ctx, id, 'kitchen', { event: 'baked' })],
    ['out-for-delivery', (ctx, id) => request(ctx, id, 'delivery', { event: 'picked-up' })],
    ['delivered', (ctx, id) => request(ctx, id, 'delivery', { event: 'delivered' })],
  ];

async function place(ctx: ScenarioContext): Promise<{ id: string; total: number }> {
  const placed = await ctx.api('POST', '/orders', {
    token: ADA,
    body: {
      items: [
        { sku: 'margherita', qty: 2 },
        { sku: 'cola', qty: 1 },
      ],
      address: '42 Demo Street, Springfield',
      customer: { name: 'Ada', phone: '+15550100042' },
    },
  });
  if (placed.status !== 201)
    throw new Error(`placing an order: ${placed.status} ${JSON.stringify(placed.body)}`);
  return { id: placed.body.orderId, total: placed.body.totalCents };
}

/** An order taken up to `upTo` stages along. */
const staged = (upTo: number): HistoryScenario => ({
  name: upTo === 0 ? 'awaiting-payment' : stages[upTo - 1][0],
  state: upTo === 0 ? 'awaiting-payment' : stages[upTo - 1][0],
  run: async (ctx) => {
    const { id, total } = await place(ctx);
    for (const [, step] of stages.slice(0, upTo)) await step(ctx, id, total);
    return id;
  },
});

export const scenarios: KindScenarios = {
  // A payment window long enough to record an order still waiting for payment, short enough to let one lapse.
  settings: testPizza({ paymentTimeoutSeconds: 4 }),
  scenarios: [
    ...Array.from({ length: stages.length + 1 }, (_, i) => staged(i)),
    {
      name: 'cancelled-after-payment',
      state: 'cancelled',
      run: async (ctx) => {
        const { id, total } = await place(ctx);
        await stages[0][1](ctx, id, total);
        await request(ctx, id, 'cancel', {}, ADA);
        return id;
      },
    },
    {
      name: 'payment-timed-out',
      state: 'cancelled',
      run: async (ctx) => {
        const { id } = await place(ctx);
        await ctx.until(
          `${id} cancelled`,
          async () => (await ctx.api('GET', order(id), { token: ADA })).body?.state === 'cancelled',
        );
        return id;
      },
    },
  ],
};
