import { Router } from 'express';
import { z } from 'zod';
import { describeRoute } from '../openapi';
import type { TemporalGateway } from '../temporal-gateway';

describeRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'liveness',
  summary: 'The process serves HTTP',
  tags: ['health'],
  security: 'none',
  responses: { 200: { description: 'alive', schema: z.strictObject({ status: z.literal('ok') }) } },
});
describeRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'readiness',
  summary: 'Temporal is reachable',
  tags: ['health'],
  security: 'none',
  temporal: true,
  responses: {
    200: {
      description: 'ready',
      schema: z.strictObject({ status: z.literal('ready'), temporal: z.literal('reachable') }),
    },
  },
});

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
