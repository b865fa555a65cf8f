// The one way an event reaches a session, used by the API, gateways and ingress alike: an opening event
// starts the session when none is running (signal-with-start, input from configuration) and joins it
// otherwise; any other event only joins a running session.
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { CustomerId, HomeId, SessionKey, SessionKind, SessionState } from '../shared/search-attributes';
import { sessionId, type AnySessionKind } from '../shared/session-kind';
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
}

export async function sendSessionEvent(
  client: Client,
  config: Config,
  kind: AnySessionKind,
  key: string,
  eventName: string,
  body: unknown,
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
  const input = kind.startInput(key, {
    settings: config.kinds[kind.name],
    home: homeId === undefined ? undefined : config.homes[homeId],
    hardwareTaskQueue: homeId === undefined ? undefined : hardwareTaskQueue(config, homeId),
  });
  const handle = await client.workflow.signalWithStart(kind.workflowType, {
    workflowId,
    taskQueue: config.temporal.taskQueue,
    args: [input],
    typedSearchAttributes: startSearchAttributes(kind, key),
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
