// HTTP ↔ Temporal for smoke-alarm sessions, nothing else.
import { Router } from 'express';
import { z } from 'zod';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../../config/config';
import { signalSmokeDetected } from '../../config/smoke-alarm-start';
import {
  AlarmRefusal,
  alarmStates,
  alarmStatusQuery,
  allClearUpdate,
  cancelAlarmUpdate,
  smokeAlarmWorkflowId,
  type AlarmDecision,
  type AlarmStatus,
} from '../../shared/smoke-alarm';
import { requireHomeRole, type TokenAuthority } from '../auth';
import { conflict, fromTemporal, notFound } from '../errors';
import {
  describeRoute,
  errorBodySchema,
  isoTime,
  sessionStepSchema,
  transitionTakenSchema,
} from '../openapi';
import type { TemporalGateway } from '../temporal-gateway';
import { idSchema, jsonBodyOnly, parse } from '../validation';

const homeParams = z.object({ homeId: idSchema });
const STATE_PEEK_TIMEOUT_MS = 1000;
const ESCALATING_RETRIES = 15;
const refusalOf = (err: unknown) =>
  err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure
    ? err.cause.type
    : undefined;
const smokeBody = z.strictObject({ detectorId: idSchema });
/** Cancel and all-clear take no fields; an empty or absent body is fine. */
const emptyBody = z.strictObject({}).optional();

// Response shapes, for the OpenAPI document (schemathesis checks every answer against them).
const stateSchema = z.enum(alarmStates);
const outcomeSchema = z.enum(['cancelled', 'resolved']).nullable();
const acceptedSchema = z.strictObject({
  sessionId: z.string(),
  runId: z.string(),
  state: z.enum([...alarmStates, 'starting']),
});
const decisionSchema = z.strictObject({ state: stateSchema, outcome: outcomeSchema });
const statusSchema = z.strictObject({
  sessionId: z.string(),
  openedInRun: z.string(),
  homeId: z.string(),
  state: stateSchema,
  outcome: outcomeSchema,
  startedAt: isoTime,
  cancelWindowSeconds: z.number(),
  cancelDeadline: isoTime,
  detectors: z.array(
    z.strictObject({ detectorId: z.string(), firstAt: isoTime, lastAt: isoTime, events: z.int() }),
  ),
  escalation: z
    .strictObject({ reason: z.enum(['window-expired', 'second-detector']), at: isoTime })
    .nullable(),
  steps: z.array(sessionStepSchema),
  path: z.array(transitionTakenSchema),
  siren: z.enum(['on', 'off', 'unknown']),
  endedAt: isoTime.nullable(),
  endedBy: z.string().nullable(),
});
const tags = ['smoke-alarm'];

describeRoute({
  method: 'post',
  path: '/homes/:homeId/smoke',
  operationId: 'reportSmoke',
  summary: 'A detector reports smoke: opens the home’s alarm session or joins the running one',
  tags,
  security: 'device',
  params: homeParams,
  body: smokeBody,
  temporal: true,
  responses: {
    202: {
      description: 'event durably accepted; state is a peek (starting when no worker answered in time)',
      schema: acceptedSchema,
      headers: { Location: 'status URL of the session' },
    },
  },
});
describeRoute({
  method: 'get',
  path: '/homes/:homeId/alarm',
  operationId: 'getAlarm',
  summary: 'Status of the home’s latest alarm session',
  tags,
  security: 'owner',
  params: homeParams,
  temporal: true,
  responses: {
    200: { description: 'session status', schema: statusSchema },
    404: { description: 'no-session: the home never had one (or no such route)', schema: errorBodySchema },
  },
});
for (const [path, operationId, summary, refusals] of [
  [
    'cancel',
    'cancelAlarm',
    'Cancel inside the window: siren off, session cancelled',
    'too-late, no-active-alarm',
  ],
  [
    'all-clear',
    'allClear',
    'All-clear after escalation: siren off, session resolved',
    'not-escalated, no-active-alarm',
  ],
] as const) {
  describeRoute({
    method: 'post',
    path: `/homes/:homeId/alarm/${path}`,
    operationId,
    summary,
    tags,
    security: 'owner',
    params: homeParams,
    body: emptyBody,
    bodyRequired: false,
    temporal: true,
    responses: {
      200: { description: 'decision', schema: decisionSchema },
      409: { description: `refused: ${refusals}`, schema: errorBodySchema },
    },
  });
}

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
      .call(async (): Promise<AlarmStatus> => {
        const handle = handleOf(homeId);
        // An ended session's status is its result: read from history, no worker needed and nothing
        // replayed (a query on it would replay it; test/workflows/replay shows why that can fail).
        if ((await handle.describe()).status.name === 'COMPLETED')
          return handle.result() as Promise<AlarmStatus>;
        return handle.query(alarmStatusQuery);
      })
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
      const decide = () =>
        temporal.call(() => handleOf(homeId).executeUpdate(update, { args: [{ by: req.principal!.name }] }));
      let decision: AlarmDecision | undefined;
      // "Escalating right now" clears within a workflow task: ask again rather than refuse the owner.
      for (let attempt = 1; decision === undefined; attempt++) {
        decision = await decide().catch(async (err: unknown) => {
          if (attempt >= ESCALATING_RETRIES || refusalOf(err) !== AlarmRefusal.escalating)
            throw fromTemporal(err, nothingRunning(homeId)) ?? err;
          await new Promise((r) => setTimeout(r, 200));
          return undefined;
        });
      }
      res.json(decision);
    });
  }

  return router;
}
