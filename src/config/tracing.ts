// OpenTelemetry traces, off unless an OTLP/HTTP endpoint is configured: one trace per HTTP request, through
// the Temporal client's start/signal/update (the SDK's client interceptor carries the context in headers)
// to the workflow and its activities on the worker and the gateway (the SDK's workflow and activity
// interceptors; workflow spans leave the sandbox through a sink).
import { context, trace, type Context } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  makeWorkflowExporter,
  type OpenTelemetryWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks, WorkerOptions } from '@temporalio/worker';
import type { Config } from './config';

export interface Tracing {
  resource: Resource;
  processor: SpanProcessor;
  /** Exports what is still buffered; call before the process exits. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/** Where spans go: `<endpoint>/v1/traces`, as OTLP/HTTP names it. */
export const otlpTracesUrl = (endpoint: string) => `${endpoint.replace(/\/+$/, '')}/v1/traces`;

/**
 * Starts this process's tracer provider (the global one, with async-context propagation) when an endpoint
 * is configured; otherwise every span is a no-op. Once per process.
 */
export function startTracing(service: string, telemetry: Config['telemetry']): Tracing | undefined {
  if (active || !telemetry.otlpEndpoint) return active;
  const resource = new Resource({ 'service.name': service });
  // Batched, but soon: a session's spans are worth little minutes later.
  const processor = new BatchSpanProcessor(
    new OTLPTraceExporter({ url: otlpTracesUrl(telemetry.otlpEndpoint) }),
    { scheduledDelayMillis: 500 },
  );
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  active = { resource, processor, shutdown: () => provider.shutdown() };
  return active;
}

export const tracer = () => trace.getTracer('sessionflow');

/** The Temporal client's interceptors: start, signal, update and query carry the active trace. */
export const clientInterceptors = () =>
  // Only when tracing: the trace header would otherwise go into history unencrypted (headers bypass the
  // payload codec), and the session's workflow interceptors trace what carries it (workflows/tracing.ts).
  active ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : {};

/** Activities run in a span under the workflow's (both the worker's and the gateway's). */
export function activityTracing(): Pick<WorkerOptions, 'interceptors'> {
  if (!active) return {};
  return {
    interceptors: { activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx) })] },
  };
}

/**
 * The sink the prebuilt bundle's workflow interceptors hand their spans to: to the exporter when tracing
 * is on, dropped when it is off (an unregistered sink would log an error for every span).
 */
export function workflowSpanSink(): InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }> {
  if (active) return { exporter: makeWorkflowExporter(active.processor, active.resource) };
  return { exporter: { export: { fn: () => undefined, callDuringReplay: false } } };
}

/** Runs `fn` in a saved context (the body parser resumes outside the request's). */
export const withContext = <T>(ctx: Context | undefined, fn: () => T): T =>
  ctx ? context.with(ctx, fn) : fn();
