// The Express app: thin routes, one auth module, one error handler. No session state lives here.
import { randomUUID } from 'node:crypto';
import express, { type Express, type Request, type RequestHandler, type Router } from 'express';
import helmet from 'helmet';
import { AesGcmCodec } from '../codec/aes-gcm-codec';
import type { Config } from '../config/config';
import { kindFile, sessionKinds } from '../config/kinds';
import {
  context,
  isSpanContextValid,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
} from '@opentelemetry/api';
import { runInRequestContext, type RequestLogContext } from '../config/log-context';
import { tracer, withContext } from '../config/tracing';
import type { Logger } from '../config/logger';
import { SessionTokens, TokenAuthority } from './auth';
import { errorHandler, loggablePath, notFoundRoute } from './errors';
import { ApiMetrics } from './metrics';
import { methodNotAllowedRoute, openApiDocument } from './openapi';
import { codecRoutes } from './routes/codec';
import { healthRoutes } from './routes/health';
import { sessionRoutes } from './routes/sessions';
import { uiRoutes } from './routes/ui';
import { Sessions } from './sessions';
import type { TemporalGateway } from './temporal-gateway';
import type { ReadModel } from '../read-model/read-model';
import { changeRoutes } from './routes/changes';

export interface AppDeps {
  config: Config;
  temporal: TemporalGateway;
  logger: Logger;
  readModel: ReadModel;
  /** The app's metrics (`GET /metrics`); a fresh registry when not given. */
  metrics?: ApiMetrics;
}

/** What a kind's friendly routes (src/api/routes/<kind>.ts, optional) are built from. */
export interface KindRouteDeps {
  config: Config;
  sessions: Sessions;
  authority: TokenAuthority;
}

export const BODY_LIMIT = '16kb';

/** A caller's X-Request-Id is kept when it is a sane token (a proxy's id joins our lines); else a new one. */
const requestIdOf = (req: Request) => {
  const given = req.get('x-request-id');
  return given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
};

/** The route pattern that answered (`/sessions/:kind/:key`), never the raw path: bounded label values. */
const routeOf = (req: Request): string => {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : 'unmatched';
};

/**
 * Every request gets an id (answered in X-Request-Id) and one log line when it is answered, naming the
 * session it acted on; every line logged while it runs carries the id too. Counts it in the metrics.
 */
function requestLogging(logger: Logger, metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const ctx: RequestLogContext = { requestId: requestIdOf(req) };
    res.locals.logContext = ctx;
    res.set('X-Request-Id', ctx.requestId);
    // The request's span (a no-op unless tracing is configured), under the caller's trace if it sent one.
    const span = tracer().startSpan(
      req.method,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, 'request.id': ctx.requestId },
      },
      propagation.extract(context.active(), req.headers),
    );
    if (isSpanContextValid(span.spanContext())) ctx.traceId = span.spanContext().traceId;
    const traced = trace.setSpan(context.active(), span);
    res.locals.traceContext = traced;
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(req);
      const status = res.statusCode;
      const code = res.locals.errorCode as string | undefined;
      span.updateName(`${req.method} ${route}`);
      span.setAttributes({
        'http.route': route,
        'http.response.status_code': status,
        ...(ctx.workflowId ? { 'temporal.workflow_id': ctx.workflowId } : {}),
      });
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: code });
      span.end();
      metrics.counters.httpRequests.inc({ method: req.method, route, status: String(status) });
      metrics.httpDuration.observe({ method: req.method, route }, seconds);
      if (code !== undefined) metrics.counters.refusals.inc({ code, status: String(status) });
      if (status === 503) metrics.counters.unavailable.inc({ route });
      logger.info(
        {
          ...ctx,
          method: req.method,
          // The Web UI's codec URL carries its token: log the route, not the secret.
          path: loggablePath(req.path),
          route,
          status,
          ...(code === undefined ? {} : { code }),
          ms: seconds * 1e3,
          by: req.principal?.name,
        },
        'request',
      );
    });
    withContext(traced, () => runInRequestContext(ctx, next));
  };
}

/** The body parser resumes in the socket's async context: enter the request's (log and trace) again after it. */
const reenterRequestContext: RequestHandler = (_req, res, next) => {
  withContext(res.locals.traceContext as Context, () =>
    runInRequestContext(res.locals.logContext as RequestLogContext, next),
  );
};

export function createApp({
  config,
  temporal,
  logger,
  readModel,
  metrics = new ApiMetrics(),
}: AppDeps): Express {
  const app = express();
  if (!config.tokenSecret) {
    logger.warn('tokenSecret is not set: session tokens change when the API restarts');
  }
  const authority = new TokenAuthority(config, new SessionTokens(config.tokenSecret));
  const sessions = new Sessions(config, temporal, sessionKinds(), readModel, metrics);
  metrics.openingsWaiting(() => sessions.openings?.size ?? 0);
  // The read model's lag: how long ago it was last checked against Temporal (NaN before the first check).
  metrics.readModelLag(() => {
    const at = readModel.sync.lastRoundAt;
    return at === undefined ? Number.NaN : (Date.now() - at) / 1000;
  });
  app.disable('x-powered-by');
  // The client address (per-address limits, logs) from X-Forwarded-For only behind proxies the config trusts.
  app.set('trust proxy', config.api.trustProxy);
  app.use(requestLogging(logger, metrics));
  // Standard security headers (CSP, nosniff, frame-ancestors, HSTS, no referrer leaks); a JSON API needs them all.
  app.use(helmet());
  app.use(express.json({ limit: BODY_LIMIT, strict: true }));
  app.use(reenterRequestContext);

  // Prometheus scrapes this; like /healthz it needs no token (keep it off the public proxy).
  app.get('/metrics', async (_req, res) => {
    const { contentType, body } = await metrics.scrape();
    res.type(contentType).send(body);
  });
  app.use(healthRoutes(temporal));
  for (const kind of sessions.kinds) {
    // A kind's friendly routes, where it has a routes file (the generic routes serve it anyway).
    const routes = kindFile<{ routes?: (deps: KindRouteDeps) => Router }>('api/routes', kind.name)?.routes;
    if (routes) app.use(routes({ config, sessions, authority }));
  }
  app.use(changeRoutes(sessions, authority, readModel.feed));
  app.use(sessionRoutes(sessions, authority));
  if (config.codec.keys.length > 0)
    app.use(codecRoutes({ config, authority, codec: AesGcmCodec.fromConfig(config) }));
  app.use(uiRoutes({ config, sessions, authority }));
  // After every route: some describe themselves when built (a body may depend on configuration).
  const spec = openApiDocument({
    title: 'sessionflow API',
    version: '0.1.0',
    description:
      'Long-lived IoT sessions as durable Temporal workflows. Errors: { error: { code, message } }.',
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(spec);
  });

  app.use(methodNotAllowedRoute);
  app.use(notFoundRoute);
  app.use(errorHandler(logger));
  return app;
}
