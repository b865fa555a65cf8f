// Workflow inbound interceptor (bundled with every session workflow, see src/worker/workflow-bundle.ts):
// the strict codec turns an unencrypted payload into a marker (src/shared/refused-payload.ts), and this
// keeps the marker from acting. A signal carrying one is dropped with a warning, so the session goes on
// serving genuine requests; an update or query is refused, a start fails the workflow. Refused updates
// and dropped signals leave no commands, so replay is unaffected.
import { ApplicationFailure, log, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { isRefusedPayload } from '../shared/refused-payload';

const refusal = (what: string) =>
  ApplicationFailure.create({
    type: 'UnencryptedPayload',
    message: `${what} carries an unencrypted payload, which this deployment refuses`,
    nonRetryable: true,
  });
const refused = (args: unknown[]) => args.some(isRefusedPayload);

// Not `async`: an async wrapper would run the handler (and complete an update) microtasks later than the
// workflow's own code expects, reordering commands against histories recorded without it.
export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      execute(input, next) {
        if (refused(input.args)) return Promise.reject(refusal('the workflow start'));
        return next(input);
      },
      handleSignal(input, next) {
        if (!refused(input.args)) return next(input);
        log.warn('signal with an unencrypted payload dropped', { signal: input.signalName });
        return Promise.resolve();
      },
      validateUpdate(input, next) {
        if (refused(input.args)) throw refusal(`update '${input.name}'`);
        next(input);
      },
      handleUpdate(input, next) {
        if (refused(input.args)) return Promise.reject(refusal(`update '${input.name}'`));
        return next(input);
      },
      handleQuery(input, next) {
        if (refused(input.args)) return Promise.reject(refusal(`query '${input.queryName}'`));
        return next(input);
      },
    },
  ],
});
