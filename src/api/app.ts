// The Express app: thin routes, one auth module, one error handler. No session state lives here.
import express, { type Express } from 'express';
import helmet from 'helmet';
import { AesGcmCodec } from '../codec/aes-gcm-codec';
import type { Config } from '../config/config';
import type { Logger } from '../config/logger';
import { OrderTokens, TokenAuthority } from './auth';
import { errorHandler, notFoundRoute } from './errors';
import { methodNotAllowedRoute, openApiDocument } from './openapi';
import { codecRoutes } from './routes/codec';
import { healthRoutes } from './routes/health';
import { pizzaOrderRoutes } from './routes/pizza-order';
import { smokeAlarmRoutes } from './routes/smoke-alarm';
import { uiRoutes } from './routes/ui';
import type { TemporalGateway } from './temporal-gateway';

export interface AppDeps {
  config: Config;
  temporal: TemporalGateway;
  logger: Logger;
}

export const BODY_LIMIT = '16kb';

export function createApp({ config, temporal, logger }: AppDeps): Express {
  const app = express();
  const authority = new TokenAuthority(config);
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // Standard security headers (CSP, nosniff, frame-ancestors, HSTS, no referrer leaks); a JSON API needs them all.
  app.use(helmet());
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      logger.info(
        {
          method: req.method,
          // The Web UI's codec URL carries its token: log the route, not the secret.
          path: req.path.replace(/^\/codec\/ui\/[^/]+/, '/codec/ui/[redacted]'),
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
  app.use(smokeAlarmRoutes({ config, temporal, authority }));
  if (config.codec.keys.length > 0)
    app.use(codecRoutes({ config, authority, codec: AesGcmCodec.fromConfig(config) }));
  if (!config.pizza.orderTokenSecret) {
    logger.warn('pizza.orderTokenSecret is not set: order tokens change when the API restarts');
  }
  const orderTokens = new OrderTokens(config.pizza.orderTokenSecret);
  app.use(pizzaOrderRoutes({ config, temporal, authority, orderTokens }));
  app.use(uiRoutes({ config, temporal, authority }));
  // After every route: some describe themselves when built (the order body depends on the menu).
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
