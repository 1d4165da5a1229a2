import type { Kafka, KafkaMessage } from 'kafkajs';
import { createRegistry } from '../../platform/schema-registry';
import { serviceEndpoints } from '../setup/service-endpoints';
import { uniqueName } from './names';

export interface ReadMessage {
  readonly key: string | null;
  readonly value: Record<string, unknown>;
  readonly headers: Record<string, string>;
  readonly partition: number;
  readonly raw: KafkaMessage;
}

/**
 * Reads a topic from the beginning with a fresh group until `count` messages arrived (or
 * `quietMs` passed with none more), decoding values through the registry. Waiting out the
 * quiet period is what shows that nothing else was written. `decode: false` leaves values
 * undecoded (a dead-letter topic holds records that are not Avro).
 */
export async function readTopic(kafka: Kafka, topic: string, options: { count?: number; quietMs?: number; timeoutMs?: number; decode?: boolean } = {}): Promise<ReadMessage[]> {
  const registry = createRegistry(serviceEndpoints().schemaRegistryUrl);
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  const messages: ReadMessage[] = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const quietMs = options.quietMs ?? 1500;
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    let lastAt = Date.now();
    let started = false;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      started = true;
      lastAt = Date.now();
    });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value);
        messages.push({
          key: message.key?.toString() ?? null,
          // A plain object, not avsc's record class, so tests compare fields only.
          value: options.decode === false ? {} : { ...((await registry.decode(message.value!)) as Record<string, unknown>) },
          headers,
          partition,
          raw: message,
        });
        lastAt = Date.now();
      },
    });
    for (;;) {
      if (options.count !== undefined && messages.length >= options.count && Date.now() - lastAt >= Math.min(quietMs, 500)) break;
      if (options.count === undefined && started && Date.now() - lastAt >= quietMs) break;
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await consumer.disconnect();
  }
  return messages;
}
