// The change stream: every state change of the sessions the caller may see, as server-sent events, live
// from the read model's feed. An event's id is its place in the change log: a client that reconnects
// with Last-Event-ID (EventSource does by itself) gets what it missed, or a `reset` when the log no
// longer reaches back that far (then it reloads and follows on).
import { Router } from 'express';
import { z } from 'zod';
import { roles } from '../../shared/session-kind';
import { sessionChangeSchema } from '../../shared/session-change';
import type { ChangeFeed, FeedItem } from '../../read-model/feed';
import { authenticate, canView, visibilityScope, type TokenAuthority } from '../auth';
import { forbidden } from '../errors';
import { describeRoute, errorBodySchema, type Security } from '../openapi';
import type { Sessions } from '../sessions';
import { parse } from '../validation';

const HEARTBEAT_MS = 15_000;

const changesQuery = z.strictObject({
  kind: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/)
    .optional(),
  /** Resume after this change (what Last-Event-ID says, for clients that cannot set headers). */
  after: z.coerce.number().int().nonnegative().optional(),
});
const lastEventId = z.coerce.number().int().nonnegative();

describeRoute({
  method: 'get',
  path: '/sessions/changes',
  operationId: 'streamSessionChanges',
  summary:
    'Server-sent events: `ready` (id = where the stream starts), then `change` (id = its place in the ' +
    'log, data = the session change) for every state change of a session the caller may see; `reset` ' +
    'when a resumed stream cannot be replayed',
  tags: ['sessions'],
  security: [...roles.filter((r) => r !== 'device'), 'operator'] as Security[],
  query: changesQuery,
  headers: z.object({ 'Last-Event-ID': lastEventId.optional() }),
  responses: {
    200: {
      description: 'the stream: `change` events carry a session change, `ready` and `reset` an empty object',
      // One server-sent event; `data` is JSON text (a session change for `change` events).
      schema: z.object({
        event: z.enum(['ready', 'change', 'reset']),
        id: z.string().regex(/^\d+$/),
        data: z
          .string()
          .describe(`JSON: ${JSON.stringify(z.toJSONSchema(sessionChangeSchema).required)} for change`),
      }),
      mediaType: 'text/event-stream',
    },
    403: { description: 'this token cannot view sessions', schema: errorBodySchema },
    404: { description: 'no-kind', schema: errorBodySchema },
  },
});

export function changeRoutes(sessions: Sessions, authority: TokenAuthority, feed: ChangeFeed): Router {
  const router = Router();
  router.get('/sessions/changes', authenticate(authority), (req, res) => {
    const { kind, after: afterQuery } = parse(changesQuery, req.query, 'query');
    const header = req.get('last-event-id');
    const after = header === undefined ? afterQuery : parse(lastEventId, header, 'header.Last-Event-ID');
    if (kind !== undefined) sessions.kind(kind);
    if (visibilityScope(req.principal!, sessions.kinds) === undefined)
      throw forbidden('this token cannot view sessions');
    const visible = canView(req.principal!, sessions.kinds);

    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      // Proxies (nginx) must pass events on as they come.
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    const send = (item: FeedItem) => {
      if ('end' in item) return res.end();
      if ('reset' in item) return res.write(`id: ${item.reset.newest}\nevent: reset\ndata: {}\n\n`);
      // Gives even a client that sees no change a place to resume from.
      if ('position' in item) return res.write(`id: ${item.position}\nevent: ready\ndata: {}\n\n`);
      const c = item.change;
      if ((kind !== undefined && c.kind !== kind) || !visible(c)) return;
      res.write(`id: ${c.seq}\nevent: change\ndata: ${JSON.stringify(c)}\n\n`);
    };
    const unsubscribe = feed.subscribe(after, send);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    res.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
  });
  return router;
}
