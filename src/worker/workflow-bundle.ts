// The workflows bundled once, at build time (`npm run build` runs this file): a worker then starts in a
// moment instead of running webpack on every start (seconds on a small machine, paid again by every
// restart of a crashed or redeployed worker, while its sessions wait).
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { runMain } from '../config/run-main';

/** Where the build puts the bundle: next to the compiled workflows it was made from. */
export const PREBUILT_BUNDLE = resolve(__dirname, '../workflow-bundle.js');

/**
 * Bundled with the workflows wherever they are bundled: keeps refused (unencrypted) payloads from acting,
 * and makes workflow and activity-scheduling spans (exported only when tracing is configured; tracing.ts).
 */
export const workflowInterceptorModules = [
  require.resolve('../workflows/refuse-unencrypted'),
  require.resolve('../workflows/tracing'),
];

/** The prebuilt bundle, when this is a build that has one. */
export function prebuiltWorkflowBundle(): { codePath: string } | undefined {
  return existsSync(PREBUILT_BUNDLE) ? { codePath: PREBUILT_BUNDLE } : undefined;
}

async function main() {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules,
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  writeFileSync(PREBUILT_BUNDLE, code);
  process.stdout.write(`workflow bundle: ${PREBUILT_BUNDLE} (${(code.length / 1e6).toFixed(1)} MB)\n`);
}

if (require.main === module) runMain('workflow-bundle', main);
