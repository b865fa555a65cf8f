// Friendly routes of the smoke-alarm kind: thin aliases of the generic session routes, kept so clients
// written against them (devices, phones) keep working. `/sessions/smoke-alarm/{homeId}/…` does the same.
import { Router } from 'express';
import { z } from 'zod';
import { sessionKind as smokeAlarm } from '../../shared/smoke-alarm';
import type { KindRouteDeps } from '../app';
import { authenticate } from '../auth';
import { conflict, notFound } from '../errors';
import { describeRoute, errorBodySchema } from '../openapi';
import {
  acceptedSchema,
  describeRequest,
  requestOptions,
  securityOf,
  sendStatus,
  statusAnswerSchema,
  statusQuery,
} from './sessions';
import { jsonBodyOnly, parse } from '../validation';

const homeParams = z.object({ homeId: smokeAlarm.key.schema });
const tags = [smokeAlarm.name];
const { smokeDetected } = smokeAlarm.events;
const requests = [
  ['cancel', 'cancelAlarm', 'cancel'],
  ['all-clear', 'allClear', 'allClear'],
] as const;

describeRoute({
  method: 'post',
  path: '/homes/:homeId/smoke',
  operationId: 'reportSmoke',
  summary: smokeDetected.summary,
  tags,
  security: securityOf(smokeDetected.roles),
  params: homeParams,
  body: smokeDetected.body,
  temporal: true,
  responses: {
    202: {
      description: 'event durably accepted; state is a peek (starting when no worker answered in time)',
      schema: acceptedSchema(smokeAlarm),
      headers: { Location: 'status URL of the session' },
    },
    422: { description: 'not-configured: the detector is not one of the home’s', schema: errorBodySchema },
  },
});
describeRoute({
  method: 'get',
  path: '/homes/:homeId/alarm',
  operationId: 'getAlarm',
  summary: 'Status of the home’s latest alarm session',
  tags,
  security: securityOf(smokeAlarm.viewers),
  params: homeParams,
  query: statusQuery,
  temporal: true,
  responses: {
    200: { description: 'session status', schema: statusAnswerSchema(smokeAlarm) },
    404: { description: 'no-session: the home never had one (or no such route)', schema: errorBodySchema },
  },
});
for (const [path, operationId, name] of requests) {
  describeRequest(smokeAlarm, name, {
    path: `/homes/:homeId/alarm/${path}`,
    operationId,
    params: homeParams,
  });
}

export function routes({ sessions, authority }: KindRouteDeps): Router {
  const router = Router();
  const signedIn = authenticate(authority);
  const noSession = (homeId: string) => () => notFound('no-session', `home '${homeId}' has no alarm session`);
  const nothingRunning = (homeId: string) => () =>
    conflict('no-active-alarm', `home '${homeId}' has no running alarm`);

  router.post('/homes/:homeId/smoke', jsonBodyOnly, signedIn, async (req, res) => {
    // Who may ask is checked first, so a stranger learns nothing about the path or the body.
    await sessions.authorize(req.principal!, smokeAlarm, String(req.params.homeId), smokeDetected.roles);
    const { homeId } = parse(homeParams, req.params, 'path');
    const body = parse(smokeDetected.body, req.body, 'body');
    const accepted = await sessions.event(smokeAlarm, homeId, 'smokeDetected', body, {
      missing: noSession(homeId),
    });
    res
      .status(202)
      .location(`/homes/${encodeURIComponent(homeId)}/alarm`)
      .json(accepted);
  });

  router.get('/homes/:homeId/alarm', signedIn, async (req, res) => {
    await sessions.authorize(req.principal!, smokeAlarm, String(req.params.homeId), smokeAlarm.viewers);
    const { homeId } = parse(homeParams, req.params, 'path');
    await sendStatus(sessions, smokeAlarm, homeId, req, res, { missing: noSession(homeId) });
  });

  for (const [path, , name] of requests) {
    const request = smokeAlarm.requests[name];
    router.post(`/homes/:homeId/alarm/${path}`, jsonBodyOnly, signedIn, async (req, res) => {
      const caller = await sessions.authorize(
        req.principal!,
        smokeAlarm,
        String(req.params.homeId),
        request.roles,
      );
      const { homeId } = parse(homeParams, req.params, 'path');
      const body = parse(request.body, req.body, 'body');
      res.json(
        await sessions.request(smokeAlarm, homeId, name, body, caller, {
          ...requestOptions(req),
          missing: nothingRunning(homeId),
        }),
      );
    });
  }

  return router;
}
