// Workflow interceptors for traces: the SDK's OpenTelemetry ones, but only for a session whose caller
// traced it (its start, signal or update carried the trace header; tracing is configured in the
// processes, not in the bundle). Untraced sessions get no trace headers in their history: headers are
// not encrypted by the payload codec, and spans nobody exports would cost every task.
// Whether a session is traced is decided from history only (execute, signals, accepted updates), never
// from queries or validators, which do not replay.
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { WorkflowInterceptors } from '@temporalio/workflow';

/** The header the SDK's OpenTelemetry interceptors carry the span context in. */
const TRACE_HEADER = '_tracer-data';

export const interceptors = (): WorkflowInterceptors => {
  let traced = false;
  const inbound = new OpenTelemetryInboundInterceptor();
  const outbound = new OpenTelemetryOutboundInterceptor();
  const internals = new OpenTelemetryInternalsInterceptor();
  const carries = (headers: Record<string, unknown>) => Object.hasOwn(headers, TRACE_HEADER);
  const marks = (headers: Record<string, unknown>) => (traced ||= carries(headers));
  return {
    inbound: [
      {
        execute: (input, next) => (marks(input.headers) ? inbound.execute(input, next) : next(input)),
        handleSignal: (input, next) =>
          marks(input.headers) ? inbound.handleSignal(input, next) : next(input),
        handleUpdate: (input, next) =>
          marks(input.headers) ? inbound.handleUpdate(input, next) : next(input),
        validateUpdate: (input, next) =>
          carries(input.headers) ? inbound.validateUpdate(input, next) : next(input),
        handleQuery: (input, next) =>
          carries(input.headers) ? inbound.handleQuery(input, next) : next(input),
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => (traced ? outbound.scheduleActivity(input, next) : next(input)),
        scheduleLocalActivity: (input, next) =>
          traced ? outbound.scheduleLocalActivity(input, next) : next(input),
        startChildWorkflowExecution: (input, next) =>
          traced ? outbound.startChildWorkflowExecution(input, next) : next(input),
        continueAsNew: (input, next) => (traced ? outbound.continueAsNew(input, next) : next(input)),
        signalWorkflow: (input, next) => (traced ? outbound.signalWorkflow(input, next) : next(input)),
        getLogAttributes: (input, next) => (traced ? outbound.getLogAttributes(input, next) : next(input)),
      },
    ],
    internals: [
      {
        dispose: (input, next) => {
          // The SDK's dispose flushes spans on its own time; nothing here waits for it.
          if (traced) void internals.dispose(input, next);
          else next(input);
        },
      },
    ],
  };
};
