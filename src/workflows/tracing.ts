// Workflow interceptors for traces: the SDK's OpenTelemetry ones, but only for a session whose caller
// traced it (its start, signal or update carried the trace header; tracing is configured in the
// processes, not in the bundle). Untraced sessions get no trace headers in their history (headers are not
// encrypted by the payload codec), and never load the OpenTelemetry modules: each workflow evaluates the
// modules it loads in its own scope, and those ~100 modules per cached session cost the worker its heap.
// Whether a session is traced is decided from history only (execute, signals, accepted updates), never
// from queries or validators, which do not replay.
import type { WorkflowInterceptors } from '@temporalio/workflow';

type Otel = typeof import('@temporalio/interceptors-opentelemetry/lib/workflow');

/** The header the SDK's OpenTelemetry interceptors carry the span context in. */
const TRACE_HEADER = '_tracer-data';

export const interceptors = (): WorkflowInterceptors => {
  let traced = false;
  let otel: ReturnType<typeof load> | undefined;
  const load = () => {
    // Loaded on first use only (see above); webpack bundles it, this evaluates it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lib = require('@temporalio/interceptors-opentelemetry/lib/workflow') as Otel;
    return {
      inbound: new lib.OpenTelemetryInboundInterceptor(),
      outbound: new lib.OpenTelemetryOutboundInterceptor(),
      internals: new lib.OpenTelemetryInternalsInterceptor(),
    };
  };
  const o = () => (otel ??= load());
  const carries = (headers: Record<string, unknown>) => Object.hasOwn(headers, TRACE_HEADER);
  const marks = (headers: Record<string, unknown>) => (traced ||= carries(headers));
  return {
    inbound: [
      {
        execute: (input, next) => (marks(input.headers) ? o().inbound.execute(input, next) : next(input)),
        handleSignal: (input, next) =>
          marks(input.headers) ? o().inbound.handleSignal(input, next) : next(input),
        handleUpdate: (input, next) =>
          marks(input.headers) ? o().inbound.handleUpdate(input, next) : next(input),
        validateUpdate: (input, next) =>
          carries(input.headers) ? o().inbound.validateUpdate(input, next) : next(input),
        handleQuery: (input, next) =>
          carries(input.headers) ? o().inbound.handleQuery(input, next) : next(input),
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) =>
          traced ? o().outbound.scheduleActivity(input, next) : next(input),
        scheduleLocalActivity: (input, next) =>
          traced ? o().outbound.scheduleLocalActivity(input, next) : next(input),
        startChildWorkflowExecution: (input, next) =>
          traced ? o().outbound.startChildWorkflowExecution(input, next) : next(input),
        continueAsNew: (input, next) => (traced ? o().outbound.continueAsNew(input, next) : next(input)),
        signalWorkflow: (input, next) => (traced ? o().outbound.signalWorkflow(input, next) : next(input)),
        getLogAttributes: (input, next) =>
          traced ? o().outbound.getLogAttributes(input, next) : next(input),
      },
    ],
    internals: [
      {
        dispose: (input, next) => {
          // The SDK's dispose flushes spans on its own time; nothing here waits for it.
          if (traced) void o().internals.dispose(input, next);
          else next(input);
        },
      },
    ],
  };
};
