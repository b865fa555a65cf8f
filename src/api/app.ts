// The Express app: thin routes, one auth module, one error handler. No session state lives here.
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import { AesGcmCodec } from '../codec/aes-gcm-codec';
import type { Config } from '../config/config';
import { kindFile, sessionKinds } from '../config/kinds';
import type { Logger } from '../config/logger';
import { SessionTokens, TokenAuthority } from './auth';
import { errorHandler, loggablePath, notFoundRoute } from './errors';
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
}

/** What a kind's friendly routes (src/api/routes/<kind>.ts, optional) are built from. */
export interface KindRouteDeps {
  config: Config;
  sessions: Sessions;
  authority: TokenAuthority;
}

export const BODY_LIMIT = '16kb';

export function createApp({ config, temporal, logger, readModel }: AppDeps): Express {
  const app = express();
  if (!config.tokenSecret) {
    logger.warn('tokenSecret is not set: session tokens change when the API restarts');
  }
  const authority = new TokenAuthority(config, new SessionTokens(config.tokenSecret));
  const sessions = new Sessions(config, temporal, sessionKinds(), readModel);
  app.disable('x-powered-by');
  // The client address (per-address limits, logs) from X-Forwarded-For only behind proxies the config trusts.
  app.set('trust proxy', config.api.trustProxy);
  // Standard security headers (CSP, nosniff, frame-ancestors, HSTS, no referrer leaks); a JSON API needs them all.
  app.use(helmet());
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      logger.info(
        {
          method: req.method,
          // The Web UI's codec URL carries its token: log the route, not the secret.
          path: loggablePath(req.path),
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          by: req.principal?.name,
        },
        'request',
      );
    });
    next();
  });
  app.use(express.json({ limit: BODY_LIMIT, strict: true }));

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
