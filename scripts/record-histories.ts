// `npm run histories:record -- <release>`: runs every registered kind's history scenarios
// (scripts/history-scenarios/<kind>.ts) on a real dev server with a real worker and the API, and saves each
// session's history as test/workflows/histories/<kind>/<release>/<name>.json (every run of the chain when it
// continued as new: <name>.run-<n>.json before the last). test/workflows/replay.test.ts replays them all
// against the current workflows. Record a release after every change to a workflow; keep the older ones.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { sessionKinds } from '../src/config/kinds';
import { findTemporalBinary } from '../src/dev/temporal-dev-server';
import { workflowBundleOptions } from '../src/worker/workflow-bundle';
import { idSchema, sessionId } from '../src/shared/session-kind';
import { writeHistoryFile } from '../test/support/history-files';
import { eventually, http, startLocalStack, type LocalStack } from '../test/support/local-stack';
import { operatorToken } from '../test/support/test-config';
import type { KindScenarios, ScenarioContext } from './history-scenarios/scenario';

/** The checkout (this file runs as dist-scripts/scripts/record-histories.js). */
const ROOT = resolve(__dirname, '../..');
const HISTORIES = resolve(ROOT, 'test/workflows/histories');
const LOCAL_CLI = resolve(ROOT, '.tools/bin/temporal');

function scenariosOf(kind: string): KindScenarios {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(`./history-scenarios/${kind}`) as { scenarios: KindScenarios }).scenarios;
  } catch (err) {
    throw new Error(`kind '${kind}' has no history scenarios: add scripts/history-scenarios/${kind}.ts`, {
      cause: err,
    });
  }
}

/**
 * Nothing in flight: no activity and no workflow task pending (or the run is closed). A run continued as
 * new a moment ago may show no pending task before its first one is scheduled: it is settled once that
 * task has completed (a history of its started event alone does not replay).
 */
async function settled(stack: LocalStack, workflowId: string): Promise<void> {
  await eventually(
    () => stack.client.workflow.getHandle(workflowId).describe(),
    (d) =>
      d.status.name !== 'RUNNING' ||
      (!d.raw.pendingWorkflowTask && !d.raw.pendingActivities?.length && d.historyLength >= 4),
  );
}

/** The runs of the execution chain, first to last. */
async function runsOf(stack: LocalStack, workflowId: string) {
  const first = (await stack.client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo
    ?.firstRunId;
  const runs = [];
  for (let runId = first ?? undefined; runId;) {
    const history = await stack.client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.push(history);
    const last = history.events?.at(-1);
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

async function main() {
  const release = idSchema.safeParse(process.argv[2]);
  if (!release.success)
    throw new Error(
      'name the release the histories belong to: npm run histories:record -- <release> (e.g. 2026-12-read-model)',
    );
  const kinds = sessionKinds().map((kind) => ({ kind, ...scenariosOf(kind.name) }));
  const homes = Object.assign({}, ...kinds.map((k) => k.homes ?? {})) as Record<string, object>;
  const overrides: Record<string, unknown> = {};
  for (const { kind, settings } of kinds)
    if (settings && kind.settings) overrides[kind.settings.section] = settings;

  // The workflows as the source has them now, bundled as the worker bundles them: with its interceptor
  // modules (without them no session publishes its status, and the door scenarios wait for it in vain).
  // The compiled copies beside this file, so the workflows and the interceptors share their modules.
  const { code } = await bundleWorkflowCode(workflowBundleOptions(require.resolve('../src/workflows')));
  const bundlePath = resolve(__dirname, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);
  process.env.SESSIONFLOW_TEST_WORKFLOW_BUNDLE = bundlePath;

  const stack = await startLocalStack({
    homes: Object.keys(homes),
    homeOverrides: homes as Record<string, Record<string, unknown>>,
    overrides,
    // The project's CLI (the dev server looks for it relative to its own compiled file), else PATH.
    server: { binary: existsSync(LOCAL_CLI) ? LOCAL_CLI : findTemporalBinary() },
    // As `npm start` runs: events open sessions with an eager start, the opening in the input.
    apiInWorkerProcess: true,
  });
  const ctx: ScenarioContext = {
    api: (method, path, opts = {}) => http(stack.api.url, method, path, opts),
    client: stack.client,
    config: stack.config,
    async until(what, check, timeoutMs = 30_000) {
      await eventually(check, (ok) => ok, timeoutMs).catch(() => {
        throw new Error(`timed out waiting for ${what}`);
      });
    },
  };
  try {
    for (const { kind, scenarios } of kinds) {
      const dir = resolve(HISTORIES, kind.name, release.data);
      rmSync(dir, { recursive: true, force: true });
      for (const scenario of scenarios) {
        const key = await scenario.run(ctx);
        const workflowId = sessionId(kind, key);
        await settled(stack, workflowId);
        const runs = await runsOf(stack, workflowId);
        const { body } = await ctx.api('GET', `/sessions/${kind.name}/${key}`, { token: operatorToken });
        if (body?.state !== scenario.state)
          throw new Error(`${kind.name}/${scenario.name}: state ${body?.state}, expected ${scenario.state}`);
        runs.forEach((history, i) => {
          const name = i === runs.length - 1 ? scenario.name : `${scenario.name}.run-${i + 1}`;
          writeHistoryFile(resolve(dir, `${name}.json`), history);
        });
        process.stdout.write(
          `${kind.name}/${release.data}/${scenario.name}: ${scenario.state}, ${runs.length} run(s), ${runs.reduce((n, r) => n + (r.events?.length ?? 0), 0)} events\n`,
        );
      }
    }
  } finally {
    await stack.stop();
    rmSync(bundlePath, { force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
