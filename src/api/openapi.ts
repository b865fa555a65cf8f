// The OpenAPI 3.1 document of the HTTP API, built from the zod schemas the routes validate with, so the
// spec cannot drift from the code. Each route module describes its operations with `describeRoute` next
// to the route itself; GET /openapi.json serves whatever has been described. The standard refusals
// (401/403/429 for token routes, 400/413/415 for bodies, 503 for Temporal) are added from the flags.
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { Role } from '../shared/session-kind';
import { HttpError } from './errors';

/** A session role's bearer token, the codec endpoint's, or none (public, or a guest where listed). */
export type Security = Role | 'codec-viewer' | 'none';

export interface RouteDoc {
  method: 'get' | 'post';
  /** Express-style path: `/homes/:homeId/smoke`. */
  path: string;
  operationId: string;
  summary: string;
  tags: string[];
  /**
   * Which bearer token the route takes ('none' for public routes); a list means any one of them, and
   * 'none' in a list means the token is optional (e.g. guest orders).
   */
  security: Security | Security[];
  /** Path parameters, as validated by the route. */
  params?: z.ZodObject;
  /** Query parameters, as validated by the route. */
  query?: z.ZodObject;
  /** Request headers the route reads (e.g. Idempotency-Key), as validated by the route. */
  headers?: z.ZodObject;
  /** JSON request body, as validated by the route; `bodyRequired: false` when it may be absent. */
  body?: z.ZodType;
  bodyRequired?: boolean;
  /** Answers the route itself gives (success and domain refusals), by status code. */
  responses: Record<
    number,
    {
      description: string;
      schema?: z.ZodType;
      headers?: Record<string, string>;
      /** application/json unless said (text/event-stream for a stream of JSON events). */
      mediaType?: string;
    }
  >;
  /** The route calls Temporal, so it can answer 503 temporal-unavailable. */
  temporal?: boolean;
}

export const errorBodySchema = z.strictObject({
  error: z.strictObject({ code: z.string(), message: z.string() }),
});

const registry = new Map<string, RouteDoc>();

/** Registers one operation for the spec (idempotent: a route module may be imported more than once). */
export function describeRoute(doc: RouteDoc): RouteDoc {
  registry.set(`${doc.method} ${doc.path}`, doc);
  return doc;
}

export function describedRoutes(): RouteDoc[] {
  return [...registry.values()];
}

const toOpenApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');
const securityOf = (doc: RouteDoc): Security[] =>
  Array.isArray(doc.security) ? doc.security : [doc.security];

/** Path, query and header parameters of an operation, each with its schema. */
function parametersOf(doc: RouteDoc) {
  const from = (where: 'path' | 'query' | 'header', shape: z.ZodObject | undefined) =>
    Object.entries(shape?.shape ?? {}).map(([name, schema]) => ({
      name,
      in: where,
      required: where === 'path' || !(schema as z.ZodType).safeParse(undefined).success,
      schema: jsonSchema(schema as z.ZodType, 'input'),
    }));
  return [...from('path', doc.params), ...from('query', doc.query), ...from('header', doc.headers)];
}

/** The one error body is a shared component; everything else is inlined. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  return schema === errorBodySchema ? { $ref: '#/components/schemas/Error' } : inlineSchema(schema, io);
}

function inlineSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  // JSON Schema 2020-12 is OpenAPI 3.1's own dialect: the output goes in as is, minus its $schema line.
  const out: Record<string, unknown> = z.toJSONSchema(schema, { target: 'draft-2020-12', io });
  delete out.$schema;
  return out;
}

export const errorResponse = (description: string, headers?: Record<string, string>) => ({
  description,
  schema: errorBodySchema,
  headers,
});

/** The refusals every route of a kind can give, on top of its own responses. */
function standardResponses(doc: RouteDoc): RouteDoc['responses'] {
  const out: RouteDoc['responses'] = {};
  if (doc.params || doc.body || doc.query || doc.headers)
    out[400] = errorResponse('invalid JSON, path or query parameter, header or body');
  // An empty or unroutable path segment falls through to the unknown-route answer.
  if (doc.params) out[404] = errorResponse('no such route');
  if (securityOf(doc).some((s) => s !== 'none')) {
    out[401] = errorResponse('missing, malformed or unknown token', {
      'WWW-Authenticate': 'Bearer challenge',
    });
    out[403] = errorResponse('token of another home or of the wrong role');
    out[429] = errorResponse(
      'rate limit of this token, or of this address without a valid token, exceeded; or (POST) the ' +
        'server is at its write capacity (overloaded): nothing was sent',
      { 'Retry-After': 'seconds to wait' },
    );
  }
  if (doc.method === 'post') {
    out[413] = errorResponse('body larger than the limit');
    out[415] = errorResponse('body is not application/json');
  }
  if (doc.temporal)
    out[503] = errorResponse(
      'temporal-unavailable: Temporal is not reachable; session-not-ready: Temporal is retrying the ' +
        'session’s workflow task; session-opening (status reads): the session was accepted but its ' +
        'first step has not run yet; try again shortly, nothing was changed',
      { 'Retry-After': 'seconds to wait' },
    );
  return out;
}

export function openApiDocument(info: { title: string; version: string; description?: string }) {
  const paths: Record<string, Record<string, unknown>> = {};

  for (const doc of describedRoutes()) {
    const path = toOpenApiPath(doc.path);
    const parameters = parametersOf(doc);
    const responses: Record<string, unknown> = {};
    for (const [code, r] of Object.entries({ ...standardResponses(doc), ...doc.responses })) {
      responses[code] = {
        description: r.description,
        ...(r.headers
          ? {
              headers: Object.fromEntries(
                Object.entries(r.headers).map(([h, d]) => [
                  h,
                  { description: d, schema: { type: 'string' } },
                ]),
              ),
            }
          : {}),
        ...(r.schema
          ? { content: { [r.mediaType ?? 'application/json']: { schema: jsonSchema(r.schema, 'output') } } }
          : {}),
      };
    }
    paths[path] = {
      ...paths[path],
      [doc.method]: {
        operationId: doc.operationId,
        summary: doc.summary,
        tags: doc.tags,
        security:
          doc.security === 'none'
            ? []
            : securityOf(doc).map((name) => (name === 'none' ? {} : { [name]: [] })),
        ...(parameters.length ? { parameters } : {}),
        ...(doc.body
          ? {
              requestBody: {
                required: doc.bodyRequired ?? true,
                content: { 'application/json': { schema: jsonSchema(doc.body, 'input') } },
              },
            }
          : {}),
        responses,
      },
    };
  }

  const bearer = (description: string) => ({ type: 'http', scheme: 'bearer', description });
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: { Error: inlineSchema(errorBodySchema, 'output') },
      securitySchemes: {
        device: bearer('device token of a home (sends its devices’ events to that home’s sessions)'),
        owner: bearer('owner token of a home (reads and acts on that home’s sessions)'),
        'codec-viewer': bearer('codec endpoint token (Temporal Web UI / CLI decoding payloads)'),
        staff: bearer('staff token (every session of kinds that let staff in)'),
        customer: bearer('customer token (sessions it started, e.g. its orders)'),
        session: bearer('a session token, as a start answered it (that one session only)'),
        operator: bearer('monitoring-centre operator token (every session, in any role but device)'),
      },
    },
  };
}

/** A known path asked with another method: 405 with the methods it has, rather than "no route". */
export const methodNotAllowedRoute: RequestHandler = (req, _res, next) => {
  const allowed = describedRoutes()
    .filter((doc) => pathPattern(doc.path).test(req.path))
    .map((doc) => doc.method.toUpperCase());
  if (allowed.length === 0) return next();
  if (allowed.includes('GET')) allowed.push('HEAD');
  next(
    new HttpError(405, 'method-not-allowed', `${req.method} is not allowed here; use ${allowed.join(', ')}`, {
      Allow: allowed.join(', '),
    }),
  );
};

const patterns = new Map<string, RegExp>();
function pathPattern(path: string): RegExp {
  let re = patterns.get(path);
  if (!re) {
    const source = path
      .split('/')
      .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    re = new RegExp(`^${source}/?$`);
    patterns.set(path, re);
  }
  return re;
}

describeRoute({
  method: 'get',
  path: '/openapi.json',
  operationId: 'openApiDocument',
  summary: 'This document (OpenAPI 3.1)',
  tags: ['meta'],
  security: 'none',
  responses: { 200: { description: 'the OpenAPI document', schema: z.looseObject({ openapi: z.string() }) } },
});
