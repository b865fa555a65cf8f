// HTTP ↔ Temporal for pizza orders, nothing else: place (start), status (query), pay / cancel / staff
// events (updates that answer), list (visibility by search attribute).
import { randomBytes } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import { orderTiming, type Config } from '../../config/config';
import { CustomerId, SessionState } from '../../shared/search-attributes';
import {
  PIZZA_ORDER_KIND,
  cancelOrderUpdate,
  deliveryEventUpdate,
  deliveryEvents,
  kitchenEventUpdate,
  kitchenEvents,
  orderStates,
  orderStatusQuery,
  payOrderUpdate,
  pizzaOrderWorkflowId,
  priceOrder,
  type OrderStatus,
  type PizzaOrderInput,
} from '../../shared/pizza-order';
import type { pizzaOrderWorkflow } from '../../workflows/pizza-order';
import { bearerToken, type OrderTokens, type Principal, type TokenAuthority } from '../auth';
import { HttpError, conflict, forbidden, fromTemporal, notFound, unauthorized } from '../errors';
import type { TemporalGateway } from '../temporal-gateway';
import {
  describeRoute,
  errorBodySchema,
  isoTime,
  sessionStepSchema,
  transitionTakenSchema,
  type Security,
} from '../openapi';
import { jsonBodyOnly, parse } from '../validation';

const orderIdSchema = z.string().regex(/^[a-f0-9]{24}$/, 'an order id is 24 lowercase hex characters');
const orderParams = z.object({ orderId: orderIdSchema });
const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{8,128}$/, 'Idempotency-Key must be 8-128 printable ASCII characters')
  .optional();

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
export const paymentBody = z.strictObject({
  amountCents: z.number().int().positive().max(10_000_000),
  paymentMethod: z
    .string()
    .regex(/^pm_[A-Za-z0-9_]{1,100}$/, 'a payment-method reference from the provider, e.g. pm_card_visa'),
});
export const cancelBody = z.strictObject({}).optional();
export const kitchenBody = z.strictObject({ event: z.enum(kitchenEvents) });
export const deliveryBody = z.strictObject({ event: z.enum(deliveryEvents) });
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
const orderStatusSchema = z.strictObject({
  orderId: orderIdSchema,
  customerId: z.string(),
  state: orderStateSchema,
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
  promisedBy: isoTime.nullable(),
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
  path: z.array(transitionTakenSchema),
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
const tags = ['pizza-order'];
const anyOrderCaller: Security[] = ['customer', 'order-token', 'staff', 'operator'];
const conflict409 = (codes: string) => ({ description: `refused: ${codes}`, schema: errorBodySchema });

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
  security: anyOrderCaller,
  params: orderParams,
  temporal: true,
  responses: {
    200: { description: 'order status', schema: orderStatusSchema },
    404: { description: 'no-order (or someone else’s)', schema: errorBodySchema },
  },
});
describeRoute({
  method: 'post',
  path: '/orders/:orderId/payment',
  operationId: 'payOrder',
  summary: 'Pay the order total with a payment-method reference',
  tags,
  security: anyOrderCaller,
  params: orderParams,
  body: paymentBody,
  temporal: true,
  responses: {
    200: { description: 'paid: order status', schema: orderStatusSchema },
    402: { description: 'payment-declined', schema: errorBodySchema },
    404: { description: 'no-order', schema: errorBodySchema },
    409: conflict409('already-paid, payment-in-progress, order-cancelled, order-delivered'),
    422: { description: 'wrong-amount', schema: errorBodySchema },
  },
});
describeRoute({
  method: 'post',
  path: '/orders/:orderId/cancel',
  operationId: 'cancelOrder',
  summary: 'Cancel until the driver has it; a paid order is refunded once',
  tags,
  security: anyOrderCaller,
  params: orderParams,
  body: cancelBody,
  bodyRequired: false,
  temporal: true,
  responses: {
    200: { description: 'cancelled: order status', schema: orderStatusSchema },
    404: { description: 'no-order', schema: errorBodySchema },
    409: conflict409('too-late, order-cancelled, order-delivered, payment-in-progress'),
  },
});
for (const [desk, body, events] of [
  ['kitchen', kitchenBody, 'accepted, in-oven, baked'],
  ['delivery', deliveryBody, 'picked-up, delivered'],
] as const) {
  describeRoute({
    method: 'post',
    path: `/orders/:orderId/${desk}`,
    operationId: `${desk}Event`,
    summary: `Staff report a ${desk} event (${events}), each only from the state before it`,
    tags,
    security: ['staff', 'operator'],
    params: orderParams,
    body,
    temporal: true,
    responses: {
      200: { description: 'order status', schema: orderStatusSchema },
      404: { description: 'no-order', schema: errorBodySchema },
      409: conflict409('out-of-order, order-cancelled, order-delivered'),
    },
  });
}

/** Refusals that are not conflicts with the order's state. */
const refusalStatus: Record<string, number> = {
  'wrong-amount': 422,
  'bad-request': 400,
  'payment-declined': 402,
  'payment-unavailable': 503,
};

/** Who is asking about orders: a staff or customer token, an order-scoped token, or nobody (guest). */
type Caller =
  { kind: 'shop'; principal: Principal } | { kind: 'order-token'; token: string } | { kind: 'guest' };

export interface PizzaOrderRouteDeps {
  config: Config;
  temporal: TemporalGateway;
  authority: TokenAuthority;
  orderTokens: OrderTokens;
}

export function pizzaOrderRoutes({ config, temporal, authority, orderTokens }: PizzaOrderRouteDeps): Router {
  const router = Router();
  // The menu is configuration, so this body schema (and its part of the spec) is built per app.
  const placeOrderBody = placeOrderBodyFor(config.pizza.menu);
  describeRoute({
    method: 'post',
    path: '/orders',
    operationId: 'placeOrder',
    summary: 'Place an order (idempotent per caller and Idempotency-Key); guests get an order token',
    tags,
    security: ['customer', 'staff', 'operator', 'none'],
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
  const handleOf = (orderId: string): WorkflowHandle<typeof pizzaOrderWorkflow> =>
    temporal.client.workflow.getHandle(pizzaOrderWorkflowId(orderId));
  const noOrder = (orderId: string) => notFound('no-order', `there is no order '${orderId}'`);

  const callerOf = (req: Request): Caller => {
    const token = bearerToken(req.get('authorization'));
    if (token === null) throw unauthorized('malformed Authorization: Bearer <token>');
    if (token === undefined) return { kind: 'guest' };
    const principal = authority.identify(token);
    if (principal) {
      if (principal.role !== 'staff' && principal.role !== 'customer' && principal.role !== 'operator') {
        throw forbidden('this route needs a staff or customer token');
      }
      req.principal = principal;
      return { kind: 'shop', principal };
    }
    if (token.startsWith('ot_')) return { kind: 'order-token', token };
    throw unauthorized('unknown token');
  };

  const requireStaff: RequestHandler = (req, _res, next) => {
    const caller = callerOf(req);
    if (caller.kind === 'guest') return next(unauthorized('this route needs a staff token'));
    if (caller.kind !== 'shop' || caller.principal.role === 'customer') {
      return next(forbidden('this route needs a staff token'));
    }
    next();
  };

  const status = (orderId: string): Promise<OrderStatus> =>
    temporal
      .call(() => handleOf(orderId).query(orderStatusQuery))
      .catch((err: unknown) => {
        throw fromTemporal(err, noOrder(orderId)) ?? err;
      });

  /** Who may act on the order in the path; checked before the body, so a stranger learns nothing. */
  function orderCaller(req: Request): { orderId: string; caller: Exclude<Caller, { kind: 'guest' }> } {
    const { orderId } = parse(orderParams, req.params, 'path');
    const caller = callerOf(req);
    if (caller.kind === 'guest') throw unauthorized('send the order token or a customer token');
    if (caller.kind === 'order-token') {
      if (!orderTokens.verify(orderId, caller.token)) {
        throw unauthorized('this order token is not valid for this order');
      }
      authority.admit(`order-token/${orderId}`);
    }
    return { orderId, caller };
  }

  /** Loads the order if the caller may see it; someone else's order is as absent as a missing one. */
  async function authorizedOrder({ orderId, caller }: ReturnType<typeof orderCaller>) {
    const order = await status(orderId);
    if (caller.kind === 'order-token') return { order, by: `order-token:${orderId}` };
    if (caller.principal.role === 'customer' && order.customerId !== caller.principal.name)
      throw noOrder(orderId);
    return { order, by: caller.principal.name };
  }

  /** Runs an update; a refusal becomes its HTTP code, an order already closed answers from its status. */
  async function update<T>(
    orderId: string,
    run: (h: WorkflowHandle<typeof pizzaOrderWorkflow>) => Promise<T>,
  ) {
    try {
      return await temporal.call(() => run(handleOf(orderId)));
    } catch (err) {
      const mapped = fromTemporal(err, noOrder(orderId));
      if (!mapped) throw err;
      if (mapped.code === 'no-order') {
        // Updates cannot reach a closed workflow, but its final status still answers a query.
        const closed = await status(orderId);
        throw conflict(`order-${closed.state}`, `the order is ${closed.state} and closed`);
      }
      const statusCode = refusalStatus[mapped.code];
      throw statusCode ? new HttpError(statusCode, mapped.code, mapped.message) : mapped;
    }
  }

  const created = (order: { orderId: string; state: string; totalCents: number; currency: string }) => ({
    orderId: order.orderId,
    state: order.state,
    totalCents: order.totalCents,
    currency: order.currency,
    // Lets whoever holds it follow, pay or cancel this one order, e.g. from a link.
    orderToken: orderTokens.tokenFor(order.orderId),
  });

  router.post('/orders', jsonBodyOnly, async (req, res) => {
    const caller = callerOf(req);
    if (caller.kind === 'order-token') throw forbidden('an order token cannot place orders');
    if (caller.kind === 'guest' && !config.pizza.guestOrders) throw unauthorized('sign in to order');
    const idempotencyKey = parse(idempotencyKeySchema, req.get('idempotency-key'), 'header.Idempotency-Key');
    const body = parse(placeOrderBody, req.body, 'body');
    const priced = priceOrder(config.pizza.menu, body.items);
    const customerId = caller.kind === 'shop' ? caller.principal.name : 'guest';
    // The same caller with the same key always lands on the same order id: a retry cannot order twice.
    const orderId = idempotencyKey
      ? orderTokens.digest('order-id', `${customerId}\n${idempotencyKey}`).slice(0, 24)
      : randomBytes(12).toString('hex');
    const input: PizzaOrderInput = {
      orderId,
      customerId,
      ...priced,
      currency: config.pizza.currency,
      address: body.address,
      customer: body.customer,
      requestDigest: orderTokens.digest('order-request', JSON.stringify(body)),
      timing: orderTiming(config),
    };
    try {
      await temporal.call((client) =>
        client.workflow.start<typeof pizzaOrderWorkflow>('pizzaOrderWorkflow', {
          workflowId: pizzaOrderWorkflowId(orderId),
          taskQueue: temporal.taskQueue,
          args: [input],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        }),
      );
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError))
        throw fromTemporal(err, noOrder(orderId)) ?? err;
      const existing = await status(orderId);
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

  router.get('/orders', async (req, res) => {
    const caller = callerOf(req);
    if (caller.kind === 'guest') throw unauthorized('listing orders needs a staff or customer token');
    if (caller.kind === 'order-token') throw forbidden('an order token shows only its order');
    const { state, limit } = parse(listQuery, req.query, 'query');
    // Values are enum members or configured token names (id charset), so quoting is safe.
    const clauses = [`SessionKind = '${PIZZA_ORDER_KIND}'`];
    if (state) clauses.push(`${SessionState.name} = '${state}'`);
    if (caller.principal.role === 'customer') clauses.push(`${CustomerId.name} = '${caller.principal.name}'`);
    const orders = await temporal.list(clauses.join(' AND '), limit, (wf) => ({
      orderId: wf.workflowId.slice(PIZZA_ORDER_KIND.length + 1),
      state: wf.typedSearchAttributes.get(SessionState) ?? null,
      customerId: wf.typedSearchAttributes.get(CustomerId) ?? null,
      placedAt: wf.startTime.toISOString(),
      closedAt: wf.closeTime?.toISOString() ?? null,
    }));
    res.json({ orders });
  });

  router.get('/orders/:orderId', async (req, res) => {
    const { order } = await authorizedOrder(orderCaller(req));
    res.json(order);
  });

  router.post('/orders/:orderId/payment', jsonBodyOnly, async (req, res) => {
    const who = orderCaller(req);
    const { amountCents, paymentMethod } = parse(paymentBody, req.body, 'body');
    const { by } = await authorizedOrder(who);
    const { orderId } = who;
    const order = await update(orderId, (h) =>
      h.executeUpdate(payOrderUpdate, { args: [{ by, amountCents, paymentMethod }] }),
    );
    res.json(order);
  });

  router.post('/orders/:orderId/cancel', jsonBodyOnly, async (req, res) => {
    const who = orderCaller(req);
    parse(cancelBody, req.body, 'body');
    const { by } = await authorizedOrder(who);
    const { orderId } = who;
    const reason = req.principal && req.principal.role !== 'customer' ? 'staff' : 'customer';
    const order = await update(orderId, (h) =>
      h.executeUpdate(cancelOrderUpdate, { args: [{ by, reason }] }),
    );
    res.json(order);
  });

  router.post('/orders/:orderId/kitchen', jsonBodyOnly, requireStaff, async (req, res) => {
    const { orderId } = parse(orderParams, req.params, 'path');
    const { event } = parse(kitchenBody, req.body, 'body');
    const by = req.principal!.name;
    res.json(await update(orderId, (h) => h.executeUpdate(kitchenEventUpdate, { args: [{ by, event }] })));
  });

  router.post('/orders/:orderId/delivery', jsonBodyOnly, requireStaff, async (req, res) => {
    const { orderId } = parse(orderParams, req.params, 'path');
    const { event } = parse(deliveryBody, req.body, 'body');
    const by = req.principal!.name;
    res.json(await update(orderId, (h) => h.executeUpdate(deliveryEventUpdate, { args: [{ by, event }] })));
  });

  return router;
}
