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

/** A notification about to be sent, and the trace context its row kept. */
export interface Outgoing {
  readonly record: Message;
  readonly kept: KeptContext;
  readonly eventId: string;
}

/** One send's relay spans: end them with the send's outcomes, or with its failure. */
export interface RelaySend {
  /** The records, each with its relay span's context added to its headers. */
  readonly records: Message[];
  settled(outcomes: readonly PartitionOutcome[]): void;
  failed(error: unknown): void;
}

/**
 * The `relay` spans of notifications: each a child of the context its outbox row kept (the
 * event's `consume` span), started when the record is sent and ended when its partition
 * answered. A record sent again (one by one after a batch was refused) is a send, and a span,
 * of its own. The notification's headers carry the relay span's context, so its consumers
 * continue the webhook's trace. The row's columns are read as network input would be: a value
 * that is not a valid traceparent starts a trace.
 */
export function createRelayTrace(topic: string) {
  return {
    sending(items: readonly Outgoing[]): RelaySend {
      const spans: Span[] = items.map(({ kept, eventId }) =>
        projectTracer().startSpan(
          'relay',
          { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': topic, 'webhook.event_id': eventId } },
          extractContext(kept.traceparent ?? undefined, kept.tracestate ?? undefined),
        ),
      );
      const end = (span: Span, error?: unknown): void => {
        if (error !== undefined) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      };
      return {
        records: items.map(({ record }, index) => ({ ...record, headers: { ...record.headers, ...contextHeaders(spans[index]!) } })),
        settled(outcomes) {
          const open = new Set(spans.keys());
          for (const outcome of outcomes) {
            for (const position of outcome.positions) {
              if (open.delete(position)) end(spans[position]!, outcome.acknowledged ? undefined : outcome.error);
            }
          }
          // Every record has an outcome; a span is never left open if one had none.
          for (const position of open) end(spans[position]!, new Error('no outcome for the record'));
        },
        failed(error) {
          for (const span of spans) end(span, error);
        },
      };
    },
  };
}
