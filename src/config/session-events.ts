// The one way an event reaches a session, used by the API, gateways and ingress alike: an opening event
// starts the session when none is running (signal-with-start, input from configuration; or an eager start
// beside an in-process worker) and joins it otherwise; any other event only joins a running session.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { CustomerId, HomeId, SessionKey, SessionKind, SessionState } from '../shared/search-attributes';
import {
  sessionId,
  withSettledPatches,
  type AnySessionKind,
  type OpeningEvent,
} from '../shared/session-kind';
import { hardwareTaskQueue, type Config } from './config';

/**
 * Search attributes a session has from its very start, so access checks and lists see who it belongs to
 * before its first workflow task runs (the workflow keeps them current from then on).
 */
export function startSearchAttributes(
  kind: AnySessionKind,
  key: string,
  owner: { customerId?: string } = {},
): SearchAttributePair[] {
  const homeId = kind.homeOf?.(key);
  return [
    { key: SessionKind, value: kind.name },
    { key: SessionKey, value: key },
    { key: SessionState, value: kind.model.decl.initial },
    ...(homeId === undefined ? [] : [{ key: HomeId, value: homeId }]),
    ...(owner.customerId === undefined ? [] : [{ key: CustomerId, value: owner.customerId }]),
  ];
}

export interface SentEvent {
  handle: WorkflowHandle;
  /** The run the event reached (the one it opened, or the one it joined). */
  runId: string | undefined;
  /** It opened the session with an eager start: the worker in this process ran its first task. */
  eager?: boolean;
}

export interface SendOptions {
  /**
   * The client shares its `NativeConnection` with a worker of the sessions' task queue in this process,
   * and the caller expects no session to run: open with an eager start. The server then hands the first
   * workflow task back in its reply, to that worker, instead of queueing it for a poll (one round trip
   * less before the session's first action). The event travels in the input (`OpeningEvent`); if a
   * session runs after all, the event joins it by signal-with-start as usual.
   */
  eager?: boolean;
}

export async function sendSessionEvent(
  client: Client,
  config: Config,
  kind: AnySessionKind,
  key: string,
  eventName: string,
  body: unknown,
  opts: SendOptions = {},
): Promise<SentEvent> {
  const event = kind.events[eventName];
  if (!event) throw new Error(`${kind.name} has no event '${eventName}'`);
  const workflowId = sessionId(kind, key);
  if (!event.opens || !kind.startInput) {
    const handle = client.workflow.getHandle(workflowId);
    await handle.signal(event.signal, body);
    return { handle, runId: undefined };
  }
  const homeId = kind.homeOf?.(key);
  const input = withSettledPatches(
    kind.startInput(key, {
      settings: config.kinds[kind.name],
      home: homeId === undefined ? undefined : config.homes[homeId],
      hardwareTaskQueue: homeId === undefined ? undefined : hardwareTaskQueue(config, homeId),
    }),
  );
  const start = {
    workflowId,
    taskQueue: config.temporal.taskQueue,
    typedSearchAttributes: startSearchAttributes(kind, key),
  };
  if (opts.eager) {
    const opening: OpeningEvent = { signal: event.signal.name, body };
    try {
      const handle = await client.workflow.start(kind.workflowType, {
        ...start,
        args: [{ ...(input as object), opening }],
        requestEagerStart: true,
      });
      return { handle, runId: handle.firstExecutionRunId, eager: handle.eagerlyStarted };
    } catch (err) {
      // A session runs after all: the event joins it (or opens the next one, if it just closed).
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  const handle = await client.workflow.signalWithStart(kind.workflowType, {
    ...start,
    args: [input],
    signal: event.signal,
    signalArgs: [body],
  });
  return { handle, runId: handle.signaledRunId };
}

/**
 * Sends an event, or answers undefined when it only joins (a door closing) and no session runs to join:
 * nothing to do then, and nothing to retry.
 */
export function sendSessionEventIfRunning(
  ...args: Parameters<typeof sendSessionEvent>
): Promise<SentEvent | undefined> {
  return sendSessionEvent(...args).catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  });
}
