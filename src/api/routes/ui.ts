// The /ui page: static files, and the JSON it reads. Sessions are listed through Temporal visibility,
// shown from their status query and their history; actions go through the public API, not here.
import { join } from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { homeInputs, type Config } from '../../config/config';
import { SessionKey, SessionKind, SessionState } from '../../shared/search-attributes';
import { roles, type StatusCommon } from '../../shared/session-kind';
import { isoTime, transitionTakenSchema } from '../../shared/session-model';
import { actionsFor } from '../../ui/actions';
import { readHistory } from '../../ui/session-history';
import { modelToSvg } from '../../ui/state-diagram';
import { authenticate, visibilityScope, type Principal, type TokenAuthority } from '../auth';
import { HttpError, forbidden, fromTemporal, notFound } from '../errors';
import { describeRoute, errorBodySchema, type Security } from '../openapi';
import type { Sessions } from '../sessions';
import { parse } from '../validation';
import { listQuery, listSessions, sessionRowSchema } from './sessions';

/** Built next to this file in both src/ and dist/ (the build copies it). */
export const UI_STATIC_DIR = join(__dirname, '../../ui/static');

/** `<kind>:<key>`; the kind is checked against the registry where it is read. */
const workflowIdSchema = z
  .string()
  .regex(/^[a-z0-9-]{1,40}:[A-Za-z0-9._-]{1,64}$/, 'a session id: <kind>:<key>');
const simulatorParams = z.strictObject({
  homeId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  inputId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  action: z.enum(['press', 'release']),
});
const SIMULATOR_TIMEOUT_MS = 3000;
// The page's JSON, in the OpenAPI document like every other route (the page itself is static HTML).
const viewerSecurity: Security[] = roles.filter((r) => r !== 'device');
const tags = ['ui'];
const actionSchema = z.strictObject({
  on: z.string(),
  label: z.string(),
  method: z.literal('POST'),
  path: z.string(),
  body: z.unknown().optional(),
});
const sessionDetailSchema = z.strictObject({
  workflowId: z.string(),
  runId: z.string(),
  kind: z.string(),
  key: z.string(),
  title: z.string(),
  workflowStatus: z.string(),
  startedAt: isoTime,
  closedAt: isoTime.nullable(),
  state: z.string().nullable(),
  path: z.array(transitionTakenSchema),
  // The kind's own status (see its route's schema), or null when no worker answered in time.
  status: z.looseObject({ state: z.string() }).nullable(),
  timeline: z.array(
    z.strictObject({
      at: isoTime,
      kind: z.enum(['session', 'signal', 'update', 'timer', 'activity']),
      text: z.string(),
    }),
  ),
  openTimers: z.array(z.strictObject({ firesAt: isoTime, startedAt: isoTime, label: z.string() })),
  actions: z.array(actionSchema),
  temporalUrl: z.string().nullable(),
});
describeRoute({
  method: 'get',
  path: '/ui/api/me',
  operationId: 'uiWhoAmI',
  summary: 'Who the token is, and the simulated inputs (detectors, doors) it may press',
  tags,
  security: viewerSecurity,
  responses: {
    200: {
      description: 'the caller',
      schema: z.strictObject({
        name: z.string(),
        role: z.string(),
        homeId: z.string().nullable(),
        simulated: z.array(z.strictObject({ homeId: z.string(), inputs: z.array(z.string()) })),
      }),
    },
  },
});
describeRoute({
  method: 'get',
  path: '/ui/api/models',
  operationId: 'uiModels',
  summary: 'Each session kind’s state diagram (SVG generated from its model)',
  tags,
  security: viewerSecurity,
  responses: {
    200: {
      description: 'the models',
      schema: z.strictObject({
        models: z.array(
          z.strictObject({
            kind: z.string(),
            title: z.string(),
            svg: z.string(),
            initial: z.string(),
            final: z.array(z.string()),
          }),
        ),
      }),
    },
  },
});
describeRoute({
  method: 'get',
  path: '/ui/api/sessions',
  operationId: 'uiListSessions',
  summary: 'Live and recent sessions the caller may see, through Temporal visibility',
  tags,
  security: viewerSecurity,
  query: listQuery,
  temporal: true,
  responses: {
    200: { description: 'sessions', schema: z.strictObject({ sessions: z.array(sessionRowSchema) }) },
    404: { description: 'no-kind: no such session kind', schema: errorBodySchema },
  },
});
describeRoute({
  method: 'get',
  path: '/ui/api/sessions/:workflowId',
  operationId: 'uiGetSession',
  summary: 'One session: status, path, history timeline, open timers, the actions allowed now',
  tags,
  security: viewerSecurity,
  params: z.object({ workflowId: workflowIdSchema }),
  temporal: true,
  responses: {
    200: { description: 'the session', schema: sessionDetailSchema },
    404: { description: 'no-session (or someone else’s)', schema: errorBodySchema },
  },
});
describeRoute({
  method: 'post',
  path: '/ui/api/simulator/homes/:homeId/inputs/:inputId/:action',
  operationId: 'uiPressSimulatedInput',
  summary: 'Demo bench: press or release a simulated input (only where ui.simulatorUrl is set)',
  tags,
  security: ['owner', 'operator'],
  params: simulatorParams,
  responses: {
    202: {
      description: 'done on the simulated board',
      schema: z.strictObject({
        homeId: z.string(),
        inputId: z.string(),
        action: z.enum(['press', 'release']),
      }),
    },
    404: { description: 'no-simulated-input you may press there', schema: errorBodySchema },
    409: { description: 'the home has a real board', schema: errorBodySchema },
    503: { description: 'simulator-unavailable', schema: errorBodySchema },
  },
});

export interface UiRouteDeps {
  config: Config;
  sessions: Sessions;
  authority: TokenAuthority;
}

export function uiRoutes({ config, sessions, authority }: UiRouteDeps): Router {
  const router = Router();
  const { kinds } = sessions;
  const models = kinds.map((k) => ({
    kind: k.name,
    title: k.title,
    svg: modelToSvg(k.model),
    initial: k.model.decl.initial,
    final: k.model.decl.final,
  }));

  /** Any token that may see some session may look; what it sees depends on its role. */
  const signedIn = authenticate(authority);
  const viewer: RequestHandler = (req, _res, next) => {
    if (!visibilityScope(req.principal!, kinds)) return next(forbidden('this token cannot view sessions'));
    next();
  };

  router.get('/ui', (_req, res) => res.sendFile(join(UI_STATIC_DIR, 'index.html')));
  router.use('/ui/static', express.static(UI_STATIC_DIR, { index: false, fallthrough: false }));

  /** Homes whose simulated inputs this caller may press: an operator any, an owner their own. */
  const simulatedHomes = (p: Principal) =>
    config.ui.simulatorUrl
      ? Object.entries(config.homes)
          .filter(
            ([homeId, h]) => h.board.type === 'simulated' && (p.role === 'operator' || p.homeId === homeId),
          )
          .map(([homeId, h]) => ({ homeId, inputs: homeInputs(homeId, h).map((i) => i.inputId) }))
          .filter((h) => h.inputs.length > 0)
      : [];

  router.get('/ui/api/me', signedIn, viewer, (req, res) => {
    const p = req.principal!;
    res.json({ name: p.name, role: p.role, homeId: p.homeId ?? null, simulated: simulatedHomes(p) });
  });

  // Demo bench: plays a simulated input through the gateway's own controls, as `npm run press` does.
  router.post(
    '/ui/api/simulator/homes/:homeId/inputs/:inputId/:action',
    signedIn,
    viewer,
    async (req, res) => {
      const { homeId, inputId, action } = parse(simulatorParams, req.params, 'path');
      const home = simulatedHomes(req.principal!).find((h) => h.homeId === homeId);
      if (!home || !home.inputs.includes(inputId)) {
        throw notFound('no-simulated-input', `no simulated input '${inputId}' you may press in '${homeId}'`);
      }
      const url = `${config.ui.simulatorUrl!.replace(/\/$/, '')}/homes/${homeId}/inputs/${inputId}/${action}`;
      const answer = await fetch(url, {
        method: 'POST',
        signal: AbortSignal.timeout(SIMULATOR_TIMEOUT_MS),
      }).catch(() => {
        throw new HttpError(503, 'simulator-unavailable', 'the simulated board’s gateway does not answer');
      });
      res.status(answer.status).json(await answer.json());
    },
  );

  router.get('/ui/api/models', signedIn, viewer, (_req, res) => {
    res.json({ models });
  });

  router.get('/ui/api/sessions', signedIn, viewer, listSessions(sessions));

  router.get('/ui/api/sessions/:workflowId', signedIn, viewer, async (req, res) => {
    const workflowId = parse(workflowIdSchema, req.params.workflowId, 'path.workflowId');
    const missing = notFound('no-session', `there is no session '${workflowId}'`);
    const at = workflowId.indexOf(':');
    const kind = kinds.find((k) => k.name === workflowId.slice(0, at));
    const key = workflowId.slice(at + 1);
    if (!kind) throw missing;
    // Someone else's session is as absent as a missing one.
    await sessions.authorize(req.principal!, kind, key, kind.viewers).catch((err: unknown) => {
      throw err instanceof HttpError && err.status === 403 ? missing : err;
    });
    const handle = sessions.handle(kind, key);
    const description = await sessions.describe(kind, key).catch((err: unknown) => {
      throw fromTemporal(err, missing) ?? err;
    });
    const sa = description.typedSearchAttributes;
    const [status, history] = await Promise.all([
      // Running: its query; closed: its result (never a replay). Without either the page still shows history.
      sessions
        .status(kind, key)
        .then((s) => s as StatusCommon)
        .catch(() => null),
      sessions.fetchHistory(handle),
    ]);
    const { timeline, openTimers } = readHistory(
      history,
      status && kind.deadlines ? kind.deadlines(status) : [],
    );
    const running = description.status.name === 'RUNNING';
    res.json({
      workflowId,
      runId: description.runId,
      kind: sa.get(SessionKind) ?? kind.name,
      key: sa.get(SessionKey) ?? key,
      title: kind.title,
      workflowStatus: description.status.name,
      startedAt: description.startTime.toISOString(),
      closedAt: description.closeTime?.toISOString() ?? null,
      state: status?.state ?? sa.get(SessionState) ?? null,
      path: status?.path ?? [],
      status,
      timeline,
      openTimers: running ? openTimers : [],
      actions: running && status ? actionsFor(kind, key, status, req.principal!) : [],
      temporalUrl: config.ui.temporalWebUrl
        ? `${config.ui.temporalWebUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(description.runId)}/history`
        : null,
    });
  });

  return router;
}
