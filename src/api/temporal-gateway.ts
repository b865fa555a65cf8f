// The API's handle on Temporal: a lazily connected client plus a deadline on every call,
// so a Temporal outage becomes a quick 503 instead of a hung request; writes pass the load-shedding gate.
import { Client, Connection, type WorkflowExecutionInfo } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { dataConverterFor } from '../codec/aes-gcm-codec';
import type { Config } from '../config/config';
import { temporalConnectionSettings } from '../config/temporal-connection';
import { clientInterceptors } from '../config/tracing';
import { WriteGate } from './write-gate';

export interface TemporalGateway {
  client: Client;
  taskQueue: string;
  /** Runs fn with the configured call deadline (or a shorter one). */
  call<T>(fn: (client: Client) => Promise<T>, timeoutMs?: number): Promise<T>;
  /** A call that changes sessions: through the write gate (429 when over capacity), then like `call`. */
  write<T>(fn: (client: Client) => Promise<T>): Promise<T>;
  writes: WriteGate;
  /** Openings may start eagerly: the client shares its connection with a worker in this process. */
  eagerStarts: boolean;
  /** Up to `limit` workflows matching a visibility query, newest first, each mapped; within the deadline. */
  list<T>(query: string, limit: number, map: (wf: WorkflowExecutionInfo) => T): Promise<T[]>;
  /** Whether the server answers at all (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The API's own connection; or, when the API runs in the worker's process (`npm start`), the worker's
 * `NativeConnection`, which it then shares but does not close, and over which it opens sessions with an
 * eager start (`sendSessionEvent`).
 */
export function createTemporalGateway(config: Config, workerConnection?: NativeConnection): TemporalGateway {
  const conn = workerConnection ?? Connection.lazy(temporalConnectionSettings(config));
  const client = new Client({
    connection: conn,
    namespace: config.temporal.namespace,
    dataConverter: dataConverterFor(config),
    interceptors: clientInterceptors(),
  });
  const { callTimeoutMs } = config.temporal;
  const call: TemporalGateway['call'] = (fn, timeoutMs = callTimeoutMs) =>
    conn.withDeadline(Date.now() + timeoutMs, () => fn(client));
  const writes = new WriteGate(config.api.writes);
  return {
    client,
    taskQueue: config.temporal.taskQueue,
    call,
    write: (fn) => writes.run(() => call(fn)),
    writes,
    eagerStarts: workerConnection !== undefined,
    list: (query, limit, map) =>
      call(async (c) => {
        const found: ReturnType<typeof map>[] = [];
        for await (const wf of c.workflow.list({ query, pageSize: limit })) {
          found.push(map(wf));
          if (found.length >= limit) break;
        }
        return found;
      }),
    ping: async () => {
      await conn.withDeadline(Date.now() + callTimeoutMs, () => conn.workflowService.getSystemInfo({}));
    },
    close: () => (workerConnection ? Promise.resolve() : conn.close()),
  };
}
