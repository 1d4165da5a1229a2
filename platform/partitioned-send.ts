import { KafkaJSError, Partitioners, type Kafka, type Message, type PartitionMetadata, type Producer, type RecordMetadata } from 'kafkajs';

/** kafkajs's own default for how long the broker may wait for the in-sync replicas. */
const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * One partition's share of a send: where its messages were in the list, and whether it was
 * acknowledged; if it was, the offset each was written at (decimal int64 text, as kafkajs gives
 * offsets), one for each position.
 */
export type PartitionOutcome = {
  readonly partition: number;
  /** Positions in the list handed to `send`, in order. */
  readonly positions: readonly number[];
} & ({ readonly acknowledged: true; readonly offsets: readonly string[] } | { readonly acknowledged: false; readonly error: unknown });

/** Produce calls in one send at most: the first, and re-sends of the partitions left out of its answer. */
const MAX_CALLS = 3;

/** An acknowledged partition carries the offset its answer gave the first of its messages in that call. */
type Verdict = { readonly acknowledged: true; readonly baseOffset: bigint } | { readonly acknowledged: false; readonly error: unknown };

/** An answer's offset for a partition: `baseOffset` from produce v3 on, `offset` before; a non-negative int64, or undefined. */
function baseOffsetOf(entry: RecordMetadata): bigint | undefined {
  const text = entry.baseOffset ?? entry.offset;
  return text !== undefined && /^\d{1,19}$/.test(text) ? BigInt(text) : undefined;
}

/** A message with the partition `partitionOf` gave it. */
type Placed = Message & { partition: number };

/** What one produce call settled, by partition, and the partitions its answer left out. */
type CallResult = { readonly settled: ReadonlyMap<number, Verdict>; readonly absent: readonly number[] };

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
   * Sends the messages in one produce call, then the partitions its answer left out in another,
   * up to three calls, and settles with one outcome per partition, in partition order. It rejects
   * only when the partition count cannot be learned.
   */
  send(producer: Producer, messages: readonly Message[]): Promise<PartitionOutcome[]>;
  /** `send`, all or nothing: rejects with the first unacknowledged partition's error. */
  sendAll(producer: Producer, messages: readonly Message[]): Promise<void>;
}

/**
 * Produces to `topic` in one produce call per send, and checks that its answer covers every
 * partition the call carried.
 *
 * One call, not one per partition: the producers are idempotent with one request in flight, and
 * kafkajs serialises an idempotent producer's requests to a broker behind a lock (eosManager's
 * `acquireBrokerLock`), so calls carrying one partition each reach a broker one after another, a
 * round trip per partition. One call is one request per broker, all partitions in it. Measured on
 * the receiver: from about 4,400 to 8,000 accepted requests per second, 35% less CPU per request,
 * and at 1,000 requests per second the end-to-end p50 from 266 to 157 ms.
 *
 * The coverage check: kafkajs 2.2.4 remembers, across the retries of one call, which brokers
 * already answered, and a retry sends only to brokers that have not. When a partition's leader
 * moves during the call to a broker that already answered for other partitions, that partition's
 * messages are never sent and the call still resolves, the partition absent from its answer
 * (tulios/kafkajs#1303). So every partition sent must be in the answer, for this topic, with error
 * code 0. The partitions left out are sent again, only their messages, with the same producer, up
 * to MAX_CALLS calls in all; still left out, they are unacknowledged with a retriable error.
 * Re-sending with the same producer is safe because kafkajs (producer/sendMessages.js) reads and
 * advances a partition's sequence number only while building a request that carries it, and takes
 * the advance back when that request fails: a partition absent from the answer was in no request
 * that succeeded, so its sequence is where it stood before the call. The re-send numbers its
 * records as a failed attempt did, and if that attempt was written after all (its answer lost),
 * the broker takes the re-send as its duplicate. This holds only while no other send uses the
 * producer meanwhile (ReplaceableProducer runs one send at a time).
 *
 * One call can also write a partition twice: acknowledged by one broker whose request failed for
 * another partition, it is sent again in the retry, and if its leader moved meanwhile, the new
 * leader appends it under the next numbers. Event ids make that harmless downstream, as for any
 * resend.
 *
 * Where each message was written: a call carries a partition's messages in the order of the list
 * (`produce` filters the list, kafkajs groups it by partition keeping its order, and numbers a
 * partition's records 0, 1, … in its record batch), and the broker writes that batch at the
 * `baseOffset` its answer gives, so the message at index i among the partition's messages is at
 * baseOffset + i. A partition sent again after an answer left it out takes its baseOffset from
 * the answer of the call that settled it. A re-send the broker takes as a duplicate is answered
 * with the offset of the batch it already holds. A partition written twice in one call (below)
 * appears twice in the answer: both copies hold the same records in the same order, and the
 * first entry is used. An acknowledging entry with no offset is not an answer: the partition is
 * unacknowledged (produce v3+, all an idempotent producer uses, always gives one).
 *
 * A call that rejects leaves every partition it carried unacknowledged with its error: which
 * brokers wrote before it failed is unknown, and the callers send again, the duplicates dropped
 * downstream. An answer that names a partition or topic the call did not carry is not an answer
 * to it, and leaves all of them unacknowledged; a partition answered with an error code is
 * unacknowledged (kafkajs throws on those first: both are defence in depth).
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

  function notAcknowledged(partitions: readonly number[], why: string): KafkaJSError {
    const which = partitions.length === 1 ? `partition ${partitions[0]}` : `partitions ${partitions.join(', ')}`;
    return new KafkaJSError(`Produce to ${topic} ${which} was not acknowledged: ${why}`, { retriable: true });
  }

  const every = (partitions: readonly number[], verdict: Verdict): CallResult => ({ settled: new Map(partitions.map((partition) => [partition, verdict])), absent: [] });

  /** The call's answer read against what it carried: see the rules above. */
  function judge(partitions: readonly number[], answer: readonly RecordMetadata[]): CallResult {
    const carried = new Set(partitions);
    const foreign = answer.filter((entry) => entry.topicName !== topic || !carried.has(entry.partition));
    if (foreign.length > 0) return every(partitions, { acknowledged: false, error: notAcknowledged(partitions, `the answer names what was not sent: ${JSON.stringify(foreign)}`) });
    const refused = answer.filter((entry) => entry.errorCode !== 0);
    const refusedPartitions = [...new Set(refused.map((entry) => entry.partition))].sort((a, b) => a - b);
    // Built only when needed: an error captures a stack, and this runs for every batch.
    const refusal: Verdict | undefined =
      refused.length > 0 ? { acknowledged: false, error: notAcknowledged(refusedPartitions, `error codes in the answer: ${JSON.stringify(refused)}`) } : undefined;
    const answered = new Map<number, RecordMetadata>();
    for (const entry of answer) if (!answered.has(entry.partition)) answered.set(entry.partition, entry);
    const unplaced = [...answered.values()].filter((entry) => !refusedPartitions.includes(entry.partition) && baseOffsetOf(entry) === undefined);
    const noOffset: Verdict | undefined =
      unplaced.length > 0
        ? { acknowledged: false, error: notAcknowledged(unplaced.map((entry) => entry.partition).sort((a, b) => a - b), `the answer gives no offset: ${JSON.stringify(unplaced)}`) }
        : undefined;
    const settled = new Map<number, Verdict>();
    for (const [partition, entry] of answered) {
      const baseOffset = baseOffsetOf(entry);
      if (refusal && refusedPartitions.includes(partition)) settled.set(partition, refusal);
      else if (baseOffset === undefined) settled.set(partition, noOffset!);
      else settled.set(partition, { acknowledged: true, baseOffset });
    }
    return { settled, absent: partitions.filter((partition) => !answered.has(partition)) };
  }

  async function produce(producer: Producer, placed: readonly Placed[], partitions: readonly number[]): Promise<CallResult> {
    const carried = new Set(partitions);
    let answer: RecordMetadata[];
    try {
      answer = await producer.send({ topic, acks: -1, timeout, messages: placed.filter((message) => carried.has(message.partition)) });
    } catch (error) {
      return every(partitions, { acknowledged: false, error });
    }
    return judge(partitions, answer);
  }

  /** Calls until every partition is settled or MAX_CALLS were made; those still left out are unacknowledged. */
  async function produceCovering(producer: Producer, placed: readonly Placed[], partitions: readonly number[]): Promise<Map<number, Verdict>> {
    const verdicts = new Map<number, Verdict>();
    let absent = partitions;
    for (let calls = 0; calls < MAX_CALLS && absent.length > 0; calls += 1) {
      const result = await produce(producer, placed, absent);
      result.settled.forEach((verdict, partition) => verdicts.set(partition, verdict));
      absent = result.absent;
    }
    if (absent.length > 0) {
      const error = notAcknowledged(absent, `absent from the answers of ${MAX_CALLS} produce calls (tulios/kafkajs#1303)`);
      for (const partition of absent) verdicts.set(partition, { acknowledged: false, error });
    }
    return verdicts;
  }

  async function send(producer: Producer, messages: readonly Message[]): Promise<PartitionOutcome[]> {
    await start();
    const placed = messages.map((message) => ({ ...message, partition: partitionOf(message) }));
    const positions = new Map<number, number[]>();
    placed.forEach(({ partition }, position) => {
      const list = positions.get(partition);
      if (list) list.push(position);
      else positions.set(partition, [position]);
    });
    const partitions = [...positions.keys()].sort((a, b) => a - b);
    const verdicts = await produceCovering(producer, placed, partitions);
    return partitions.map((partition): PartitionOutcome => {
      const at = positions.get(partition)!;
      const verdict = verdicts.get(partition)!;
      if (!verdict.acknowledged) return { partition, positions: at, ...verdict };
      return { partition, positions: at, acknowledged: true, offsets: at.map((_, index) => String(verdict.baseOffset + BigInt(index))) };
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
