import { Router } from 'express';
import type { TemporalGateway } from '../temporal-gateway';

/** Liveness says the process serves HTTP; readiness says it can reach Temporal. */
export function healthRoutes(temporal: TemporalGateway): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    try {
      await temporal.ping();
      res.json({ status: 'ready', temporal: 'reachable' });
    } catch {
      res.status(503).json({ error: { code: 'temporal-unavailable', message: 'Temporal is not reachable' } });
    }
  });
  return router;
}
