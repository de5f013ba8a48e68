// One server span per API request, continuing the caller's trace when it sends `traceparent`. The
// span is named by the route pattern (`POST /api/v1/apps/:id/provision-on-demand`), never by the
// path, and holds no query string: names and addresses stay out of traces. Within it, the Temporal
// client carries the trace into the workflows it starts, signals and updates. A no-op until the
// process starts tracing (telemetry/tracing.ts).
import { context, propagation, SpanKind, SpanStatusCode, trace, type TextMapGetter } from '@opentelemetry/api';
import type { Context, MiddlewareHandler } from 'hono';

const tracer = trace.getTracer('ferry-api');

const fromHeaders: TextMapGetter<Headers> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key) ?? undefined,
};

export function traceRequests(routePattern: (c: Context) => string): MiddlewareHandler {
  return async (c, next) => {
    const parent = propagation.extract(context.active(), c.req.raw.headers, fromHeaders);
    const attributes = { 'http.request.method': c.req.method };
    await tracer.startActiveSpan(c.req.method, { kind: SpanKind.SERVER, attributes }, parent, async (span) => {
      try {
        await next();
      } finally {
        const route = routePattern(c);
        span.updateName(`${c.req.method} ${route}`);
        span.setAttribute('http.route', route);
        span.setAttribute('http.response.status_code', c.res.status);
        if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
    });
  };
}
