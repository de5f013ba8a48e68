// Workflow interceptors of a traced worker (telemetry/tracing.ts): each workflow run, signal, update
// and query gets a span that continues the caller's trace, and every activity and child workflow it
// starts carries the context on. Bundled only when tracing is on (workers/worker.ts); the spans
// leave the sandbox through the worker's `exporter` sink, so nothing here does I/O.
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import type { WorkflowInterceptors } from '@temporalio/workflow';

export const interceptors = (): WorkflowInterceptors => ({
  inbound: [new OpenTelemetryInboundInterceptor()],
  outbound: [new OpenTelemetryOutboundInterceptor()],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
