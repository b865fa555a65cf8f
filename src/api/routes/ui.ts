// The /ui page: static files, and the JSON it reads. Sessions are listed through Temporal visibility,
// shown from their status query and their history; actions go through the public API, not here.
import { join } from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Config } from '../../config/config';
import { CustomerId, HomeId, SessionKey, SessionKind, SessionState } from '../../shared/search-attributes';
import { readHistory } from '../../ui/session-history';
import {
  actionsFor,
  maySee,
  uiKindOf,
  uiSessionKinds,
  visibilityScope,
  type SessionStatusCommon,
} from '../../ui/session-kinds';
import { modelToSvg } from '../../ui/state-diagram';
import { bearerToken, type Principal, type TokenAuthority } from '../auth';
import { HttpError, forbidden, fromTemporal, notFound, unauthorized } from '../errors';
import type { TemporalGateway } from '../temporal-gateway';
import { describeRoute, errorBodySchema, isoTime, transitionTakenSchema, type Security } from '../openapi';
import { parse } from '../validation';

/** Built next to this file in both src/ and dist/ (the build copies it). */
export const UI_STATIC_DIR = join(__dirname, '../../ui/static');
const STATUS_TIMEOUT_MS = 2000;

const workflowIdSchema = z
  .string()
  .regex(/^(smoke-alarm|pizza-order):[A-Za-z0-9._-]{1,64}$/, 'a session id such as smoke-alarm:home-42');
const simulatorParams = z.strictObject({
  homeId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  detectorId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  action: z.enum(['press', 'release']),
});
const SIMULATOR_TIMEOUT_MS = 3000;
const listQuery = z.strictObject({
  kind: z.enum(uiSessionKinds.map((k) => k.kind) as [string, ...string[]]).optional(),
  state: z
    .string()
    .regex(/^[a-z-]{1,40}$/)
    .optional(),
  open: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

// The page's JSON, in the OpenAPI document like every other route (the page itself is static HTML).
const viewerSecurity: Security[] = ['owner', 'staff', 'customer', 'operator'];
const tags = ['ui'];
const sessionRowSchema = z.strictObject({
  workflowId: z.string(),
  kind: z.string().nullable(),
  key: z.string().nullable(),
  state: z.string().nullable(),
  status: z.string(),
  startedAt: isoTime,
  closedAt: isoTime.nullable(),
});
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
  summary: 'Who the token is, and the simulated detectors it may press',
  tags,
  security: viewerSecurity,
  responses: {
    200: {
      description: 'the caller',
      schema: z.strictObject({
        name: z.string(),
        role: z.string(),
        homeId: z.string().nullable(),
        simulated: z.array(z.strictObject({ homeId: z.string(), detectors: z.array(z.string()) })),
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
  path: '/ui/api/simulator/homes/:homeId/detectors/:detectorId/:action',
  operationId: 'uiPressSimulatedDetector',
  summary: 'Demo bench: press or release a simulated detector (only where ui.simulatorUrl is set)',
  tags,
  security: ['owner', 'operator'],
  params: simulatorParams,
  responses: {
    202: {
      description: 'done on the simulated board',
      schema: z.strictObject({
        homeId: z.string(),
        detectorId: z.string(),
        action: z.enum(['press', 'release']),
      }),
    },
    404: { description: 'no-simulated-detector you may press there', schema: errorBodySchema },
    409: { description: 'the home has a real board', schema: errorBodySchema },
    503: { description: 'simulator-unavailable', schema: errorBodySchema },
  },
});

export interface UiRouteDeps {
  config: Config;
  temporal: TemporalGateway;
  authority: TokenAuthority;
}

export function uiRoutes({ config, temporal, authority }: UiRouteDeps): Router {
  const router = Router();
  const models = uiSessionKinds.map((k) => ({
    kind: k.kind,
    title: k.title,
    svg: modelToSvg(k.model),
    initial: k.model.decl.initial,
    final: k.model.decl.final,
  }));

  /** Any token but a device's may look; what it sees depends on its role. */
  const viewer: RequestHandler = (req, res, next) => {
    const token = bearerToken(req.get('authorization'));
    if (!token) {
      res.set('WWW-Authenticate', 'Bearer');
      return next(unauthorized('log in with a token'));
    }
    const principal = authority.identify(token);
    if (!principal) return next(unauthorized('unknown token'));
    if (!visibilityScope(principal)) return next(forbidden('this token cannot view sessions'));
    req.principal = principal;
    next();
  };

  router.get('/ui', (_req, res) => res.sendFile(join(UI_STATIC_DIR, 'index.html')));
  router.use('/ui/static', express.static(UI_STATIC_DIR, { index: false, fallthrough: false }));

  /** Homes whose simulated detectors this caller may press: an operator any, an owner their own. */
  const simulatedHomes = (p: Principal) =>
    config.ui.simulatorUrl
      ? Object.entries(config.homes)
          .filter(
            ([homeId, h]) => h.board.type === 'simulated' && (p.role === 'operator' || p.homeId === homeId),
          )
          .map(([homeId, h]) => ({ homeId, detectors: Object.keys(h.detectors) }))
          .filter((h) => h.detectors.length > 0)
      : [];

  router.get('/ui/api/me', viewer, (req, res) => {
    const p = req.principal!;
    res.json({ name: p.name, role: p.role, homeId: p.homeId ?? null, simulated: simulatedHomes(p) });
  });

  // Demo bench: plays a simulated detector through the gateway's own controls, as `npm run press` does.
  router.post('/ui/api/simulator/homes/:homeId/detectors/:detectorId/:action', viewer, async (req, res) => {
    const { homeId, detectorId, action } = parse(simulatorParams, req.params, 'path');
    const home = simulatedHomes(req.principal!).find((h) => h.homeId === homeId);
    if (!home || !home.detectors.includes(detectorId)) {
      throw notFound(
        'no-simulated-detector',
        `no simulated detector '${detectorId}' you may press in '${homeId}'`,
      );
    }
    const url = `${config.ui.simulatorUrl!.replace(/\/$/, '')}/homes/${homeId}/detectors/${detectorId}/${action}`;
    const answer = await fetch(url, {
      method: 'POST',
      signal: AbortSignal.timeout(SIMULATOR_TIMEOUT_MS),
    }).catch(() => {
      throw new HttpError(503, 'simulator-unavailable', 'the simulated board’s gateway does not answer');
    });
    res.status(answer.status).json(await answer.json());
  });

  router.get('/ui/api/models', viewer, (_req, res) => {
    res.json({ models });
  });

  router.get('/ui/api/sessions', viewer, async (req, res) => {
    const { kind, state, open, limit } = parse(listQuery, req.query, 'query');
    const clauses = [visibilityScope(req.principal!)!];
    if (kind) clauses.push(`${SessionKind.name} = '${kind}'`);
    if (state) clauses.push(`${SessionState.name} = '${state}'`);
    if (open) clauses.push(`ExecutionStatus ${open === 'true' ? '=' : '!='} 'Running'`);
    const sessions = await temporal.list(clauses.join(' AND '), limit, (wf) => {
      const sa = wf.typedSearchAttributes;
      return {
        workflowId: wf.workflowId,
        kind: sa.get(SessionKind) ?? null,
        key: sa.get(SessionKey) ?? null,
        state: sa.get(SessionState) ?? null,
        status: wf.status.name,
        startedAt: wf.startTime.toISOString(),
        closedAt: wf.closeTime?.toISOString() ?? null,
      };
    });
    res.json({ sessions });
  });

  router.get('/ui/api/sessions/:workflowId', viewer, async (req, res) => {
    const workflowId = parse(workflowIdSchema, req.params.workflowId, 'path.workflowId');
    const handle = temporal.client.workflow.getHandle(workflowId);
    const missing = notFound('no-session', `there is no session '${workflowId}'`);
    const description = await temporal
      .call(() => handle.describe())
      .catch((err: unknown) => {
        throw fromTemporal(err, missing) ?? err;
      });
    const sa = description.typedSearchAttributes;
    const kind = sa.get(SessionKind) ?? workflowId.split(':')[0];
    const key = sa.get(SessionKey) ?? workflowId.slice(kind.length + 1);
    // Someone else's session is as absent as a missing one.
    if (!maySee(req.principal!, { kind, homeId: sa.get(HomeId), customerId: sa.get(CustomerId) }))
      throw missing;
    const ui = uiKindOf(kind);
    if (!ui) throw missing;
    const [status, history] = await Promise.all([
      // A closed session answers from a replay on a worker; without one the page still shows history.
      temporal.call(() => handle.query<SessionStatusCommon>('status'), STATUS_TIMEOUT_MS).catch(() => null),
      temporal.call(() => handle.fetchHistory()),
    ]);
    const { timeline, openTimers } = readHistory(history, status ? ui.deadlines(status) : []);
    const running = description.status.name === 'RUNNING';
    res.json({
      workflowId,
      runId: description.runId,
      kind,
      key,
      title: ui.title,
      workflowStatus: description.status.name,
      startedAt: description.startTime.toISOString(),
      closedAt: description.closeTime?.toISOString() ?? null,
      state: status?.state ?? sa.get(SessionState) ?? null,
      path: status?.path ?? [],
      status,
      timeline,
      openTimers: running ? openTimers : [],
      actions: running && status ? actionsFor(ui, key, status, req.principal!) : [],
      temporalUrl: config.ui.temporalWebUrl
        ? `${config.ui.temporalWebUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(description.runId)}/history`
        : null,
    });
  });

  return router;
}
