// Bundles the workflows once for the whole run (bundling per file is the slow part; sdk-typescript#728)
// and hands the bundle to every test file through an environment variable.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

export default async function globalSetup(): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: resolve(__dirname, '../../src/workflows/index.ts'),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  const dir = resolve(__dirname, '../../test-artifacts');
  mkdirSync(dir, { recursive: true });
  const codePath = resolve(dir, 'workflow-bundle.js');
  writeFileSync(codePath, code);
  process.env.SESSIONFLOW_TEST_WORKFLOW_BUNDLE = codePath;
}
