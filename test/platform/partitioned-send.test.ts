import { KafkaJSError, Partitioners, type Message, type Producer, type ProducerRecord, type RecordMetadata } from 'kafkajs';
import { createPartitionedSender, type PartitionedSender, type PartitionOutcome } from '../../platform/partitioned-send';
import { createTopicsWithLeaders } from '../../platform/topics';
import { onCleanup } from '../support/cleanup';
import { createTestTopic, testAdmin, testKafka } from '../support/kafka';
import { uniqueName } from '../support/names';
import { readTopic } from '../support/topic-reader';
import { withholdingPartition } from '../support/withheld-partition';

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

/** Every record of `topic` (`count` of them), its key by where it was read: `partition:offset`. */
async function keysByRecord(topic: string, count: number): Promise<Map<string, string | null>> {
  const read = await readTopic(kafka, topic, { count, decode: false });
  expect(read).toHaveLength(count);
  return new Map(read.map((message) => [`${message.partition}:${message.raw.offset}`, message.key]));
}

/** For each acknowledged outcome, the keys found at the offsets it gives, against the keys of the messages at its positions. */
function keysAtOffsets(outcomes: readonly PartitionOutcome[], messages: readonly Message[], records: ReadonlyMap<string, string | null>) {
  const acknowledged = outcomes.filter((outcome) => outcome.acknowledged);
  return {
    found: acknowledged.map((outcome) => outcome.offsets.map((offset) => records.get(`${outcome.partition}:${offset}`))),
    sent: acknowledged.map((outcome) => outcome.positions.map((position) => String(messages[position]!.key))),
  };
}

/** An acknowledged outcome: its offsets are checked against the topic. */
const acknowledgedAt = (partition: number, positions: number[]) => ({ partition, positions, acknowledged: true, offsets: positions.map(() => expect.stringMatching(/^\d+$/)) });

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

    await createTopicsWithLeaders(admin, [{ topic, partitions: 6 }]);
    onCleanup(() => admin.deleteTopics({ topics: [topic] }).catch(() => undefined));
    await sender.start();
    expect(sender.partitionOf({ key: '1', value: 'x' })).toBe(3);
  });
});

describe('partitioned send: one produce call, every partition in its answer', () => {
  /** Where each message goes and its positions in `messages`, by partition in partition order. */
  function expectedPartitions(sender: PartitionedSender, messages: readonly Message[]): Array<[partition: number, positions: number[]]> {
    const positions = new Map<number, number[]>();
    messages.forEach((message, position) => {
      const partition = sender.partitionOf(message);
      positions.set(partition, [...(positions.get(partition) ?? []), position]);
    });
    return [...positions].sort(([a], [b]) => a - b);
  }

  const onPartition = (sender: PartitionedSender, messages: readonly Message[], partition: number): Message[] =>
    messages.filter((message) => sender.partitionOf(message) === partition).map((message) => ({ ...message, partition }));

  it('sends every partition in one call, messages in their order, partition set, acks from all replicas', async () => {
    const { topic, sender } = await senderOn(6);
    const { producer, calls } = recording(await connectedProducer());
    const messages = keyed(60);
    const expected = expectedPartitions(sender, messages);
    expect(expected).toHaveLength(6);

    const outcomes = await sender.send(producer, messages);

    expect(outcomes).toEqual(expected.map(([partition, positions]) => acknowledgedAt(partition, positions)));
    expect(calls).toEqual([{ topic, acks: -1, timeout: 10_000, messages: messages.map((message) => ({ ...message, partition: sender.partitionOf(message) })) }]);
    const read = await readTopic(kafka, topic, { count: 60, decode: false });
    expect(read).toHaveLength(60);
    for (const message of read) expect(message.partition).toBe(sender.partitionOf({ key: message.key, value: 'x' }));
  });

  it("gives each message the offset it was written at, a partition's next send counting on from where the last ended", async () => {
    const { topic, sender } = await senderOn(6);
    const producer = await connectedProducer();
    const first = keyed(30);
    const second = first.map((message) => ({ ...message, value: `again-${String(message.value)}` }));

    const outcomes = [await sender.send(producer, first), await sender.send(producer, second)];

    const records = await keysByRecord(topic, 60);
    const { found, sent } = keysAtOffsets(outcomes[0]!, first, records);
    expect(found).toEqual(sent);
    const again = keysAtOffsets(outcomes[1]!, second, records);
    expect(again.found).toEqual(again.sent);
    // The second send starts each partition where the first ended: offsets are not restarted per call.
    for (const [index, outcome] of outcomes[1]!.entries()) {
      expect(outcome.acknowledged && outcome.offsets[0]).toBe(String(outcomes[0]![index]!.positions.length));
    }
  });

  it('sends a partition the answer left out again, in a call of its own, and every message reaches the topic once', async () => {
    const { topic, sender } = await senderOn(6);
    const real = await connectedProducer();
    const messages = keyed(30);
    const withheld = sender.partitionOf(messages[0]!);
    const { producer, calls } = recording(real, withholdingPartition(real, () => withheld, () => calls.length === 1));

    const outcomes = await sender.send(producer, messages);

    expect(outcomes).toEqual(expectedPartitions(sender, messages).map(([partition, positions]) => acknowledgedAt(partition, positions)));
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual({ topic, acks: -1, timeout: 10_000, messages: onPartition(sender, messages, withheld) });
    const read = await readTopic(kafka, topic, { count: 30, decode: false });
    expect(read.map((message) => message.key).sort()).toEqual(messages.map((message) => message.key).sort());
  });

  it('gives a partition sent again after an answer that left it out the offsets of the later answer', async () => {
    const { topic, sender } = await senderOn(6);
    const real = await connectedProducer();
    const warmUp = keyed(30);
    await sender.send(real, warmUp);
    const messages = warmUp.map((message) => ({ ...message, value: `again-${String(message.value)}` }));
    const withheld = sender.partitionOf(messages[0]!);
    const { producer, calls } = recording(real, withholdingPartition(real, () => withheld, () => calls.length === 1));

    const outcomes = await sender.send(producer, messages);

    expect(calls).toHaveLength(2);
    const { found, sent } = keysAtOffsets(outcomes, messages, await keysByRecord(topic, 60));
    expect(found).toEqual(sent);
    const resent = outcomes.find((outcome) => outcome.partition === withheld)!;
    expect(resent.acknowledged && resent.offsets[0]).toBe(String(resent.positions.length));
  });

  it('leaves a partition still left out after three calls unacknowledged, with a retriable KafkaJSError naming it', async () => {
    const { topic, sender } = await senderOn(6);
    const real = await connectedProducer();
    const messages = keyed(30);
    const withheld = sender.partitionOf(messages[0]!);
    const { producer, calls } = recording(real, withholdingPartition(real, () => withheld, () => true));

    const outcomes = await sender.send(producer, messages);

    const error = expect.objectContaining({ name: 'KafkaJSError', retriable: true, message: expect.stringContaining(`${topic} partition ${withheld} was not acknowledged: absent from the answers of 3 produce calls`) });
    expect(outcomes).toEqual(
      expectedPartitions(sender, messages).map(([partition, positions]) => (partition === withheld ? { partition, positions, acknowledged: false, error } : acknowledgedAt(partition, positions))),
    );
    expect(calls.slice(1)).toEqual([1, 2].map(() => ({ topic, acks: -1, timeout: 10_000, messages: onPartition(sender, messages, withheld) })));
    const delivered = messages.filter((message) => sender.partitionOf(message) !== withheld);
    const read = await readTopic(kafka, topic, { count: delivered.length, decode: false });
    expect(read.map((message) => message.key).sort()).toEqual(delivered.map((message) => message.key).sort());

    await expect(sender.sendAll(producer, messages)).rejects.toEqual(error);
  });

  it('fails every partition of a call that rejects, without sending again; sendAll rejects with that failure', async () => {
    const { sender } = await senderOn(6);
    const refusal = new KafkaJSError('the broker went away', { retriable: true });
    const { producer, calls } = recording(await connectedProducer(), () => Promise.reject(refusal));
    const messages = keyed(30);

    const outcomes = await sender.send(producer, messages);

    expect(outcomes).toEqual(expectedPartitions(sender, messages).map(([partition, positions]) => ({ partition, positions, acknowledged: false, error: refusal })));
    expect(calls).toHaveLength(1);
    await expect(sender.sendAll(producer, messages)).rejects.toBe(refusal);
  });

  it.each<[string, unacknowledged: 'every partition of the call' | 'that partition', because: string, alter: (answer: RecordMetadata[], partition: number) => RecordMetadata[]]>([
    ['names a partition the call did not carry', 'every partition of the call', 'the answer names what was not sent', (answer, partition) => answer.map((entry) => (entry.partition === partition ? { ...entry, partition: 6 } : entry))],
    ['names another topic', 'every partition of the call', 'the answer names what was not sent', (answer, partition) => answer.map((entry) => (entry.partition === partition ? { ...entry, topicName: 'elsewhere' } : entry))],
    ['carries an error code for one partition', 'that partition', 'error codes in the answer', (answer, partition) => answer.map((entry) => (entry.partition === partition ? { ...entry, errorCode: 6 } : entry))],
    ['gives no offset for one partition', 'that partition', 'the answer gives no offset', (answer, partition) => answer.map((entry) => (entry.partition === partition ? { ...entry, baseOffset: undefined } : entry))],
  ])('an answer that %s leaves %s unacknowledged with a retriable KafkaJSError, and nothing is sent again', async (_case, unacknowledged, because, alter) => {
    const { sender } = await senderOn(6);
    const real = await connectedProducer();
    const messages = keyed(30);
    const altered = sender.partitionOf(messages[0]!);
    const { producer, calls } = recording(real, async (record) => alter(await real.send(record), altered));

    const outcomes = await sender.send(producer, messages);

    const expected = expectedPartitions(sender, messages);
    const failing = unacknowledged === 'every partition of the call' ? expected.map(([partition]) => partition) : [altered];
    const named = failing.length === 1 ? `partition ${failing[0]}` : `partitions ${failing.join(', ')}`;
    const error = expect.objectContaining({ name: 'KafkaJSError', retriable: true, message: expect.stringContaining(`${named} was not acknowledged: ${because}`) });
    expect(outcomes).toEqual(expected.map(([partition, positions]) => (failing.includes(partition) ? { partition, positions, acknowledged: false, error } : acknowledgedAt(partition, positions))));
    expect(calls).toHaveLength(1);
  });

  it('learns the partition count on the first send when start was not called', async () => {
    const topic = await createTestTopic(await testAdmin(kafka), { prefix: 'partitioned', partitions: 6 });
    const sender = createPartitionedSender({ kafka, topic });
    await sender.sendAll(await connectedProducer(), [{ key: '1', value: 'x' }]);
    const [message] = await readTopic(kafka, topic, { count: 1, decode: false });
    expect(message!.partition).toBe(3);
  });
});
