import type { Kafka } from 'kafkajs';
import { WEBHOOK_EVENT_SCHEMA_FILE } from '../../schemas/avro-schemas';
import { eventIdOf } from '../../schemas/event-identity';
import { createRegistry, registerValueSchema } from '../../schemas/kafka-client';
import type { WebhookType } from '../../schemas/webhook-catalog';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from './cleanup';

const PATHS: Record<string, string> = {
  buy_completion: '/api/webhooks/buy-complete',
  sell_completion: '/api/webhooks/sell-complete',
  trade_status: '/api/webhooks/trade-status',
  relworx_payment: '/api/webhooks/relworx',
};

/** The envelope the receiver would write for `body`, with its event id computed the same way. */
export function envelopeFor(webhookType: string, body: string, eventId?: string) {
  return {
    event_id: eventId ?? eventIdOf({ webhookType: webhookType as WebhookType, body }),
    webhook_type: webhookType,
    received_at: Date.now(),
    path: PATHS[webhookType] ?? '/unknown',
    signature_scheme: 'hmac-sha256',
    remote_addr: '127.0.0.1',
    content_type: 'application/json',
    body,
  };
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
    async write(events: Array<{ key: string; envelope: ReturnType<typeof envelopeFor> }>): Promise<void> {
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
