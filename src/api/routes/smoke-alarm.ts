// HTTP ↔ Temporal for smoke-alarm sessions, nothing else.
import { Router } from 'express';
import { z } from 'zod';
import type { Config } from '../../config/config';
import { signalSmokeDetected } from '../../config/smoke-alarm-start';
import {
  alarmStatusQuery,
  allClearUpdate,
  cancelAlarmUpdate,
  smokeAlarmWorkflowId,
  type AlarmStatus,
} from '../../shared/smoke-alarm';
import { requireHomeRole, type TokenAuthority } from '../auth';
import { conflict, fromTemporal, notFound } from '../errors';
import type { TemporalGateway } from '../temporal-gateway';
import { idSchema, jsonBodyOnly, parse } from '../validation';

const homeParams = z.object({ homeId: idSchema });
const STATE_PEEK_TIMEOUT_MS = 1000;
const smokeBody = z.strictObject({ detectorId: idSchema });
/** Cancel and all-clear take no fields; an empty or absent body is fine. */
const emptyBody = z.strictObject({}).optional();

export interface SmokeAlarmRouteDeps {
  config: Config;
  temporal: TemporalGateway;
  authority: TokenAuthority;
}

export function smokeAlarmRoutes({ config, temporal, authority }: SmokeAlarmRouteDeps): Router {
  const router = Router();
  const device = requireHomeRole(authority, 'device');
  const owner = requireHomeRole(authority, 'owner');
  const handleOf = (homeId: string) => temporal.client.workflow.getHandle(smokeAlarmWorkflowId(homeId));
  const noSession = (homeId: string) => notFound('no-session', `home '${homeId}' has no alarm session`);
  const nothingRunning = (homeId: string) =>
    conflict('no-active-alarm', `home '${homeId}' has no running alarm`);

  router.post('/homes/:homeId/smoke', jsonBodyOnly, device, async (req, res) => {
    const { homeId } = parse(homeParams, req.params, 'path');
    const { detectorId } = parse(smokeBody, req.body, 'body');
    const workflowId = smokeAlarmWorkflowId(homeId);
    const handle = await temporal
      .call((client) => signalSmokeDetected(client, config, homeId, { detectorId }))
      .catch((err: unknown) => {
        throw fromTemporal(err, noSession(homeId)) ?? err;
      });
    // The event is durably accepted at this point; the state is a courtesy and may still be settling,
    // so a slow or absent worker costs the device at most a second, never the event.
    const state = await temporal
      .call(() => handle.query(alarmStatusQuery), STATE_PEEK_TIMEOUT_MS)
      .then((s: AlarmStatus) => s.state)
      .catch(() => 'starting' as const);
    res
      .status(202)
      .location(`/homes/${encodeURIComponent(homeId)}/alarm`)
      .json({ sessionId: workflowId, runId: handle.signaledRunId, state });
  });

  router.get('/homes/:homeId/alarm', owner, async (req, res) => {
    const { homeId } = parse(homeParams, req.params, 'path');
    const status = await temporal
      .call(() => handleOf(homeId).query(alarmStatusQuery))
      .catch((err: unknown) => {
        throw fromTemporal(err, noSession(homeId)) ?? err;
      });
    res.json(status);
  });

  for (const [path, update] of [
    ['cancel', cancelAlarmUpdate],
    ['all-clear', allClearUpdate],
  ] as const) {
    router.post(`/homes/:homeId/alarm/${path}`, jsonBodyOnly, owner, async (req, res) => {
      const { homeId } = parse(homeParams, req.params, 'path');
      parse(emptyBody, req.body, 'body');
      const decision = await temporal
        .call(() => handleOf(homeId).executeUpdate(update, { args: [{ by: req.principal!.name }] }))
        .catch((err: unknown) => {
          throw fromTemporal(err, nothingRunning(homeId)) ?? err;
        });
      res.json(decision);
    });
  }

  return router;
}
