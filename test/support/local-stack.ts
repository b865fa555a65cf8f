// A real stack for HTTP tests: Temporal dev server (child process; or the production shape's server on
// PostgreSQL with SESSIONFLOW_TEST_SERVER=postgres), an in-process worker with the real activities, and
// the API on port 0. Torn down in afterAll.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { dataConverterFor } from '../../src/codec/aes-gcm-codec';
import { listen, startWebServer, stopWebServer, type RunningWebServer } from '../../src/api/server';
import { createGatewayApp } from '../../src/gateway/http';
import { createTemporalGateway, type TemporalGateway } from '../../src/api/temporal-gateway';
import type { Config } from '../../src/config/config';
import type { DevServerOptions, RunningDevServer } from '../../src/dev/temporal-dev-server';
import { sessionServices, workerTuning } from '../../src/worker/create-worker';
import { buildActivityDeps, type BuiltActivityDeps } from '../../src/worker/activity-deps';
import { testLogger } from './silent-logger';
import { eventually } from './eventually';
import { testConfig } from './test-config';
import { startTestTemporalServer } from './test-server';
import { WebhookSink } from './webhook-sink';
import { testWorkflowBundle } from './workflow-bundle';

export interface LocalStack {
  server: RunningDevServer;
  config: Config;
  sink: WebhookSink;
  deps: BuiltActivityDeps;
  api: RunningWebServer;
  temporal: TemporalGateway;
  /** A client for assertions (visibility, describe, history), with the same codec as the API. */
  client: Client;
  stop(): Promise<void>;
}

export async function startLocalStack(opts: {
  homes: string[];
  homeOverrides?: Record<string, Record<string, unknown>>;
  cancelWindowSeconds?: number;
  webhookTimeoutMs?: number;
  /** Top-level config sections to replace (e.g. `pizza`). */
  overrides?: Record<string, unknown>;
  server?: DevServerOptions;
  worker?: boolean;
  /**
   * Run the embedded gateway for real: its detectors signal Temporal, and its simulated-board controls
   * listen on a free port that /ui presses through (`config.ui.simulatorUrl`).
   */
  simulator?: boolean;
  /** The API shares the worker's connection, as in `npm start`: openings start eagerly. */
  apiInWorkerProcess?: boolean;
}): Promise<LocalStack> {
  const server = await startTestTemporalServer({ uiPort: false, ...opts.server });
  const sink = await new WebhookSink().start();
  const base = testConfig({
    address: server.address,
    taskQueue: `sessionflow-test-${randomUUID()}`,
    homes: opts.homes,
    webhookUrl: sink.url,
    cancelWindowSeconds: opts.cancelWindowSeconds,
    webhookTimeoutMs: opts.webhookTimeoutMs,
    overrides: opts.overrides,
  });
  for (const [homeId, extra] of Object.entries(opts.homeOverrides ?? {}))
    Object.assign(base.homes[homeId], extra);
  const config = base;
  if (server.uiUrl) config.ui.temporalWebUrl = server.uiUrl;
  const nativeConnection =
    opts.worker !== false ? await NativeConnection.connect({ address: server.address }) : undefined;
  // Beside the worker as the launcher runs them (eager openings), or on a connection of its own.
  const sharesWorker = opts.apiInWorkerProcess === true && nativeConnection !== undefined;
  const gatewayConnection =
    opts.simulator && !sharesWorker ? await Connection.connect({ address: server.address }) : undefined;
  const deps = buildActivityDeps(
    config,
    testLogger,
    opts.simulator
      ? {
          // With our codec, as the launcher's embedded gateway: a strict worker refuses plaintext input.
          client: new Client({
            connection: sharesWorker ? nativeConnection : gatewayConnection!,
            identity: 'embedded-gateway@test',
            dataConverter: dataConverterFor(config),
          }),
          eagerOpenings: sharesWorker,
        }
      : {},
  );
  let gatewayHttp: RunningWebServer | undefined;
  if (opts.simulator) {
    deps.gateway.start();
    gatewayHttp = await listen(createGatewayApp(deps.gateway, config, testLogger), 0, '127.0.0.1');
    config.ui.simulatorUrl = gatewayHttp.url;
  }

  let worker: Worker | undefined;
  let workerRun: Promise<void> | undefined;
  if (nativeConnection) {
    worker = await Worker.create({
      connection: nativeConnection,
      taskQueue: config.temporal.taskQueue,
      workflowBundle: testWorkflowBundle(),
      ...sessionServices(deps),
      dataConverter: dataConverterFor(config),
      // As the worker process runs (src/worker/create-worker.ts).
      ...workerTuning(config, { eagerStarts: sharesWorker }),
    });
    workerRun = worker.run();
    // A real server loads a new task queue's partitions lazily; the first session of a test must not
    // race that (the dev server is ready at once, so this returns on its first look there).
    await untilPolled(server.address, config.temporal.namespace, config.temporal.taskQueue);
  }
  const temporal = createTemporalGateway(config, sharesWorker ? nativeConnection : undefined);
  const api = await startWebServer({ config, temporal, logger: testLogger }, 0);
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, dataConverter: dataConverterFor(config) });

  return {
    server,
    config,
    sink,
    deps,
    api,
    temporal,
    client,
    async stop() {
      await stopWebServer(api);
      await temporal.close();
      await connection.close();
      worker?.shutdown();
      await workerRun;
      if (gatewayHttp) await stopWebServer(gatewayHttp);
      if (opts.simulator) await deps.gateway.stop();
      else deps.gateway.close();
      await gatewayConnection?.close();
      await nativeConnection?.close();
      await sink.stop();
      await server.stop();
    },
  };
}

/** Waits until the server reports a poller on the queue's workflow tasks. */
export async function untilPolled(address: string, namespace: string, taskQueue: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await eventually(
      () =>
        connection.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: taskQueue },
          taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        }),
      (r) => (r.pollers?.length ?? 0) > 0,
      30_000,
    );
  } finally {
    await connection.close();
  }
}

/** fetch with a bearer token and a JSON body. */
export async function http(
  baseUrl: string,
  method: string,
  path: string,
  opts: {
    token?: string;
    body?: unknown;
    rawBody?: string;
    contentType?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // leave as text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export { eventually } from './eventually';
