// `npm run demo:pizza`: plays one pizza order end to end against a running `npm start`, as the customer
// and the shop would, and prints every "where is my pizza?" answer on the way.
import { readFileSync } from 'node:fs';
import { runMain, UserFacingError } from '../config/run-main';
import type { OrderStatus } from '../shared/pizza-order';
import { localConfigFile } from './local-paths';

interface LocalShopConfig {
  tokens?: { name: string; role: string; token?: string }[];
}

function demoTokens(file: string): { customer: string; staff: string } {
  let raw: LocalShopConfig;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as LocalShopConfig;
  } catch (err) {
    throw new UserFacingError(`cannot read ${file} (${(err as Error).message}); run 'npm start' first`);
  }
  const tokenOf = (role: string) => raw.tokens?.find((t) => t.role === role && t.token)?.token;
  const customer = tokenOf('customer');
  const staff = tokenOf('staff');
  if (!customer || !staff) throw new UserFacingError(`${file} has no plain customer and staff tokens`);
  return { customer, staff };
}

async function main() {
  const api = process.env.SESSIONFLOW_API_URL ?? `http://127.0.0.1:${process.env.API_PORT ?? 3000}`;
  const { customer, staff } = demoTokens(localConfigFile());
  const print = (line: string) => process.stdout.write(line + '\n');

  async function call(method: string, path: string, token: string, body?: unknown, expect = [200]) {
    let res: Response;
    try {
      res = await fetch(`${api}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(path === '/orders' ? { 'idempotency-key': `demo-${Date.now()}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new UserFacingError(`cannot reach ${api} (${(err as Error).message}); is 'npm start' running?`);
    }
    // Every answer here is an order (placing answers a subset of its fields).
    const answer = (await res.json()) as OrderStatus;
    if (!expect.includes(res.status)) {
      throw new UserFacingError(`${method} ${path} answered ${res.status}: ${JSON.stringify(answer)}`);
    }
    return answer;
  }
  const time = (iso: string | null) => (iso ? new Date(iso).toLocaleTimeString() : '-');
  async function whereIsMyPizza(orderId: string) {
    const s = await call('GET', `/orders/${orderId}`, customer);
    print(`   where is my pizza?  ${s.state}  ETA ${time(s.eta)}${s.late ? '  (late)' : ''}`);
    return s;
  }

  print(`Pizza demo against ${api}`);
  const order = await call(
    'POST',
    '/orders',
    customer,
    {
      items: [
        { sku: 'margherita', qty: 2 },
        { sku: 'cola', qty: 1 },
      ],
      address: '42 Demo Street, Springfield',
      customer: { name: 'Demo Customer', phone: '+15550100042' },
    },
    [201],
  );
  const { orderId } = order as { orderId: string };
  print(
    `1. customer places order ${orderId}: ${order.state}, total ${(order.totalCents / 100).toFixed(2)} ${order.currency}`,
  );
  await whereIsMyPizza(orderId);

  const paid = await call('POST', `/orders/${orderId}/payment`, customer, {
    amountCents: order.totalCents,
    paymentMethod: 'pm_card_visa',
  });
  print(`2. customer pays: ${paid.state} (promised by ${time(paid.promisedBy)})`);
  await whereIsMyPizza(orderId);

  const steps: [string, string][] = [
    ['kitchen', 'accepted'],
    ['kitchen', 'in-oven'],
    ['kitchen', 'baked'],
    ['delivery', 'picked-up'],
    ['delivery', 'delivered'],
  ];
  let n = 3;
  let final = paid;
  for (const [desk, event] of steps) {
    const s = await call('POST', `/orders/${orderId}/${desk}`, staff, { event });
    print(`${n++}. ${desk} reports ${event}: ${s.state}`);
    final = await whereIsMyPizza(orderId);
  }
  print(`Done: ${final.timeline.map((t: { event: string }) => t.event).join(' → ')}`);
}

runMain('demo:pizza', main);
