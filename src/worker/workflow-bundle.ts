// The workflows bundled once, at build time (`npm run build` runs this file): a worker then starts in a
// moment instead of running webpack on every start (seconds on a small machine, paid again by every
// restart of a crashed or redeployed worker, while its sessions wait).
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';
import { runMain } from '../config/run-main';
import { registeredKinds } from '../shared/session-kinds';

/** Where the build puts the bundle: next to the compiled workflows it was made from. */
export const PREBUILT_BUNDLE = resolve(__dirname, '../workflow-bundle.js');

/**
 * Bundled with the workflows wherever they are bundled: keeps a session's clock from reading earlier than a
 * timer it has seen fire (timer-clock.ts), skips the framework's patch markers for sessions that began
 * under them (settled-patches.ts), runs the sessions' end-of-activation work (their read-model
 * publications), keeps refused (unencrypted) payloads from acting, and makes workflow and
 * activity-scheduling spans (exported only when tracing is configured; tracing.ts).
 */
export const workflowInterceptorModules = [
  require.resolve('../workflows/timer-clock'),
  require.resolve('../workflows/settled-patches'),
  require.resolve('../workflows/activation-end'),
  require.resolve('../workflows/refuse-unencrypted'),
  require.resolve('../workflows/tracing'),
];

/**
 * The declarations workflows import (each registered kind's, and the shared session shapes), evaluated
 * once per worker thread instead of once per workflow: a workflow's modules are otherwise evaluated anew
 * for each session, and these (zod schemas the API validates with) were half the worker's CPU for a short
 * session (docs/performance.md). They only define: no workflow touches a schema, and nothing in them holds
 * per-session state (the SDK deep-freezes them, so a write would throw rather than leak).
 */
export function preloadedDeclarations(workflowsPath: string): string[] {
  const shared = resolve(dirname(workflowsPath), '../shared');
  return [...registeredKinds, 'session-change', 'search-attributes'].map((name) => resolve(shared, name));
}

/** What the bundler says: its warnings and errors, not webpack's progress. */
export const bundlerLogger = {
  trace() {},
  debug() {},
  info() {},
  warn: console.warn,
  error: console.error,
  log() {},
};

/** How the workflows are bundled, wherever they are (the build, the test setup, a worker without a build). */
export function workflowBundleOptions(
  workflowsPath: string,
  interceptorModules = workflowInterceptorModules,
): BundleOptions {
  return {
    workflowsPath,
    workflowInterceptorModules: interceptorModules,
    preloadModules: preloadedDeclarations(workflowsPath),
    logger: bundlerLogger,
  };
}

/** The prebuilt bundle, when this is a build that has one. */
export function prebuiltWorkflowBundle(): { codePath: string } | undefined {
  return existsSync(PREBUILT_BUNDLE) ? { codePath: PREBUILT_BUNDLE } : undefined;
}

async function main() {
  const { code } = await bundleWorkflowCode(workflowBundleOptions(require.resolve('../workflows')));
  writeFileSync(PREBUILT_BUNDLE, code);
  process.stdout.write(`workflow bundle: ${PREBUILT_BUNDLE} (${(code.length / 1e6).toFixed(1)} MB)\n`);
}

if (require.main === module) runMain('workflow-bundle', main);
