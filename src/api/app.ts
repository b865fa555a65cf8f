// The Express app: thin routes, one auth module, one error handler. No session state lives here.
import express, { type Express } from 'express';
import type { Config } from '../config/config';
import type { Logger } from '../config/logger';
import { OrderTokens, TokenAuthority } from './auth';
import { errorHandler, notFoundRoute } from './errors';
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
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      logger.info(
        {
          method: req.method,
          path: req.path,
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
  if (!config.pizza.orderTokenSecret) {
    logger.warn('pizza.orderTokenSecret is not set: order tokens change when the API restarts');
  }
  const orderTokens = new OrderTokens(config.pizza.orderTokenSecret);
  app.use(pizzaOrderRoutes({ config, temporal, authority, orderTokens }));
  app.use(uiRoutes({ config, temporal, authority }));

  app.use(notFoundRoute);
  app.use(errorHandler(logger));
  return app;
}
