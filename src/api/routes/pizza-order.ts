// HTTP ↔ Temporal for pizza orders, nothing else: place (start), status (query), pay / cancel / staff
// events (updates that answer), list (visibility by search attribute).
// Friendly routes of the pizza-order kind: placing an order (priced from the menu, idempotent per caller
// and Idempotency-Key, guests get a session token) and listing orders are its own; status, pay, cancel and
// the staff events are thin aliases of the generic session routes.
import { randomBytes } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { settingsOf } from '../../config/kinds';
import {
  orderIdSchema,
  orderStates,
  orderTiming,
  priceOrder,
  sessionKind as pizzaOrder,
  type OrderStatus,
  type PizzaOrderInput,
} from '../../shared/pizza-order';
import { sessionId } from '../../shared/session-kind';
import { isoTime } from '../../shared/session-model';
import type { KindRouteDeps } from '../app';
import { authenticate, type Principal } from '../auth';
import { HttpError, forbidden, fromTemporal, notFound, unauthorized } from '../errors';
import { describeRoute, errorBodySchema, type Security } from '../openapi';
import { idempotencyKeySchema, jsonBodyOnly, parse } from '../validation';
import { RateLimiter } from '../rate-limit';
import {
  describeRequest,
  requestOptions,
  securityOf,
  sendStatus,
  statusAnswerSchema,
  statusQuery,
} from './sessions';

const orderParams = z.object({ orderId: orderIdSchema });
/** The customer id of orders placed without a token (config reserves the name for no token to take). */
const GUEST = 'guest';

/**
 * `limit` per hour for a key, as the API's token bucket (its clock runs 60 times slower, so its minute is
 * our hour); Retry-After is given back in real seconds.
 */
function hourly(limit: number, what: string): (key: string) => void {
  const limiter = new RateLimiter(limit, () => Date.now() / 60);
  return (key) => {
    try {
      limiter.take(key);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      const retryAfterS = String(Number(err.headers?.['Retry-After'] ?? 1) * 60);
      throw new HttpError(429, err.code, `too many guest orders ${what}; retry in ${retryAfterS} s`, {
        'Retry-After': retryAfterS,
      });
    }
  };
}

/** The order body for one menu: a SKU off the menu is refused by the schema, and the spec lists them. */
export const placeOrderBodyFor = (menu: Record<string, unknown>) =>
  z.strictObject({
    items: z
      .array(
        z.strictObject({
          sku: z.enum(Object.keys(menu) as [string, ...string[]], {
            error: `not on the menu; one of ${Object.keys(menu).join(', ')}`,
          }),
          qty: z.number().int().min(1).max(20),
        }),
      )
      .min(1)
      .max(20),
    address: z.string().trim().min(5).max(300),
    customer: z.strictObject({
      name: z.string().trim().min(1).max(100),
      phone: z.string().regex(/^\+?[0-9][0-9 ()-]{4,24}$/, 'a phone number such as +15550100042'),
    }),
  });
export const listQuery = z.strictObject({
  state: z.enum(orderStates).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

// Response shapes, for the OpenAPI document (schemathesis checks every answer against them).
const orderStateSchema = z.enum(orderStates);
const createdSchema = z.strictObject({
  orderId: orderIdSchema,
  state: orderStateSchema,
  totalCents: z.int(),
  currency: z.string(),
  orderToken: z.string(),
});
const listSchema = z.strictObject({
  orders: z.array(
    z.strictObject({
      orderId: z.string(),
      state: orderStateSchema.nullable(),
      customerId: z.string().nullable(),
      placedAt: isoTime,
      closedAt: isoTime.nullable(),
    }),
  ),
});
const placeHeaders = z.object({ 'Idempotency-Key': idempotencyKeySchema });
const tags = [pizzaOrder.name];
const placers: Security[] = ['customer', 'staff', 'operator', 'none'];

describeRoute({
  method: 'get',
  path: '/orders',
  operationId: 'listOrders',
  summary: 'Orders by state through Temporal visibility: staff see all, a customer their own',
  tags,
  security: ['staff', 'customer', 'operator'],
  query: listQuery,
  temporal: true,
  responses: { 200: { description: 'orders, newest first', schema: listSchema } },
});
describeRoute({
  method: 'get',
  path: '/orders/:orderId',
  operationId: 'getOrder',
  summary: 'Where is my pizza? State, ETA, timeline, payment, refund',
  tags,
  security: securityOf(pizzaOrder.viewers),
  params: orderParams,
  query: statusQuery,
  temporal: true,
  responses: {
    200: { description: 'order status', schema: statusAnswerSchema(pizzaOrder) },
    404: { description: 'no-order (or someone else’s)', schema: errorBodySchema },
  },
});
/** Alias path → request of the kind. */
const aliases = [
  ['payment', 'pay', 'payOrder'],
  ['cancel', 'cancel', 'cancelOrder'],
  ['kitchen', 'kitchen', 'kitchenEvent'],
  ['delivery', 'delivery', 'deliveryEvent'],
] as const;
for (const [path, name, operationId] of aliases) {
  describeRequest(pizzaOrder, name, {
    path: `/orders/:orderId/${path}`,
    operationId,
    params: orderParams,
    missing: 'no-order',
  });
}

export function routes({ config, sessions, authority }: KindRouteDeps): Router {
  const router = Router();
  const settings = settingsOf(pizzaOrder, config);
  const tokens = authority.sessionTokens;
  // The menu is configuration, so this body schema (and its part of the spec) is built per app.
  const placeOrderBody = placeOrderBodyFor(settings.menu);
  describeRoute({
    method: 'post',
    path: '/orders',
    operationId: 'placeOrder',
    summary: 'Place an order (idempotent per caller and Idempotency-Key); guests get a session token',
    tags,
    security: placers,
    headers: placeHeaders,
    body: placeOrderBody,
    temporal: true,
    responses: {
      200: {
        description: 'the same order again (a retry with the same key and body)',
        schema: createdSchema,
      },
      201: {
        description: 'order placed',
        schema: createdSchema,
        headers: { Location: 'status URL of the order' },
      },
      422: { description: 'idempotency-key-reused', schema: errorBodySchema },
    },
  });
  const guestsWelcome = authenticate(authority, { guests: true });
  const signedIn = authenticate(authority);
  const noOrder = (orderId: string) => () => notFound('no-order', `there is no order '${orderId}'`);
  const created = (order: { orderId: string; state: string; totalCents: number; currency: string }) => ({
    orderId: order.orderId,
    state: order.state,
    totalCents: order.totalCents,
    currency: order.currency,
    // Lets whoever holds it follow, pay or cancel this one order, e.g. from a link.
    orderToken: tokens.tokenFor(sessionId(pizzaOrder, order.orderId)),
  });
  const guestsPerAddress = hourly(settings.guestLimits.perAddressPerHour, 'from this address');
  const guestsPerPhone = hourly(settings.guestLimits.perPhonePerHour, 'to this phone number');
  const placer = (p: Principal | undefined): string => {
    if (!p) {
      if (!settings.guestOrders) throw unauthorized('sign in to order');
      return GUEST;
    }
    if (p.role === 'customer' || p.role === 'staff' || p.role === 'operator') return p.name;
    throw forbidden('this token cannot place orders');
  };

  router.post('/orders', jsonBodyOnly, guestsWelcome, async (req, res) => {
    const customerId = placer(req.principal);
    const idempotencyKey = parse(idempotencyKeySchema, req.get('idempotency-key'), 'header.Idempotency-Key');
    const body = parse(placeOrderBody, req.body, 'body');
    if (customerId === GUEST) {
      // Before anything starts: each guest order is a workflow and an SMS to the number given.
      guestsPerAddress(req.ip ?? req.socket.remoteAddress ?? 'unknown');
      guestsPerPhone(tokens.digest('guest-phone', body.customer.phone.replace(/[^0-9]/g, '')));
    }
    const priced = priceOrder(settings.menu, body.items);
    // The same caller with the same key always lands on the same order id: a retry cannot order twice.
    const orderId = idempotencyKey
      ? tokens.digest('order-id', `${customerId}\n${idempotencyKey}`).slice(0, 24)
      : randomBytes(12).toString('hex');
    const input: PizzaOrderInput = {
      orderId,
      customerId,
      ...priced,
      currency: settings.currency,
      address: body.address,
      customer: body.customer,
      requestDigest: tokens.digest('order-request', JSON.stringify(body)),
      timing: orderTiming(settings),
    };
    try {
      await sessions.start(pizzaOrder, orderId, input, { customerId });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError))
        throw fromTemporal(err, noOrder(orderId)()) ?? err;
      const existing = await sessions.status<OrderStatus>(pizzaOrder, orderId);
      if (existing.requestDigest !== input.requestDigest) {
        throw new HttpError(
          422,
          'idempotency-key-reused',
          'this Idempotency-Key was already used for a different order',
        );
      }
      res.status(200).location(`/orders/${orderId}`).json(created(existing));
      return;
    }
    res
      .status(201)
      .location(`/orders/${orderId}`)
      .json(
        created({
          orderId,
          state: 'awaiting-payment',
          totalCents: input.totalCents,
          currency: input.currency,
        }),
      );
  });

  router.get('/orders', signedIn, async (req, res) => {
    if (req.principal!.role === 'session') throw forbidden('a session token shows only its order');
    const { state, limit } = parse(listQuery, req.query, 'query');
    const rows = await sessions.list(req.principal!, { kind: pizzaOrder.name, state, limit });
    const orders = rows.map((r) => ({
      orderId: r.key ?? r.workflowId.slice(pizzaOrder.name.length + 1),
      state: (r.state as (typeof orderStates)[number] | null) ?? null,
      customerId: r.customerId,
      placedAt: r.startedAt,
      closedAt: r.closedAt,
    }));
    res.json({ orders });
  });

  const orderOf = async (req: Request, roles: typeof pizzaOrder.viewers) => {
    const { orderId } = parse(orderParams, req.params, 'path');
    const caller = await sessions.authorize(req.principal!, pizzaOrder, orderId, roles, {
      missing: noOrder(orderId),
    });
    return { orderId, caller };
  };

  router.get('/orders/:orderId', signedIn, async (req, res) => {
    const { orderId } = await orderOf(req, pizzaOrder.viewers);
    await sendStatus(sessions, pizzaOrder, orderId, req, res, { missing: noOrder(orderId) });
  });

  for (const [path, name] of aliases) {
    const request = pizzaOrder.requests[name];
    router.post(`/orders/:orderId/${path}`, jsonBodyOnly, signedIn, async (req, res) => {
      const { orderId, caller } = await orderOf(req, request.roles);
      const body = parse(request.body, req.body, 'body');
      res.json(
        await sessions.request(pizzaOrder, orderId, name, body, caller, {
          ...requestOptions(req),
          missing: noOrder(orderId),
        }),
      );
    });
  }

  return router;
}
