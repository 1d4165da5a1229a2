import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { PartitionedSender } from '../platform/partitioned-send';
import type { ReplaceableProducer } from '../platform/replaceable-producer';
import type { ApplyResult } from './apply-chunk';

/**
 * Sends rejected events to the dead-letter topic (`deadLetters`' topic, one produce call,
 * every partition acknowledged or a rejection): the original key, value and headers, plus headers
 * saying why and from where, so an operator can fix the cause and replay them.
 */
export async function sendToDeadLetters(
  producer: ReplaceableProducer,
  deadLetters: PartitionedSender,
  source: { topic: string; partition: number },
  rejected: ReadonlyArray<{ message: KafkaMessage; result: ApplyResult }>,
): Promise<void> {
  if (rejected.length === 0) return;
  const failedAt = new Date().toISOString();
  await producer.sendAll(
    deadLetters,
    rejected.map(({ message, result }) => {
      const headers: IHeaders = {
        ...message.headers,
        dlq_reason: result.reason ?? 'unknown',
        dlq_detail: result.detail ?? '',
        dlq_event_id: result.eventId,
        dlq_source_topic: source.topic,
        dlq_source_partition: String(source.partition),
        dlq_source_offset: message.offset,
        dlq_failed_at: failedAt,
      };
      return { key: message.key, value: message.value, headers };
    }),
  );
}
