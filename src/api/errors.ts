// Domain errors → HTTP, in one place. Error bodies are always `{ error: { code, message } }`
// and never carry stack traces or internals.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import {
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  isGrpcCancelledError,
  isGrpcDeadlineError,
  isGrpcServiceError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from '../config/logger';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers, e.g. Retry-After on 429. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (code: string, message: string) => new HttpError(400, code, message);
export const unauthorized = (message: string) => new HttpError(401, 'unauthorized', message);
export const forbidden = (message: string) => new HttpError(403, 'forbidden', message);
export const notFound = (code: string, message: string) => new HttpError(404, code, message);
export const conflict = (code: string, message: string) => new HttpError(409, code, message);
export const unavailable = (message: string) => new HttpError(503, 'temporal-unavailable', message);

const GRPC = { CANCELLED: 1, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, UNAVAILABLE: 14 } as const;
// gRPC status codes that mean "Temporal is not reachable right now", not "your request is wrong".
const UNREACHABLE = new Set<number>([GRPC.DEADLINE_EXCEEDED, GRPC.UNAVAILABLE, GRPC.CANCELLED]);

/** The gRPC status behind an error, looking through the client's ServiceError wrapper. */
function grpcCodeOf(err: unknown): number | undefined {
  if (isGrpcServiceError(err)) return Number(err.code);
  if (err instanceof ServiceError) return grpcCodeOf(err.cause);
  return undefined;
}

function isTemporalUnreachable(err: unknown): boolean {
  if (isGrpcDeadlineError(err) || isGrpcCancelledError(err)) return true;
  const code = grpcCodeOf(err);
  return code !== undefined && UNREACHABLE.has(code);
}

/** Translates what the Temporal client threw into an HttpError, or returns undefined if it is a bug. */
export function fromTemporal(err: unknown, whenMissing: HttpError): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof WorkflowNotFoundError) return whenMissing;
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    return conflict(err.cause.type ?? 'refused', err.cause.message);
  }
  if (isTemporalUnreachable(err)) return unavailable('Temporal is not reachable; try again shortly');
  if (grpcCodeOf(err) === GRPC.NOT_FOUND) return whenMissing;
  return undefined;
}

/**
 * A request path fit for a log line: the Web UI's codec URL carries its viewer token in the path
 * (/codec/ui/<token>/...), which no log may print. Every log of a path goes through this.
 */
export const loggablePath = (path: string) => path.replace(/^\/codec\/ui\/[^/]+/, '/codec/ui/[redacted]');

export const notFoundRoute: RequestHandler = (req, _res, next) => {
  next(notFound('route-not-found', `no route for ${req.method} ${req.path}`));
};

interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    let httpError: HttpError;
    const parserError = err as BodyParserError;
    if (err instanceof HttpError) {
      httpError = err;
    } else if (parserError?.type === 'entity.parse.failed') {
      httpError = badRequest('invalid-json', 'request body is not valid JSON');
    } else if (parserError?.type === 'entity.too.large') {
      httpError = new HttpError(413, 'payload-too-large', 'request body is too large');
    } else if (parserError?.expose && typeof parserError.status === 'number' && parserError.status < 500) {
      httpError = new HttpError(parserError.status, 'bad-request', 'request could not be read');
    } else {
      httpError =
        fromTemporal(err, notFound('not-found', 'not found')) ??
        new HttpError(500, 'internal', 'internal error');
      if (httpError.status >= 500) {
        logger.error({ err, method: req.method, path: loggablePath(req.path) }, 'request failed');
      }
    }
    // The request log line and the refusal metrics name the code.
    res.locals.errorCode = httpError.code;
    if (httpError.headers) res.set(httpError.headers);
    res.status(httpError.status).json({ error: { code: httpError.code, message: httpError.message } });
  };
}
