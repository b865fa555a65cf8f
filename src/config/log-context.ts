// What a log line is about, added to every line without each call site naming it: the HTTP request (its
// id and the session it acted on) and, inside an activity, the workflow it runs for. A session's workflow
// id is `<kind>:<key>`, so one grep for it finds its story in the API's, the worker's and the gateway's logs.
import { AsyncLocalStorage } from 'node:async_hooks';
// The SDK's own store of the running activity's context: read without the throw of Context.current().
import { asyncLocalStorage as activityContexts } from '@temporalio/activity';

export interface SessionLogFields {
  kind?: string;
  key?: string;
  workflowId?: string;
  runId?: string;
}

/** One HTTP request: its id, and the session it acted on once a route knows it. */
export interface RequestLogContext extends SessionLogFields {
  requestId: string;
  /** The request's trace, when tracing is on: logs and traces of one request find each other. */
  traceId?: string;
}

const requests = new AsyncLocalStorage<RequestLogContext>();

export function runInRequestContext<T>(ctx: RequestLogContext, fn: () => T): T {
  return requests.run(ctx, fn);
}

/** Kind and key of a session's workflow id (`<kind>:<key>`); nothing for other workflows. */
export function sessionFieldsOf(workflowId: string | undefined): { kind?: string; key?: string } {
  const m = workflowId === undefined ? null : /^([a-z][a-z0-9-]*):(.+)$/.exec(workflowId);
  return m ? { kind: m[1], key: m[2] } : {};
}

/** Records, on the current request, the session it acts on (the request log line then names it). */
export function noteSession(workflowId: string, runId?: string): void {
  const ctx = requests.getStore();
  if (!ctx) return;
  if (ctx.workflowId !== workflowId) delete ctx.runId;
  Object.assign(ctx, { workflowId, ...sessionFieldsOf(workflowId) });
  if (runId) ctx.runId = runId;
}

function activityFields(): Record<string, string> | undefined {
  const info = activityContexts.getStore()?.info;
  if (!info) return undefined; // not inside an activity
  const run = info.workflowExecution;
  if (!run) return { activityType: info.activityType };
  return {
    ...sessionFieldsOf(run.workflowId),
    workflowId: run.workflowId,
    runId: run.runId,
    activityType: info.activityType,
  };
}

/** The fields of whatever the current code runs for (pino's `mixin`). */
export function currentLogFields(): object {
  return requests.getStore() ?? activityFields() ?? {};
}
