const bundle = (variable: string): { codePath: string } => {
  const codePath = process.env[variable];
  if (!codePath) throw new Error(`${variable} is not set: run through jest (globalSetup)`);
  return { codePath };
};

/** The workflows as the worker runs them, for real servers. */
export const testWorkflowBundle = () => bundle('SESSIONFLOW_TEST_WORKFLOW_BUNDLE');

/** The same for the Java time-skipping server, which has no custom search attributes. */
export const timeSkippingWorkflowBundle = () => bundle('SESSIONFLOW_TEST_TIME_SKIPPING_BUNDLE');
