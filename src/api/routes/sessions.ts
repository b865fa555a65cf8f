// The generic routes every registered kind has: events (open or join), requests (updates that answer),
// status, the list, and the registry itself. Friendly routes of a kind are thin aliases over the same.
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { roles, type AnySessionKind, type Role } from '../../shared/session-kind';
import { authenticate, type TokenAuthority } from '../auth';
import { notFound } from '../errors';
import { describeRoute, errorBodySchema, errorResponse, type RouteDoc, type Security } from '../openapi';
import type { Missing, Sessions } from '../sessions';
import { idempotencyKeySchema, jsonBodyOnly, parse } from '../validation';

/** Who may call, as the spec lists it: the declared roles, and operators wherever a person may act. */
export const securityOf = (allowed: readonly Role[]): Security[] =>
  allowed.some((r) => r !== 'device') && !allowed.includes('operator')
    ? [...allowed, 'operator']
    : [...allowed];

export const acceptedSchema = (kind: AnySessionKind) =>
  z.strictObject({
    sessionId: z.string(),
    runId: z.string().nullable(),
    state: z.enum(['starting', ...kind.model.decl.states]),
  });

/**
 * A request's Idempotency-Key: the same key makes a retry (after a timeout or a 503) the same update, so
 * a request that did reach the session is not applied, or refused, a second time.
 */
export const requestOptions = (req: Request) => ({
  idempotencyKey: parse(idempotencyKeySchema, req.get('idempotency-key'), 'header.Idempotency-Key'),
});

/** `?consistent=true` asks Temporal instead of the read model (a query that wakes a worker). */
export const statusQuery = z.strictObject({ consistent: z.enum(['true', 'false']).optional() });

/** A kind's status as reads answer it: with its version and when it was published. */
export const statusAnswerSchema = (kind: AnySessionKind) => {
  const stamp = {
    version: z.number().int().nullable().describe('grows with every change; null for an old session'),
    asOf: z.iso.datetime().nullable().describe('when this state was published'),
  };
  return kind.status instanceof z.ZodObject ? kind.status.extend(stamp) : kind.status;
};

/** Answers a status read: from the read model unless `?consistent=true`, with the version as ETag. */
export async function sendStatus(
  sessions: Sessions,
  kind: AnySessionKind,
  key: string,
  req: Request,
  res: Response,
  opts?: Missing,
): Promise<void> {
  const { consistent } = parse(statusQuery, req.query, 'query');
  const answer = await sessions.status(kind, key, { ...opts, consistent: consistent === 'true' });
  if (answer.version !== null) res.set('ETag', `"${answer.version}"`);
  res.json(answer);
}

export const listQuery = z.strictObject({
  kind: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/)
    .optional(),
  state: z
    .string()
    .regex(/^[a-z-]{1,40}$/)
    .optional(),
  open: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export const sessionRowSchema = z.strictObject({
  workflowId: z.string(),
  runId: z.string(),
  kind: z.string().nullable(),
  key: z.string().nullable(),
  state: z.string().nullable(),
  status: z.string(),
  startedAt: z.iso.datetime(),
  closedAt: z.iso.datetime().nullable(),
});

/** The registry as clients (Node-RED nodes, /ui, scripts) read it. */
export function describeKinds(kinds: AnySessionKind[]) {
  const json = (schema: z.ZodType) => {
    const out: Record<string, unknown> = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' });
    delete out.$schema;
    return out;
  };
  return kinds.map((k) => ({
    name: k.name,
    title: k.title,
    key: { name: k.key.name, example: k.key.example, schema: json(k.key.schema) },
    states: [...k.model.decl.states],
    initial: k.model.decl.initial,
    final: [...k.model.decl.final],
    transitions: k.model.decl.transitions.map((t) => ({ from: t.from, to: t.to, on: t.on })),
    viewers: securityOf(k.viewers),
    events: Object.entries(k.events).map(([name, e]) => ({
      name,
      summary: e.summary,
      opens: e.opens,
      roles: securityOf(e.roles),
      body: json(e.body),
    })),
    requests: Object.entries(k.requests).map(([name, r]) => ({
      name,
      summary: r.summary,
      roles: securityOf(r.roles),
      body: json(r.body),
    })),
  }));
}
const kindsSchema = z.strictObject({ kinds: z.array(z.looseObject({ name: z.string() })) });

function describeGenericRoutes(kinds: AnySessionKind[]) {
  describeRoute({
    method: 'get',
    path: '/sessions/kinds',
    operationId: 'listSessionKinds',
    summary: 'The registered session kinds: states, transitions, events and requests with their bodies',
    tags: ['sessions'],
    security: 'none',
    responses: { 200: { description: 'the registry', schema: kindsSchema } },
  });
  describeRoute({
    method: 'get',
    path: '/sessions',
    operationId: 'listSessions',
    summary: 'Live and recent sessions the caller may see, through Temporal visibility',
    tags: ['sessions'],
    security: [...roles.filter((r) => r !== 'device'), 'operator'] as Security[],
    query: listQuery,
    temporal: true,
    responses: {
      200: {
        description: 'sessions, newest first',
        schema: z.strictObject({ sessions: z.array(sessionRowSchema) }),
      },
      404: { description: 'no-kind', schema: errorBodySchema },
    },
  });
  for (const kind of kinds) {
    const tags = [kind.name];
    const params = z.object({ key: kind.key.schema });
    describeRoute({
      method: 'get',
      path: `/sessions/${kind.name}/:key`,
      operationId: `get-${kind.name}`,
      summary: `Status of a ${kind.title.toLowerCase()} session (a closed one answers from its result)`,
      tags,
      security: securityOf(kind.viewers),
      params,
      query: statusQuery,
      temporal: true,
      responses: {
        200: { description: 'session status', schema: statusAnswerSchema(kind) },
        404: { description: 'no-session (or someone else’s)', schema: errorBodySchema },
        410: { description: 'session-gone: ended without a result (terminated)', schema: errorBodySchema },
      },
    });
    for (const [name, e] of Object.entries(kind.events)) {
      describeRoute({
        method: 'post',
        path: `/sessions/${kind.name}/:key/events/${name}`,
        operationId: `${kind.name}-event-${name}`,
        summary: e.summary,
        tags,
        security: securityOf(e.roles),
        params,
        body: e.body,
        bodyRequired: !e.body.safeParse(undefined).success,
        temporal: true,
        responses: <RouteDoc['responses']>{
          202: {
            description: `event durably accepted${e.opens ? ' (opened the session if none was running)' : ''}`,
            schema: acceptedSchema(kind),
          },
          ...(e.opens ? {} : { 404: errorResponse('no-session running to join') }),
          ...(e.check
            ? { 422: errorResponse('not-configured: the body names what the home does not have') }
            : {}),
        },
      });
    }
    for (const name of Object.keys(kind.requests)) {
      describeRequest(kind, name, {
        path: `/sessions/${kind.name}/:key/requests/${name}`,
        operationId: `${kind.name}-request-${name}`,
        params,
      });
    }
  }
}

/**
 * The spec entry of a kind's request at `path`: the generic route, or a kind's friendly alias of it (which
 * may name its own missing-session answer).
 */
export function describeRequest(
  kind: AnySessionKind,
  name: string,
  at: { path: string; operationId: string; params: z.ZodObject; missing?: string },
): void {
  const r = kind.requests[name];
  describeRoute({
    method: 'post',
    path: at.path,
    operationId: at.operationId,
    summary: r.summary,
    tags: [kind.name],
    security: securityOf(r.roles),
    params: at.params,
    headers: z.object({ 'Idempotency-Key': idempotencyKeySchema }),
    body: r.body,
    bodyRequired: !r.body.safeParse(undefined).success,
    temporal: true,
    responses: {
      200: { description: 'the answer', schema: r.answer },
      404: errorResponse(at.missing ?? 'no-session'),
      409: errorResponse('refused: the session’s state does not allow it, or it is closed'),
      ...Object.fromEntries(
        Object.entries(r.refusals ?? {}).map(([code, status]) => [status, errorResponse(code)]),
      ),
    },
  });
}

/** The session list as the API and /ui answer it: the rows the caller may see, owners left out. */
export const listSessions =
  (sessions: Sessions): RequestHandler =>
  async (req, res) => {
    const { kind, state, open, limit } = parse(listQuery, req.query, 'query');
    const rows = await sessions.list(req.principal!, {
      kind,
      state,
      open: open === undefined ? undefined : open === 'true',
      limit,
    });
    res.json({ sessions: rows.map(({ homeId: _h, customerId: _c, ...row }) => row) });
  };

export function sessionRoutes(sessions: Sessions, authority: TokenAuthority): Router {
  const router = Router();
  const { kinds } = sessions;
  describeGenericRoutes(kinds);
  const signedIn = authenticate(authority);
  const registry = { kinds: describeKinds(kinds) };

  router.get('/sessions/kinds', (_req, res) => {
    res.json(registry);
  });

  router.get('/sessions', signedIn, listSessions(sessions));

  /** The session a route's path names: a registered kind and a key of its shape. */
  const sessionIn = (req: Request) => {
    const kind = sessions.kind(String(req.params.kind));
    return { kind, key: parse(kind.key.schema, req.params.key, 'path.key') };
  };

  router.get('/sessions/:kind/:key', signedIn, async (req, res) => {
    const { kind, key } = sessionIn(req);
    await sessions.authorize(req.principal!, kind, key, kind.viewers);
    await sendStatus(sessions, kind, key, req, res);
  });

  router.post('/sessions/:kind/:key/events/:event', jsonBodyOnly, signedIn, async (req, res) => {
    const { kind, key } = sessionIn(req);
    const name = String(req.params.event);
    const event = declared(kind, 'events', name);
    await sessions.authorize(req.principal!, kind, key, event.roles);
    const body = parse(event.body, req.body, 'body');
    const accepted = await sessions.event(kind, key, name, body);
    res
      .status(202)
      .location(`/sessions/${kind.name}/${encodeURIComponent(key)}`)
      .json(accepted);
  });

  router.post('/sessions/:kind/:key/requests/:request', jsonBodyOnly, signedIn, async (req, res) => {
    const { kind, key } = sessionIn(req);
    const name = String(req.params.request);
    const request = declared(kind, 'requests', name);
    const caller = await sessions.authorize(req.principal!, kind, key, request.roles);
    const body = parse(request.body, req.body, 'body');
    res.json(await sessions.request(kind, key, name, body, caller, requestOptions(req)));
  });

  return router;
}

/** A kind's declared event or request by name, or 404 listing the ones it has. */
function declared<W extends 'events' | 'requests'>(
  kind: AnySessionKind,
  what: W,
  name: string,
): AnySessionKind[W][string] {
  const all = kind[what];
  if (Object.hasOwn(all, name)) return all[name] as AnySessionKind[W][string];
  const one = what.slice(0, -1);
  const known = Object.keys(all).join(', ') || 'none';
  throw notFound(`no-${one}`, `${kind.name} has no ${one} '${name}' (one of: ${known})`);
}
