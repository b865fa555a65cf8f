// A rolling deploy while sessions run, on a real dev server with Worker Deployment Versioning as
// createWorker configures it (temporal.deployment): sessions opened on version 1 (no reminder step), a
// version 2 worker that adds one behind patched() becomes current, version 1 workers stop. The open sessions
// finish on version 2 the way version 1 began them; new ones get the reminder; nothing is non-deterministic.
// Their histories then show what replay catches: the same change without patched() breaks a running session.
import '../support/quiet-runtime';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { Context } from '@temporalio/activity';
import { temporal } from '@temporalio/proto';
import type { RunningDevServer } from '../../src/dev/temporal-dev-server';
import { deploymentOptions } from '../../src/worker/create-worker';
import { bundlerLogger } from '../../src/worker/workflow-bundle';
import { eventually } from '../support/eventually';
import { replayHistoriesUnder, writeHistoryFile } from '../support/history-files';
import { testConfig } from '../support/test-config';
import { startTestTemporalServer } from '../support/test-server';
import { closedSignal, type ReminderBuild, type ReminderInput } from './fixtures/reminder-session';

const DEPLOYMENT = 'sessionflow-rolling';
const TASK_QUEUE = 'rolling-deploy';
// Long enough that nothing escalates unasked on a busy machine; the escalating session sets its own.
const input: ReminderInput = { remindAfterMs: 1500, escalateAfterMs: 120_000 };
/** Past the deploy, however slow the machine: its escalation fires on version 2. */
const ESCALATE_AFTER_DEPLOY_MS = 15_000;

let server: RunningDevServer;
let connection: Connection;
let client: Client;
const bundles = new Map<ReminderBuild, { code: string }>();
/** What each session was told, and by which build's worker. */
const told: { workflowId: string; what: string; build: string }[] = [];
const workers = new Set<{ stop(): Promise<void> }>();

beforeAll(async () => {
  server = await startTestTemporalServer({ uiPort: false });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: server.namespace });
  for (const build of ['v1', 'v2', 'v2-unpatched'] as const) {
    const workflowsPath = resolve(__dirname, `fixtures/reminder-${build}.ts`);
    bundles.set(build, await bundleWorkflowCode({ workflowsPath, logger: bundlerLogger }));
  }
}, 180_000);

afterAll(async () => {
  for (const worker of workers) await worker.stop();
  await connection?.close();
  await server?.stop();
});

/** A worker of `build`, joined to the deployment as createWorker joins it. */
async function startWorker(build: 'v1' | 'v2') {
  const config = testConfig({ address: server.address, taskQueue: TASK_QUEUE, homes: [] });
  config.temporal.deployment = { name: DEPLOYMENT, buildId: build };
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const record = (what: string) => {
    told.push({ workflowId: Context.current().info.workflowExecution?.workflowId ?? '', what, build });
    return Promise.resolve();
  };
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: server.namespace,
    taskQueue: TASK_QUEUE,
    workflowBundle: bundles.get(build),
    activities: { notify: record, remind: record },
    ...deploymentOptions(config),
  });
  const running = worker.run();
  const handle = {
    async stop() {
      workers.delete(handle);
      worker.shutdown();
      await running;
      await nativeConnection.close();
    },
  };
  workers.add(handle);
  return handle;
}

/** Makes `build` the deployment's current version (once its worker has polled, so the version exists). */
async function makeCurrent(build: string) {
  await eventually(
    () =>
      connection.workflowService
        .setWorkerDeploymentCurrentVersion({
          namespace: server.namespace,
          deploymentName: DEPLOYMENT,
          buildId: build,
        })
        .then(
          () => true,
          () => false,
        ),
    (ok) => ok,
    30_000,
  );
}

const start = (workflowId: string, args: ReminderInput = input) =>
  client.workflow.start('reminderSession', { workflowId, taskQueue: TASK_QUEUE, args: [args] });
const events = async (h: WorkflowHandle) => (await h.fetchHistory()).events ?? [];
const timerStarted = async (h: WorkflowHandle) =>
  (await events(h)).some((e) => e.timerStartedEventAttributes);
const completedActivities = async (h: WorkflowHandle) =>
  (await events(h)).filter((e) => e.activityTaskCompletedEventAttributes).length;
const toldTo = (workflowId: string) => told.filter((t) => t.workflowId === workflowId);

test('When version 2 adds a reminder behind patched() and version 1 workers stop mid-session, then open sessions finish as begun, new ones get the reminder, and nothing is non-deterministic', async () => {
  const v1 = await startWorker('v1');
  await makeCurrent('v1');
  // Opened on version 1: waiting for the door to close, or for the escalation.
  const closedEarly = await start('opened-on-v1-closed-after-deploy');
  const escalates = await start('opened-on-v1-escalates-after-deploy', {
    ...input,
    escalateAfterMs: ESCALATE_AFTER_DEPLOY_MS,
  });
  for (const h of [closedEarly, escalates]) await eventually(() => timerStarted(h), Boolean);

  const v2 = await startWorker('v2');
  await makeCurrent('v2');
  await v1.stop();

  const fresh = await start('opened-on-v2');
  await closedEarly.signal(closedSignal);
  // The new session is reminded, then closes; the old one escalates on version 2 as version 1 would.
  await eventually(
    () => completedActivities(fresh),
    (n) => n >= 2,
    30_000,
  );
  await fresh.signal(closedSignal);
  await eventually(
    () => completedActivities(escalates),
    (n) => n >= 2,
    30_000,
  );
  await escalates.signal(closedSignal);

  expect(await closedEarly.result()).toEqual(['opened', 'closed']);
  expect(await escalates.result()).toEqual(['opened', 'escalated', 'closed']);
  expect(await fresh.result()).toEqual(['opened', 'reminder', 'closed']);
  await v2.stop();

  // Version 1 began the old sessions, version 2 finished them (auto-upgrade); the new one ran on version 2.
  expect(toldTo(closedEarly.workflowId).map((t) => t.build)).toEqual(['v1', 'v2']);
  expect(toldTo(escalates.workflowId).map((t) => t.build)).toEqual(['v1', 'v2', 'v2']);
  expect(toldTo(fresh.workflowId).map((t) => t.build)).toEqual(['v2', 'v2', 'v2']);
  for (const h of [closedEarly, escalates, fresh]) {
    const info = (await h.describe()).raw.workflowExecutionInfo?.versioningInfo;
    expect({ id: h.workflowId, behavior: info?.behavior, buildId: info?.deploymentVersion?.buildId }).toEqual(
      {
        id: h.workflowId,
        behavior: temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE,
        buildId: 'v2',
      },
    );
    // Every workflow task failure (non-determinism among them) is recorded in the session's history.
    expect((await events(h)).filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
  }

  // The same sessions' histories, replayed as the replay test replays recorded ones: version 2 replays
  // them all; the reminder added without patched() breaks the session that had reached its escalation.
  const dir = mkdtempSync(join(tmpdir(), 'sessionflow-rolling-'));
  try {
    writeHistoryFile(join(dir, 'reminder/v1/closed-after-deploy.json'), await closedEarly.fetchHistory());
    writeHistoryFile(join(dir, 'reminder/v1/escalated-after-deploy.json'), await escalates.fetchHistory());
    const patchedReplay = await replayHistoriesUnder(dir, { workflowBundle: bundles.get('v2') });
    expect(patchedReplay.failures).toEqual([]);
    expect(patchedReplay.replayed).toHaveLength(2);
    const careless = await replayHistoriesUnder(dir, { workflowBundle: bundles.get('v2-unpatched') });
    expect(careless.failures).toEqual([
      {
        history: 'reminder/v1/escalated-after-deploy.json',
        error: expect.stringMatching(/^DeterminismViolationError: /),
      },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
