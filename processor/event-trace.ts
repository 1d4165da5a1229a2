import type { KafkaMessage } from 'kafkajs';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Link, type Span } from '@opentelemetry/api';
import { contextHeaders, extractContext, parseTraceparent, type TraceHeaders } from '../platform/trace-context';
import { projectTracer } from '../platform/tracing';
import type { ApplyResult } from './apply-chunk';
import type { EventSource } from './decode-event';

/**
 * The `consume` span of one record of webhook-events: from its decoding to its transaction's
 * outcome, continuing the trace its `traceparent` header names (the receiver's `publish` span).
 * A record without a valid one starts a trace.
 */
export interface ConsumeTrace {
  /** The context the event is processed in: what its outbox row keeps for the notification. */
  readonly headers: TraceHeaders;
  end(result: ApplyResult | undefined, error?: unknown): void;
}

export function startConsume(message: KafkaMessage, source: { topic: string; partition: number }): ConsumeTrace {
  const headers = message.headers ?? {};
  const span = projectTracer().startSpan(
    'consume',
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': source.topic,
        'messaging.destination.partition.id': String(source.partition),
        'messaging.kafka.offset': message.offset,
      },
    },
    // The Buffers as kafkajs gives them: extractContext refuses an oversized one unread, and a repeated header (an array).
    extractContext(headers.traceparent, headers.tracestate),
  );
  return {
    headers: contextHeaders(span),
    end(result, error) {
      if (result) span.setAttributes({ 'webhook.event_id': result.eventId, 'webhook.outcome': result.outcome, ...(result.reason ? { 'webhook.reason': result.reason } : {}) });
      if (error !== undefined) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  };
}

/**
 * The `apply` span of one transaction, with `commit` under it from the end of the statements to
 * the commit's answer. Group commit puts many events, of many traces, in one transaction: the
 * span is a trace of its own and links to each event's `consume` span instead of being the
 * child of one of them. `work` calls `committing` once its statements are done.
 */
export async function traceTransaction<R>(sources: readonly EventSource[], work: (committing: () => void) => Promise<R>): Promise<R> {
  const tracer = projectTracer();
  const span = tracer.startSpan('apply', { attributes: { 'webhook.events': sources.length } }, ROOT_CONTEXT);
  // Only a recording span is worth the parsing: with tracing off this is all no-ops.
  if (span.isRecording()) {
    span.addLinks(sources.flatMap((source): Link[] => {
      const context = parseTraceparent(source.trace?.traceparent);
      return context ? [{ context }] : [];
    }));
  }
  let commit: Span | undefined;
  try {
    return await work(() => (commit = tracer.startSpan('commit', {}, trace.setSpan(ROOT_CONTEXT, span))));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    commit?.end();
    span.end();
  }
}
