// OpenTelemetry tracing of one process, off by default. Turned on by the standard variables: an OTLP
// endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or
// OTEL_TRACES_EXPORTER=otlp; OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none keeps it off. The
// exporter (OTLP over HTTP, JSON) and the batch processor read their own OTEL_* settings (headers,
// timeout, OTEL_BSP_SCHEDULE_DELAY…). One trace runs from an API request through the Temporal
// client, the workflows and activities (Temporal's interceptors carry the context in headers) down
// to each SCIM request (scim/request.ts), which also sends a `traceparent` header to the target.
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

export interface Tracing {
  /** The service name spans carry (OTEL_SERVICE_NAME, else the process's own name). */
  serviceName: string;
  resource: Resource;
  /** Where every span of the process goes, the workflows' spans included (through a sink). */
  spanProcessor: SpanProcessor;
  /** Exports what is buffered and stops; spans ended after it are dropped. */
  shutdown(): Promise<void>;
}

/** Whether the environment asks for traces (see the head of this file). */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  if (exporters.includes('none')) return false;
  if (exporters.includes('otlp')) return true;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Starts tracing for this process when the environment asks for it, else returns null (and Ferry's
 * spans stay no-ops). Registers the tracer provider, the async context manager and the W3C trace
 * context propagator globally: call it once, before the Temporal client and worker are made.
 */
export function startTracing(defaultServiceName: string, env: NodeJS.ProcessEnv = process.env): Tracing | null {
  if (!tracingRequested(env)) return null;
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || defaultServiceName;
  const resource = new Resource({ 'service.name': serviceName });
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    serviceName,
    resource,
    spanProcessor,
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
