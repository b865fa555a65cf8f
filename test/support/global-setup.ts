// Bundles the workflows once for the whole run (bundling per file is the slow part; sdk-typescript#728)
// and hands the bundles to every test file through environment variables: the plain one for real
// servers, and one for the Java time-skipping server that leaves out search-attribute upserts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowBundleOptions, workflowInterceptorModules } from '../../src/worker/workflow-bundle';

export default async function globalSetup(): Promise<void> {
  const workflowsPath = resolve(__dirname, '../../src/workflows/index.ts');
  const dir = resolve(__dirname, '../../test-artifacts');
  mkdirSync(dir, { recursive: true });
  const [plain, timeSkipping] = await Promise.all([
    bundleWorkflowCode(workflowBundleOptions(workflowsPath)),
    bundleWorkflowCode(
      workflowBundleOptions(workflowsPath, [
        ...workflowInterceptorModules,
        resolve(__dirname, 'no-search-attributes.ts'),
      ]),
    ),
  ]);
  const write = (name: string, code: string) => {
    const path = resolve(dir, name);
    writeFileSync(path, code);
    return path;
  };
  process.env.SESSIONFLOW_TEST_WORKFLOW_BUNDLE = write('workflow-bundle.js', plain.code);
  process.env.SESSIONFLOW_TEST_TIME_SKIPPING_BUNDLE = write(
    'workflow-bundle-time-skipping.js',
    timeSkipping.code,
  );
}
