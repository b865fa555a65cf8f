// Domain errors → HTTP, in one place. Error bodies are always `{ error: { code, message } }`
// and never carry stack traces or internals.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  isGrpcCancelledError,
  isGrpcDeadlineError,
  isGrpcServiceError,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { google } from '@temporalio/proto';
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
/** 503 when Temporal did not answer within the call deadline; a retry at once would only add load. */
const UNAVAILABLE_RETRY_AFTER_S = 2;
export const unavailable = (message: string) =>
  new HttpError(503, 'temporal-unavailable', message, { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER_S) });

/**
 * 503 for a session whose workflow task keeps failing or timing out (a worker died holding it twice, or a
 * deploy broke it): Temporal refuses its queries and updates until a worker completes a task. Nothing was
 * read or changed, so the same request may simply be sent again.
 */
export const notReady = () =>
  new HttpError(
    503,
    'session-not-ready',
    'the session cannot answer right now: Temporal is retrying its workflow task; nothing was changed, try again shortly',
    { 'Retry-After': String(NOT_READY_RETRY_AFTER_S) },
  );
/**
 * 503 for a status read of a session this API accepted an opening event for, whose first workflow task
 * has not run within the call deadline (workers are behind, or none runs): the session and its event are
 * kept, and it answers once a worker has run that task.
 */
export const stillOpening = (retryAfterSeconds: number) =>
  new HttpError(
    503,
    'session-opening',
    'the session was accepted and is opening: its first step has not run yet (workers are behind); try again shortly',
    { 'Retry-After': String(retryAfterSeconds) },
  );
// A task held by a dead worker is retried after its timeout (10 s): a few seconds is a fair first wait.
const NOT_READY_RETRY_AFTER_S = 5;

const GRPC = {
  CANCELLED: 1,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  FAILED_PRECONDITION: 9,
  UNAVAILABLE: 14,
} as const;
// gRPC status codes that mean "Temporal is not reachable right now", not "your request is wrong".
const UNREACHABLE = new Set<number>([GRPC.DEADLINE_EXCEEDED, GRPC.UNAVAILABLE, GRPC.CANCELLED]);

// grpc-js's ServiceError, as the client's guard names it (grpc-js is not a dependency of ours).
type GrpcServiceError = typeof isGrpcServiceError extends (e: unknown) => e is infer T ? T : never;

/** The gRPC error behind an error, looking through the client's wrappers (ServiceError, update errors). */
function grpcErrorOf(err: unknown): GrpcServiceError | undefined {
  for (let e = err; e instanceof Error; e = e.cause) if (isGrpcServiceError(e)) return e;
  return undefined;
}

const grpcCodeOf = (err: unknown): number | undefined => {
  const grpc = grpcErrorOf(err);
  return grpc && Number(grpc.code);
};

/**
 * Whether Temporal refused the call as "workflow not ready": FAILED_PRECONDITION carrying a
 * WorkflowNotReadyFailure detail (other FAILED_PRECONDITIONs are not passing states).
 */
function isWorkflowNotReady(err: unknown): boolean {
  const grpc = grpcErrorOf(err);
  if (!grpc || Number(grpc.code) !== GRPC.FAILED_PRECONDITION) return false;
  const details = grpc.metadata.get('grpc-status-details-bin')[0];
  if (!(details instanceof Uint8Array)) return false;
  return google.rpc.Status.decode(details).details.some((d) =>
    d.type_url?.endsWith('/temporal.api.errordetails.v1.WorkflowNotReadyFailure'),
  );
}

/** A deadline, cancellation or "unavailable": Temporal (or what it waited on) did not answer in time. */
export function isTemporalUnreachable(err: unknown): boolean {
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
  if (isWorkflowNotReady(err)) return notReady();
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
