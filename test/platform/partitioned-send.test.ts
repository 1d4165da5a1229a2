import { KafkaJSError, Partitioners, type Message, type Producer, type ProducerRecord, type RecordMetadata } from 'kafkajs';
import { createPartitionedSender } from '../../platform/partitioned-send';
import { onCleanup } from '../support/cleanup';
import { createTestTopic, testAdmin, testKafka } from '../support/kafka';
import { uniqueName } from '../support/names';
import { readTopic } from '../support/topic-reader';

const kafka = testKafka();

/**
 * Where kafkajs 2.2.4 put each key when it chose the partition itself (a producer with
 * DefaultPartitioner, no partition on the message), read back from a single real broker for
 * topics of 1, 3, 6 and 12 partitions. Trade ids and customer references (the receiver's keys),
 * user ids (the relay's), the empty key, multi-byte keys and one longer than a hash block.
 */
const PLACED_BY_KAFKAJS: ReadonlyArray<[key: string, partitions: { 1: number; 3: number; 6: number; 12: number }]> = [
  ['1', { 1: 0, 3: 0, 6: 3, 12: 3 }],
  ['12', { 1: 0, 3: 1, 6: 4, 12: 10 }],
  ['123', { 1: 0, 3: 2, 6: 5, 12: 5 }],
  ['1234', { 1: 0, 3: 0, 6: 0, 12: 0 }],
  ['12345', { 1: 0, 3: 2, 6: 2, 12: 8 }],
  ['42', { 1: 0, 3: 1, 6: 4, 12: 4 }],
  ['1000001', { 1: 0, 3: 2, 6: 2, 12: 8 }],
  ['9007199254740993', { 1: 0, 3: 0, 6: 3, 12: 3 }],
  ['1234567890123456789', { 1: 0, 3: 2, 6: 2, 12: 8 }],
  ['18446744073709551615', { 1: 0, 3: 1, 6: 1, 12: 1 }],
  ['cust-ref-0001', { 1: 0, 3: 2, 6: 2, 12: 8 }],
  ['ORD-2026-000042', { 1: 0, 3: 0, 6: 3, 12: 9 }],
  ['', { 1: 0, 3: 0, 6: 3, 12: 9 }],
  ['ключ', { 1: 0, 3: 2, 6: 2, 12: 8 }],
  ['🙂', { 1: 0, 3: 0, 6: 3, 12: 3 }],
  ['a'.repeat(100), { 1: 0, 3: 0, 6: 0, 12: 6 }],
];

/** Java's Utils.murmur2 of a key's UTF-8 bytes, as Kafka's own tests pin it. */
const JAVA_MURMUR2: ReadonlyArray<[key: string, hash: number]> = [
  ['1', -1993445489],
  ['12', 126087238],
  ['123', -267702483],
  ['1234', -1614185708],
  ['12345', -1188365604],
];

/** A started sender on a topic of its own with `partitions` partitions. */
async function senderOn(partitions: number) {
  const topic = await createTestTopic(await testAdmin(kafka), { prefix: 'partitioned', partitions });
  const sender = createPartitionedSender({ kafka, topic, timeoutMs: 10_000 });
  await sender.start();
  return { topic, sender };
}

async function connectedProducer(): Promise<Producer> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  onCleanup(() => producer.disconnect());
  return producer;
}

/** The real producer with its `send` calls recorded: the seam every test below watches or breaks. */
function recording(real: Producer, answer: (record: ProducerRecord) => Promise<RecordMetadata[]> = (record) => real.send(record)) {
  const calls: ProducerRecord[] = [];
  const producer: Producer = {
    ...real,
    send: (record) => {
      calls.push(record);
      return answer(record);
    },
  };
  return { producer, calls };
}

const keyed = (count: number): Message[] => Array.from({ length: count }, (_, index) => ({ key: `trade-${index}`, value: `value-${index}` }));

describe('partitioned send: where a message goes', () => {
  it.each([1, 3, 6, 12] as const)('gives every key the partition kafkajs chose for it, on a topic of %i partition(s)', async (partitions) => {
    const { sender } = await senderOn(partitions);
    const assigned = PLACED_BY_KAFKAJS.map(([key]) => [key, sender.partitionOf({ key, value: 'x' })]);
    expect(assigned).toEqual(PLACED_BY_KAFKAJS.map(([key, placed]) => [key, placed[partitions]]));
  });

  it("gives a key the partition Java's murmur2 does: the hash's positive bits modulo the count", async () => {
    const { sender } = await senderOn(6);
    for (const [key, hash] of JAVA_MURMUR2) expect(sender.partitionOf({ key, value: 'x' })).toBe((hash & 0x7fffffff) % 6);
  });

  it('puts each key where the broker shows a producer choosing for itself put it', async () => {
    const { topic, sender } = await senderOn(6);
    const producer = await connectedProducer();
    await producer.send({ topic, acks: -1, messages: PLACED_BY_KAFKAJS.map(([key]) => ({ key, value: 'x' })) });
    const read = await readTopic(kafka, topic, { count: PLACED_BY_KAFKAJS.length, decode: false });
    expect(read).toHaveLength(PLACED_BY_KAFKAJS.length);
    for (const message of read) expect(sender.partitionOf({ key: message.key, value: 'x' })).toBe(message.partition);
  });

  it("spreads keyless messages over every partition by kafkajs's round robin", async () => {
    const { sender } = await senderOn(6);
    const counts = new Map<number, number>();
    for (let index = 0; index < 12; index += 1) {
      const partition = sender.partitionOf({ value: `keyless-${index}` });
      counts.set(partition, (counts.get(partition) ?? 0) + 1);
    }
    expect([...counts].sort(([a], [b]) => a - b)).toEqual([0, 1, 2, 3, 4, 5].map((partition) => [partition, 2]));
  });

  it('keeps the partition count it learned when partitions are added, so every key stays where it was', async () => {
    const admin = await testAdmin(kafka);
    const { topic, sender } = await senderOn(3);
    await admin.createPartitions({ topicPartitions: [{ topic, count: 6 }] });
    expect(PLACED_BY_KAFKAJS.map(([key]) => sender.partitionOf({ key, value: 'x' }))).toEqual(PLACED_BY_KAFKAJS.map(([, placed]) => placed[3]));

    const restarted = createPartitionedSender({ kafka, topic });
    await restarted.start();
    expect(PLACED_BY_KAFKAJS.map(([key]) => restarted.partitionOf({ key, value: 'x' }))).toEqual(PLACED_BY_KAFKAJS.map(([, placed]) => placed[6]));
  });

  it('fails to start on a topic that does not exist, and learns its count once it does', async () => {
    const admin = await testAdmin(kafka);
    const topic = uniqueName('partitioned-later');
    const sender = createPartitionedSender({ kafka, topic });
    await expect(sender.start()).rejects.toThrow();
    expect(() => sender.partitionOf({ key: '1', value: 'x' })).toThrow('called before start() finished');

    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
    onCleanup(() => admin.deleteTopics({ topics: [topic] }).catch(() => undefined));
    await sender.start();
    expect(sender.partitionOf({ key: '1', value: 'x' })).toBe(3);
  });
});

describe('partitioned send: one produce call per partition', () => {
  it('sends each partition its messages in one call of their own, in their order, partition set, acks from all replicas', async () => {
    const { topic, sender } = await senderOn(6);
    const { producer, calls } = recording(await connectedProducer());
    const messages = keyed(60);

    const outcomes = await sender.send(producer, messages);

    const expected = new Map<number, number[]>();
    messages.forEach((message, position) => {
      const partition = sender.partitionOf(message);
      expected.set(partition, [...(expected.get(partition) ?? []), position]);
    });
    expect(outcomes).toEqual([...expected].sort(([a], [b]) => a - b).map(([partition, positions]) => ({ partition, positions, acknowledged: true })));
    expect(calls).toHaveLength(expected.size);
    for (const call of calls) {
      const partition = call.messages[0]!.partition!;
      expect(call).toEqual({ topic, acks: -1, timeout: 10_000, messages: expected.get(partition)!.map((position) => ({ ...messages[position], partition })) });
    }

    const read = await readTopic(kafka, topic, { count: 60, decode: false });
    expect(read).toHaveLength(60);
    for (const message of read) expect(message.partition).toBe(sender.partitionOf({ key: message.key, value: 'x' }));
  });

  it('fails only the messages of a partition whose call failed; sendAll rejects with that failure', async () => {
    const { topic, sender } = await senderOn(6);
    const real = await connectedProducer();
    const messages = keyed(30);
    const broken = sender.partitionOf(messages[0]!);
    const refusal = new KafkaJSError('the broker went away', { retriable: true });
    const { producer } = recording(real, (record) => (record.messages[0]!.partition === broken ? Promise.reject(refusal) : real.send(record)));

    const outcomes = await sender.send(producer, messages);
    expect(outcomes.filter((outcome) => !outcome.acknowledged)).toEqual([
      { partition: broken, positions: messages.flatMap((message, position) => (sender.partitionOf(message) === broken ? [position] : [])), acknowledged: false, error: refusal },
    ]);
    const delivered = messages.filter((message) => sender.partitionOf(message) !== broken);
    const read = await readTopic(kafka, topic, { count: delivered.length, decode: false });
    expect(read.map((message) => message.key).sort()).toEqual(delivered.map((message) => message.key).sort());

    await expect(sender.sendAll(producer, messages)).rejects.toBe(refusal);
  });

  it.each<[string, (answer: RecordMetadata[]) => RecordMetadata[]]>([
    ['names another partition', (answer) => answer.map((entry) => ({ ...entry, partition: entry.partition + 1 }))],
    ['carries an error code', (answer) => answer.map((entry) => ({ ...entry, errorCode: 6 }))],
    ['is empty', () => []],
  ])('turns an acknowledgement that %s into a retriable KafkaJSError', async (_case, alter) => {
    const { sender } = await senderOn(6);
    const real = await connectedProducer();
    const { producer } = recording(real, async (record) => alter(await real.send(record)));

    const failure = await sender.sendAll(producer, [{ key: '1', value: 'x' }]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KafkaJSError);
    expect(failure).toEqual(expect.objectContaining({ retriable: true, message: expect.stringContaining('partition 3 was not acknowledged') }));
  });

  it('learns the partition count on the first send when start was not called', async () => {
    const topic = await createTestTopic(await testAdmin(kafka), { prefix: 'partitioned', partitions: 6 });
    const sender = createPartitionedSender({ kafka, topic });
    await sender.sendAll(await connectedProducer(), [{ key: '1', value: 'x' }]);
    const [message] = await readTopic(kafka, topic, { count: 1, decode: false });
    expect(message!.partition).toBe(3);
  });
});
