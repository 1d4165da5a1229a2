import type { Kafka } from 'kafkajs';
import { WEBHOOK_EVENT_SCHEMA_FILE } from '../../schemas/avro-schemas';
import { createRegistry, registerValueSchema } from '../../platform/schema-registry';
import type { WebhookType } from '../../schemas/webhook-catalog';
import { webhookEvent, type WebhookEventRecord } from '../../schemas/webhook-event';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from './cleanup';

/** The record the receiver would write for `body` (a bare body: no `webhook-id`), or with the given event id. */
export function envelopeFor(webhookType: WebhookType, body: string, eventId?: string): WebhookEventRecord {
  const event = webhookEvent({ webhookType, body });
  return eventId === undefined ? event : { ...event, event_id: eventId };
}

/**
 * Writes events straight to a webhook-events topic, as the receiver would (same subject,
 * same wire format), for processor tests that need exact control of what arrives.
 */
export async function eventWriter(kafka: Kafka, topic: string) {
  const registry = createRegistry(serviceEndpoints().schemaRegistryUrl);
  const schemaId = await registerValueSchema(registry, topic, WEBHOOK_EVENT_SCHEMA_FILE);
  const producer = kafka.producer();
  await producer.connect();
  onCleanup(() => producer.disconnect());
  return {
    async write(events: Array<{ key: string; envelope: WebhookEventRecord }>): Promise<void> {
      const messages = await Promise.all(events.map(async ({ key, envelope }) => ({ key, value: await registry.encode(schemaId, envelope) })));
      for (let start = 0; start < messages.length; start += 500) {
        await producer.send({ topic, acks: -1, messages: messages.slice(start, start + 500) });
      }
    },
    async writeRaw(key: string, value: Buffer): Promise<void> {
      await producer.send({ topic, acks: -1, messages: [{ key, value }] });
    },
  };
}
