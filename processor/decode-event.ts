import type { KafkaMessage } from 'kafkajs';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { parseJsonObject, validatePayload, type WebhookPayload } from '../schemas/payload-validation';
import { webhookByType, type WebhookDefinition } from '../schemas/webhook-catalog';
import type { WebhookEventRecord } from '../schemas/webhook-event';
import type { TraceHeaders } from '../platform/trace-context';
import type { RejectionReason } from './errors';

export interface EventSource {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /**
   * The event id this record was dead-lettered under, when it is a replay from the DLQ (the
   * `dlq_event_id` header, which the replay command keeps): its copy is in the DLQ already.
   */
  readonly replayOf?: string;
  /** The trace context the event is processed in (its `consume` span's); the outbox keeps it for the notification. */
  readonly trace?: TraceHeaders;
}

export type DecodedEvent =
  | { ok: true; envelope: WebhookEventRecord; definition: WebhookDefinition; payload: WebhookPayload; source: EventSource }
  | {
      ok: false;
      reason: RejectionReason;
      detail: string;
      /** The envelope when it could be read; undecodable ones are audited under a synthetic id. */
      envelope?: WebhookEventRecord;
      eventId: string;
      webhookType: string;
      body: string;
      source: EventSource;
    };

/**
 * received_at must be a time JavaScript (up to 8.64e15 ms) and PostgreSQL (from 4713 BC) both
 * hold; no receiver wrote one before the epoch.
 */
const LATEST_MILLIS = 8.64e15;

/** event_id is a primary key: PostgreSQL cannot index a btree entry over 2704 bytes. */
const MAX_EVENT_ID_BYTES = 1024;

/**
 * A decoded record is a WebhookEvent we can store: the fields we use have their types, the time
 * is one both JavaScript and PostgreSQL can hold, the id fits its index, and no text holds a NUL
 * (PostgreSQL text cannot). Checked here so that a malformed record is rejected as such, and never reaches code
 * or SQL that would fail on it with an error that stops the processor.
 */
function isWebhookEvent(record: unknown): record is WebhookEventRecord {
  const envelope = record as Partial<WebhookEventRecord> | null;
  if (typeof envelope !== 'object' || envelope === null) return false;
  const { event_id, webhook_type, body, received_at } = envelope;
  if (typeof event_id !== 'string' || typeof webhook_type !== 'string' || typeof body !== 'string') return false;
  if (typeof received_at !== 'number' || !Number.isSafeInteger(received_at) || received_at < 0 || received_at > LATEST_MILLIS) return false;
  if (Buffer.byteLength(event_id) > MAX_EVENT_ID_BYTES) return false;
  return ![event_id, webhook_type, body].some((text) => text.includes('\u0000'));
}

/** Undecodable records have no id of their own: they are recorded under this prefix and where they were read. */
const UNDECODABLE_PREFIX = 'undecodable:';

/** The `dlq_event_id` header of a record replayed from the DLQ, if it is one an event id can be. */
function deadLetterIdOf(message: KafkaMessage): string | undefined {
  const header = message.headers?.dlq_event_id;
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const text = value.toString();
  return text.length > 0 && Buffer.byteLength(text) <= MAX_EVENT_ID_BYTES && !text.includes('\u0000') ? text : undefined;
}

/**
 * Reads one record of webhook-events: the envelope through the registry (Confluent wire format),
 * then the raw body, parsed losslessly and validated against its type's Avro schema. A record
 * that cannot be read is a permanent rejection. Fetching the writer's schema is the only step
 * that can fail for reasons of the moment, and its failures are thrown for the classifier to
 * judge — a schema id the registry does not know (yet) among them, so it is retried, never
 * dead-lettered.
 */
export async function decodeEvent(registry: SchemaRegistry, message: KafkaMessage, delivered: EventSource): Promise<DecodedEvent> {
  const value = message.value;
  const replayOf = deadLetterIdOf(message);
  const source: EventSource = replayOf === undefined ? delivered : { ...delivered, replayOf };
  const undecodable = (detail: string): DecodedEvent => ({
    ok: false,
    reason: 'undecodable_envelope',
    detail,
    // A replayed record keeps the id it was first recorded under: it is the same record, not a new one.
    eventId: replayOf?.startsWith(UNDECODABLE_PREFIX) ? replayOf : `${UNDECODABLE_PREFIX}${delivered.topic}:${delivered.partition}:${delivered.offset}`,
    webhookType: 'unknown',
    body: value ? value.toString('base64') : '',
    source,
  });
  // Confluent wire format: magic byte 0, 4-byte schema id (registries number from 1), Avro body.
  if (!value || value.length < 5 || value[0] !== 0 || value.readInt32BE(1) <= 0) return undecodable('not in the Confluent wire format');
  const writerSchema = await registry.getSchema(value.readInt32BE(1));
  let record: unknown;
  try {
    record = writerSchema.fromBuffer(value.subarray(5));
  } catch (error) {
    // Whatever the Avro decoder throws on these bytes (truncated, a bad union index, a length
    // past the end: Error or RangeError alike) is about the record.
    return undecodable(`cannot decode: ${(error as Error).message}`);
  }
  if (!isWebhookEvent(record)) return undecodable('not a WebhookEvent');
  const envelope = record;

  const rejected = (reason: RejectionReason, detail: string): DecodedEvent => ({
    ok: false,
    reason,
    detail,
    envelope,
    eventId: envelope.event_id,
    webhookType: envelope.webhook_type,
    body: envelope.body,
    source,
  });
  const definition = webhookByType(envelope.webhook_type);
  if (!definition) return rejected('unknown_webhook_type', `unknown webhook type "${envelope.webhook_type}"`);
  const parsed = parseJsonObject(envelope.body);
  if (!parsed) return rejected('schema_invalid', 'body is not a JSON object');
  const validation = validatePayload(definition, parsed);
  if (!validation.ok) {
    const detail = validation.error === 'missing_fields' ? `missing or invalid fields: ${validation.fields.join(', ')}` : validation.error;
    return rejected('schema_invalid', detail);
  }
  return { ok: true, envelope, definition, payload: validation.payload, source };
}
