import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { ApplyResult } from '../../processor/apply-chunk';
import { sendToDeadLetters } from '../../processor/dead-letters';
import { createPartitionedSender } from '../../platform/partitioned-send';
import { createReplaceableProducer, type ReplaceableProducer } from '../../platform/replaceable-producer';
import { onCleanup } from '../support/cleanup';
import { createTestTopic, testAdmin, testKafka } from '../support/kafka';
import { readTopic } from '../support/topic-reader';

const kafka = testKafka();

/** A record as the consumer handed it over. */
function consumed(key: string | null, value: string, headers: IHeaders, offset: string): KafkaMessage {
  return { key: key === null ? null : Buffer.from(key), value: Buffer.from(value), timestamp: '0', attributes: 0, offset, headers };
}

describe('sendToDeadLetters', () => {
  let producer: ReplaceableProducer;
  beforeAll(async () => {
    producer = createReplaceableProducer(() => kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
    await producer.connect();
    onCleanup(() => producer.disconnect());
  });

  it('copies each rejected record as it was, with headers saying why, from where and when', async () => {
    const topic = await createTestTopic(await testAdmin());
    const rejected: Array<{ message: KafkaMessage; result: ApplyResult }> = [
      {
        message: consumed('7', 'first record', { ce_id: 'e1', ce_type: 'buy_completion' }, '41'),
        result: { outcome: 'rejected', eventId: 'e1', webhookType: 'buy_completion', reason: 'trade_not_found', detail: 'no trade 7' },
      },
      {
        message: consumed(null, 'second record', {}, '42'),
        result: { outcome: 'rejected', eventId: 'undecodable:webhook-events:4:42', webhookType: 'unknown' },
      },
    ];
    const before = Date.now();
    await sendToDeadLetters(producer, createPartitionedSender({ kafka, topic }), { topic: 'webhook-events', partition: 4 }, rejected);
    const after = Date.now();

    const dead = await readTopic(kafka, topic, { count: 2, decode: false });
    const failedAt = dead[0]!.headers.dlq_failed_at!;
    expect(dead.map((record) => ({ key: record.key, value: record.raw.value?.toString(), headers: record.headers }))).toEqual([
      {
        key: '7',
        value: 'first record',
        headers: {
          ce_id: 'e1',
          ce_type: 'buy_completion',
          dlq_reason: 'trade_not_found',
          dlq_detail: 'no trade 7',
          dlq_event_id: 'e1',
          dlq_source_topic: 'webhook-events',
          dlq_source_partition: '4',
          dlq_source_offset: '41',
          dlq_failed_at: failedAt,
        },
      },
      {
        key: null,
        value: 'second record',
        headers: {
          dlq_reason: 'unknown',
          dlq_detail: '',
          dlq_event_id: 'undecodable:webhook-events:4:42',
          dlq_source_topic: 'webhook-events',
          dlq_source_partition: '4',
          dlq_source_offset: '42',
          dlq_failed_at: failedAt,
        },
      },
    ]);
    expect(new Date(failedAt).toISOString()).toBe(failedAt);
    expect(Date.parse(failedAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(failedAt)).toBeLessThanOrEqual(after);
  });

  it('sends nothing when nothing was rejected', async () => {
    // Asking for a producer would fail the test.
    const none = createReplaceableProducer(() => {
      throw new Error('no producer may be made');
    });
    await expect(none.connect()).rejects.toThrow('no producer may be made');
    await expect(sendToDeadLetters(none, createPartitionedSender({ kafka, topic: 'unused' }), { topic: 'webhook-events', partition: 0 }, [])).resolves.toBeUndefined();
  });
});
