import { KafkaJSError, Partitioners, type Kafka, type Message, type PartitionMetadata, type Producer, type RecordMetadata } from 'kafkajs';

/** kafkajs's own default for how long the broker may wait for the in-sync replicas. */
const DEFAULT_TIMEOUT_MS = 30_000;

/** One partition's share of a send: where its messages were in the list, and whether its call was acknowledged. */
export type PartitionOutcome = {
  readonly partition: number;
  /** Positions in the list handed to `send`, in order. */
  readonly positions: readonly number[];
} & ({ readonly acknowledged: true } | { readonly acknowledged: false; readonly error: unknown });

export interface PartitionedSender {
  readonly topic: string;
  /**
   * Learns the topic's partition count from the cluster, once: later calls return the first
   * answer; a failed one is asked again on the next call.
   */
  start(): Promise<void>;
  /** The partition a message goes to: kafkajs's DefaultPartitioner over the count `start` learned. */
  partitionOf(message: Message): number;
  /**
   * Sends each partition's messages as its own produce call, all concurrently, and settles once
   * every call has: one outcome per partition, in partition order. It rejects only when the
   * partition count cannot be learned.
   */
  send(producer: Producer, messages: readonly Message[]): Promise<PartitionOutcome[]>;
  /** `send`, all or nothing: rejects with the first failed partition's error once every call settled. */
  sendAll(producer: Producer, messages: readonly Message[]): Promise<void>;
}

/**
 * Produces to `topic` with exactly one partition per produce call.
 *
 * kafkajs 2.2.4 remembers, across the retries of one `send`, which brokers already answered, and
 * a retry only sends to brokers that have not. When a partition's leader moves during the call to
 * a broker that already answered for other partitions, that partition's messages are never sent
 * and the call still resolves (tulios/kafkajs#1303). A call for one partition has one leader:
 * either it answered for all of it, or the retry sends all of it to the new leader.
 *
 * Each message gets the partition kafkajs's DefaultPartitioner (Java's murmur2 of the key) would
 * have given it, set explicitly, so keys land where they did when kafkajs chose. The count is
 * learned once: partitions added to the topic later get no keys until the service restarts, and
 * every key keeps its partition meanwhile, so the order of one key's messages holds.
 *
 * Constructing does no I/O; `start` (or the first send) asks the cluster.
 */
export function createPartitionedSender(options: { kafka: Kafka; topic: string; timeoutMs?: number }): PartitionedSender {
  const { kafka, topic } = options;
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // kafkajs's own partitioner, one instance: keyless messages take its round robin.
  const partitioner = Partitioners.DefaultPartitioner();
  let partitionMetadata: PartitionMetadata[] | undefined;
  let learning: Promise<void> | undefined;

  async function learn(): Promise<void> {
    // Bounded like the services' producers: a caller that must wait for Kafka asks again.
    const admin = kafka.admin({ retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 } });
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      const count = metadata.topics.find((entry) => entry.name === topic)?.partitions.length ?? 0;
      if (count === 0) throw new KafkaJSError(`Topic ${topic} has no partitions in the metadata yet`, { retriable: true });
      // The partitioner reads only the count and, for keyless messages, which partitions have a
      // leader: every one counts as led, so the round robin covers them all.
      partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [], isr: [] }));
    } finally {
      await admin.disconnect();
    }
  }

  function start(): Promise<void> {
    if (partitionMetadata) return Promise.resolve();
    learning ??= learn().finally(() => {
      learning = undefined;
    });
    return learning;
  }

  function partitionOf(message: Message): number {
    if (!partitionMetadata) throw new Error(`PartitionedSender.partitionOf() called before start() finished for topic ${topic}`);
    return partitioner({ topic, partitionMetadata, message });
  }

  /** Defence in depth: the broker's answer must be for this partition and without an error. */
  function checkAcknowledged(partition: number, metadata: RecordMetadata[]): void {
    const acknowledged = metadata.length === 1 && metadata[0]!.topicName === topic && metadata[0]!.partition === partition && metadata[0]!.errorCode === 0;
    if (!acknowledged) {
      throw new KafkaJSError(`Produce to ${topic} partition ${partition} was not acknowledged for that partition: ${JSON.stringify(metadata)}`, { retriable: true });
    }
  }

  async function sendPartition(producer: Producer, partition: number, messages: Message[]): Promise<void> {
    checkAcknowledged(partition, await producer.send({ topic, acks: -1, timeout, messages }));
  }

  async function send(producer: Producer, messages: readonly Message[]): Promise<PartitionOutcome[]> {
    await start();
    const groups = new Map<number, { positions: number[]; messages: Message[] }>();
    messages.forEach((message, position) => {
      const partition = partitionOf(message);
      let group = groups.get(partition);
      if (!group) groups.set(partition, (group = { positions: [], messages: [] }));
      group.positions.push(position);
      group.messages.push({ ...message, partition });
    });
    const partitions = [...groups.keys()].sort((a, b) => a - b);
    const settled = await Promise.allSettled(partitions.map((partition) => sendPartition(producer, partition, groups.get(partition)!.messages)));
    return partitions.map((partition, index) => {
      const result = settled[index]!;
      const { positions } = groups.get(partition)!;
      return result.status === 'fulfilled' ? { partition, positions, acknowledged: true } : { partition, positions, acknowledged: false, error: result.reason };
    });
  }

  return {
    topic,
    start,
    partitionOf,
    send,
    async sendAll(producer, messages) {
      for (const outcome of await send(producer, messages)) {
        if (!outcome.acknowledged) throw outcome.error;
      }
    },
  };
}
