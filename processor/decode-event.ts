import type { KafkaMessage } from 'kafkajs';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { parseJsonObject, validatePayload, type WebhookPayload } from '../schemas/payload-validation';
import { webhookByType, type WebhookDefinition } from '../schemas/webhook-catalog';
import type { WebhookEventRecord } from '../schemas/webhook-event';
import type { RejectionReason } from './errors';


export interface EventSource {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
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
 * Reads one record of webhook-events: the envelope through the registry (Confluent wire format),
 * then the raw body, parsed losslessly and validated against its type's Avro schema. A record
 * that cannot be read is a permanent rejection; a registry that cannot be reached is transient
 * and thrown, so the batch is retried.
 */
export async function decodeEvent(registry: SchemaRegistry, message: KafkaMessage, source: EventSource): Promise<DecodedEvent> {
  const value = message.value;
  const undecodable = (detail: string): DecodedEvent => ({
    ok: false,
    reason: 'undecodable_envelope',
    detail,
    eventId: `undecodable:${source.topic}:${source.partition}:${source.offset}`,
    webhookType: 'unknown',
    body: value ? value.toString('base64') : '',
    source,
  });
  // Confluent wire format: magic byte 0, 4-byte schema id, Avro body.
  if (!value || value.length < 5 || value[0] !== 0) return undecodable('not in the Confluent wire format');
  let envelope: WebhookEventRecord;
  try {
    envelope = (await registry.decode(value)) as WebhookEventRecord;
  } catch (error) {
    // The registry client reports its HTTP failures as ResponseError, and an unreachable
    // registry as one with status 400: only "no such schema" (404) is about the record.
    const response = error as { name?: string; status?: number };
    if (response.name === 'ResponseError' && response.status !== 404) throw error;
    return undecodable(`cannot decode: ${(error as Error).message}`);
  }
  if (typeof envelope?.event_id !== 'string' || typeof envelope.body !== 'string') return undecodable('not a WebhookEvent');

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
