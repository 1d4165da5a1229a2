import type { IncomingMessage } from 'node:http';
import { SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import { contextHeaders, extractContext, type TraceHeaders } from '../platform/trace-context';
import { projectTracer } from '../platform/tracing';
import type { Verification } from './verify-request';

/**
 * One webhook request's spans: `receive` (the request, continuing the sender's `traceparent`
 * when it sent a valid one), and under it `verify` and `publish`. The record written to Kafka
 * carries the `publish` span's context, which the processor continues.
 */
export interface RequestTrace {
  /** Starts the `verify` span; the function returned ends it with the verdict. */
  verifying(): (verdict: Verification) => void;
  /** Runs `work` in the `publish` span, handing it the record headers that carry that span's context. */
  publish<T>(topic: string, work: (headers: TraceHeaders) => Promise<T>): Promise<T>;
  /** Ends `receive` with the status the request was answered, if it was (a sender may hang up first). */
  end(statusCode: number | undefined): void;
}

/**
 * A request with nothing to trace and no context to carry: spans would be the API's no-ops and
 * the record would get no trace headers, so it costs nothing per request.
 */
const UNTRACED: RequestTrace = Object.freeze({
  verifying: () => () => undefined,
  publish: <T>(_topic: string, work: (headers: TraceHeaders) => Promise<T>) => work({}),
  end: () => undefined,
});

/** `exporting`: whether spans are exported; without it only a sender's own context is carried on. */
export function startRequestTrace(request: IncomingMessage, route: string, path: string, exporting: boolean): RequestTrace {
  if (!exporting && request.headers.traceparent === undefined) return UNTRACED;
  const tracer = projectTracer();
  const received = extractContext(request.headers.traceparent, request.headers.tracestate);
  const span = tracer.startSpan(
    'receive',
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method ?? '', 'url.path': path, 'http.route': path, 'webhook.route': route } },
    received,
  );
  const inside: Context = trace.setSpan(received, span);

  const failed = (child: Span, error: unknown): void => {
    child.recordException(error as Error);
    child.setStatus({ code: SpanStatusCode.ERROR });
  };

  return {
    verifying() {
      const child = tracer.startSpan('verify', {}, inside);
      return (verdict) => {
        if (verdict.ok) child.setAttribute('webhook.signature.scheme', verdict.scheme);
        else child.setAttribute('webhook.signature.failure', verdict.reason).setStatus({ code: SpanStatusCode.ERROR });
        child.end();
      };
    },
    async publish(topic, work) {
      const child = tracer.startSpan('publish', { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': topic } }, inside);
      try {
        return await work(contextHeaders(child));
      } catch (error) {
        failed(child, error);
        throw error;
      } finally {
        child.end();
      }
    },
    end(statusCode) {
      if (statusCode !== undefined) span.setAttribute('http.response.status_code', statusCode);
      if (statusCode === undefined || statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}
