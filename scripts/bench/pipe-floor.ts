import { randomBytes } from 'node:crypto';
import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { ensureTopics } from '../../platform/topics';
import { createArrivals, measureAtRate, sendAtRate, waitFor } from './arrivals';
import { benchName } from './bench-env';
import { startScript } from './children';
import { kafkaBrokerPids, onePid, postgresPids, startCpuWindow } from './cpu-usage';
import { latencyRound, type LatencyRound } from './round-summary';

/** About an encoded webhook event with its CloudEvents headers: the bytes each hop carries. */
const PAYLOAD_BYTES = 400;
/** The receiver's PUBLISH_BATCH_MAX default. */
const MAX_BATCH = 1000;

/**
 * As the receiver batches: kafkajs has no linger, so what arrives while a send is on the wire
 * goes together in the next send. Resolves whether the broker acknowledged the message.
 */
function createBatchingSender(producer: Producer, topic: string): (message: Message) => Promise<boolean> {
  const queue: Array<{ message: Message; settle: (acknowledged: boolean) => void }> = [];
  let busy = false;
  async function drain(): Promise<void> {
    busy = true;
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      const acknowledged = await producer.send({ topic, acks: -1, messages: batch.map((entry) => entry.message) }).then(
        () => true,
        () => false,
      );
      for (const entry of batch) entry.settle(acknowledged);
    }
    busy = false;
  }
  return (message) =>
    new Promise((settle) => {
      queue.push({ message, settle });
      if (!busy) void drain();
    });
}

/**
 * The floor under the end-to-end latency: the same two Kafka hops at the same scheduled rate
 * with nothing of ours in between. A producer batching as the receiver does, a forwarder in its
 * own process consuming as the processor does and sending each batch on at once, and a reader
 * of the second topic as the end-to-end reader. Latency runs from the scheduled send time to
 * the read on the second topic; warm-up as the end-to-end round's (a first message all the way
 * through, then `warmUp` messages at the rate).
 */
export async function pipeFloorRound(options: { kafka: Kafka; kafkaBrokers: string; rate: number; seconds: number; warmUp: number }): Promise<LatencyRound> {
  const { kafka, rate, seconds, warmUp } = options;
  const count = rate * seconds;
  const topics = { from: benchName('pipe_in'), to: benchName('pipe_out') };
  await ensureTopics(kafka, [
    { topic: topics.from, partitions: 6 },
    { topic: topics.to, partitions: 6 },
  ]);
  const forwarder = startScript('scripts/bench/pipe-forwarder.ts', {
    ...process.env,
    KAFKA_BROKERS: options.kafkaBrokers,
    PIPE_FROM_TOPIC: topics.from,
    PIPE_TO_TOPIC: topics.to,
    PIPE_GROUP: benchName('pipe_forwarder'),
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  const reader = kafka.consumer({ groupId: benchName('pipe_reader'), maxWaitTimeInMs: 50 });
  const arrivals = createArrivals(count);
  const payload = randomBytes(PAYLOAD_BYTES);
  let probeArrived = false;
  try {
    await forwarder.firstLine;
    await producer.connect();
    await reader.connect();
    await reader.subscribe({ topic: topics.to, fromBeginning: true });
    let joined = false;
    reader.on(reader.events.GROUP_JOIN, () => (joined = true));
    await reader.run({
      eachMessage: async ({ message }) => {
        const arrived = performance.now();
        const seq = String(message.headers?.seq ?? '');
        if (seq === 'probe') probeArrived = true;
        else if (seq !== 'warm-up') arrivals.arrive(Number(seq), arrived);
      },
    });
    await waitFor(() => joined, 60_000);
    const send = createBatchingSender(producer, topics.from);
    const message = (key: number, seq: string): Message => ({ key: String(key), value: payload, headers: { seq } });
    await send(message(0, 'probe'));
    if (!(await waitFor(() => probeArrived, 60_000))) throw new Error('pipe floor: the first message did not come through within 60 s');
    await sendAtRate({ rate, count: warmUp, firstDue: performance.now(), send: (index) => void send(message(index, 'warm-up')) });

    const cpu = startCpuWindow({ forwarder: onePid(forwarder.pid), broker: kafkaBrokerPids, postgres: postgresPids });
    const start = performance.now() + 20;
    const accepted = await measureAtRate({ rate, count, firstDue: start, arrivals, send: (index) => send(message(index, String(index))) });
    return latencyRound({ arrivals, start, seconds, accepted, cpuMs: cpu.stop() });
  } finally {
    await reader.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    await forwarder.stop();
  }
}
