// Request validation with zod: one place that turns schema issues into a clear 400.
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { HttpError, badRequest } from './errors';

export const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, dot, dash or underscore');

export function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const detail = result.error.issues
    .map((i) => `${[where, ...i.path.map(String)].join('.')}: ${i.message}`)
    .join('; ');
  throw badRequest('validation-failed', detail);
}

/** A client's key for "the same request again" (a retry after a timeout or a 503). */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{8,128}$/, 'Idempotency-Key must be 8-128 printable ASCII characters')
  .optional();

/** POST bodies must be JSON when present; anything else is refused before a handler runs. */
export const jsonBodyOnly: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (hasBody && !req.is('application/json')) {
    return next(new HttpError(415, 'unsupported-media-type', 'send the body as application/json'));
  }
  next();
};
