export function testWorkflowBundle(): { codePath: string } {
  const codePath = process.env.SESSIONFLOW_TEST_WORKFLOW_BUNDLE;
  if (!codePath)
    throw new Error('SESSIONFLOW_TEST_WORKFLOW_BUNDLE is not set: run through jest (globalSetup)');
  return { codePath };
}
