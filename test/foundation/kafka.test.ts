import { createTestTopic, testAdmin, testKafka } from '../support/kafka';
import { onCleanup } from '../support/cleanup';
import { uniqueName } from '../support/names';

describe('Kafka broker', () => {
  it('delivers a produced message to a consumer group and keeps the group committed offset', async () => {
    const kafka = testKafka();
    const admin = await testAdmin(kafka);
    const topic = await createTestTopic(admin);
    const groupId = uniqueName('group');

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    onCleanup(() => producer.disconnect());
    await producer.send({ topic, acks: -1, messages: [{ key: 'trade-1', value: 'first' }, { key: 'trade-1', value: 'second' }] });

    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    onCleanup(() => consumer.disconnect());
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: string[] = [];
    const allReceived = new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ message, partition }) => {
          received.push(message.value!.toString());
          if (received.length === 2) {
            await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
            resolve();
          }
        },
      });
    });
    await allReceived;

    expect(received).toEqual(['first', 'second']);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(committed?.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '2' })]);
  });
});
