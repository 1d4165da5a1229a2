import type { Message } from 'kafkajs';
import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import type { PartitionOutcome } from '../platform/partitioned-send';
import { contextHeaders, extractContext } from '../platform/trace-context';
import { projectTracer } from '../platform/tracing';

/** The trace context an outbox row kept: null columns for a row written without one. */
export interface KeptContext {
  readonly traceparent?: string | null;
  readonly tracestate?: string | null;
}

/**
 * The `relay` spans of notifications: each a child of the context its outbox row kept (the
 * event's `consume` span), ended when its partition answered. The notification's headers carry
 * the relay span's context, so its consumers continue the webhook's trace. The row's columns
 * are read as network input would be: a value that is not a valid traceparent starts a trace.
 */
export function createRelayTrace(topic: string) {
  const spans = new WeakMap<Message, Span>();

  function end(record: Message, error?: unknown): void {
    const span = spans.get(record);
    if (!span) return;
    spans.delete(record);
    if (error !== undefined) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }

  return {
    /** `record` with the relay span's context added to its headers; the span waits for `settled` or `failed`. */
    start(kept: KeptContext, eventId: string, record: Message): Message {
      const span = projectTracer().startSpan(
        'relay',
        { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': topic, 'webhook.event_id': eventId } },
        extractContext(kept.traceparent ?? undefined, kept.tracestate ?? undefined),
      );
      const traced = { ...record, headers: { ...record.headers, ...contextHeaders(span) } };
      spans.set(traced, span);
      return traced;
    },
    settled(records: readonly Message[], outcomes: readonly PartitionOutcome[]): void {
      for (const outcome of outcomes) for (const position of outcome.positions) end(records[position]!, outcome.acknowledged ? undefined : outcome.error);
    },
    failed(records: readonly Message[], error: unknown): void {
      for (const record of records) end(record, error);
    },
  };
}
