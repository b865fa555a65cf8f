// Remote codec endpoint (Temporal's codec-server protocol): the Web UI and `temporal --codec-endpoint`
// POST payloads here to see them decoded. Only holders of a codec viewer token may; the browser UI
// cannot send headers, so it gets the token in its endpoint URL (/codec/ui/<token>), which the
// request log never prints. CORS is open only to the configured UI origins.
// Viewers only decode: /encode answers 403, or a viewer could have the production key encrypt any input
// and signal it around the API's authorization. Decoding goes through the same codec as the worker, so
// in strict mode (codec.strict) an unencrypted payload shows as refused, as the worker saw it.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { Config } from '../../config/config';
import { bearerToken, type TokenAuthority } from '../auth';
import { badRequest, forbidden, unauthorized } from '../errors';
import { describeRoute, errorResponse, type RouteDoc } from '../openapi';
import { jsonBodyOnly, parse } from '../validation';

const base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64')
  .max(12_000);
const payloadSchema = z.strictObject({
  metadata: z.record(z.string().max(256), base64).optional(),
  data: base64.optional(),
});
const payloadsSchema = z.strictObject({ payloads: z.array(payloadSchema).max(100) });
// Answers are not bound by the request limits: encrypting adds bytes (found by schemathesis).
const payloadsAnswer = z.strictObject({
  payloads: z.array(z.strictObject({ metadata: z.record(z.string(), z.string()), data: z.string() })),
});
const uiParams = z.object({ token: z.string().min(16).max(512) });

const fromJson = (p: z.output<typeof payloadSchema>): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  ),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [
      k,
      Buffer.from(v ?? new Uint8Array()).toString('base64'),
    ]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

for (const [op, what] of [
  ['decode', 'Decrypt payloads (Temporal remote codec protocol)'],
  ['encode', 'Encrypt payloads: refused (403), codec viewers only decode'],
] as const) {
  const responses: RouteDoc['responses'] =
    op === 'decode'
      ? { 200: { description: 'the payloads, same order', schema: payloadsAnswer } }
      : { 403: errorResponse('codec viewers only decode') };
  describeRoute({
    method: 'post',
    path: `/codec/${op}`,
    operationId: `codec${op[0].toUpperCase()}${op.slice(1)}`,
    summary: what,
    tags: ['codec'],
    security: 'codec-viewer',
    body: payloadsSchema,
    responses,
  });
  describeRoute({
    method: 'post',
    path: `/codec/ui/:token/${op}`,
    operationId: `codecUi${op[0].toUpperCase()}${op.slice(1)}`,
    summary: `${what}, token in the URL (for the Web UI, which sends no Authorization header)`,
    tags: ['codec'],
    security: 'none',
    params: uiParams,
    body: payloadsSchema,
    responses: {
      ...responses,
      401: errorResponse('unknown token'),
      429: errorResponse('rate limit of this token exceeded', { 'Retry-After': 'seconds to wait' }),
    },
  });
}

export interface CodecRouteDeps {
  config: Config;
  authority: TokenAuthority;
  codec: PayloadCodec;
}

export function codecRoutes({ config, authority, codec }: CodecRouteDeps): Router {
  const router = Router();
  const origins = new Set(config.codec.endpoint.corsOrigins);
  const cors: RequestHandler = (req, res, next) => {
    const origin = req.get('origin');
    if (origin && origins.has(origin)) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, Authorization, X-Namespace',
        'Access-Control-Max-Age': '600',
        Vary: 'Origin',
      });
    }
    if (req.method === 'OPTIONS') return void res.status(204).end();
    next();
  };

  const handle =
    (
      op: 'encode' | 'decode',
      tokenOf: (req: Parameters<RequestHandler>[0]) => string | undefined | null,
    ): RequestHandler =>
    async (req, res) => {
      const token = tokenOf(req);
      if (!token) {
        authority.countStranger(req);
        res.set('WWW-Authenticate', 'Bearer');
        throw unauthorized('missing or malformed Authorization: Bearer <token>');
      }
      if (!authority.identifyViewer(token)) {
        authority.countStranger(req);
        res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
        throw unauthorized('unknown token');
      }
      if (op === 'encode') throw forbidden('codec viewers only decode; nothing is encrypted here');
      const { payloads } = parse(payloadsSchema, req.body, 'body');
      const out = await codec[op](payloads.map(fromJson)).catch(() => {
        throw badRequest('undecodable', 'a payload could not be decoded with the configured keys');
      });
      res.json({ payloads: out.map(toJson) });
    };

  router.use('/codec', cors);
  for (const op of ['encode', 'decode'] as const) {
    router.post(
      `/codec/${op}`,
      jsonBodyOnly,
      handle(op, (req) => bearerToken(req.get('authorization'))),
    );
    router.post(
      `/codec/ui/:token/${op}`,
      jsonBodyOnly,
      handle(op, (req) => String(req.params.token)),
    );
  }
  return router;
}
