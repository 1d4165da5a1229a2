import { KafkaJSError, KafkaJSProtocolError, type Message, type Producer } from 'kafkajs';
import type { PartitionedSender, PartitionOutcome } from './partitioned-send';

/**
 * Broker errors about the records themselves: the broker was reached, answered, and appended
 * nothing. A batch over the topic's `max.message.bytes` is MESSAGE_TOO_LARGE (Java's
 * RecordTooLargeException or RecordBatchTooLargeException); RECORD_LIST_TOO_LARGE,
 * INVALID_RECORD and INVALID_TIMESTAMP refuse a batch's contents as well. Each depends only on
 * the records, so every retry of the call was refused the same way.
 */
const REFUSING_RECORDS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'INVALID_TIMESTAMP']);

/** The broker's refusal of the records, when that is why a send failed; kafkajs wraps a broker's answer in retry errors, so causes are followed. */
export function recordsRefusal(error: unknown): KafkaJSProtocolError | undefined {
  for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth += 1) {
    if (cause instanceof KafkaJSProtocolError && REFUSING_RECORDS.has(cause.type)) return cause;
  }
  return undefined;
}

export interface ReplaceableProducer {
  /** Connects a producer unless one is connected: `use` does it too, this says at start-up whether Kafka answers. */
  connect(): Promise<void>;
  /**
   * Runs `work` with the current producer, connecting a new one first if there is none. A
   * producer replaced while work uses it stays connected until that work has settled.
   */
  use<T>(work: (producer: Producer) => Promise<T>): Promise<T>;
  /** Stops handing out `producer` (the current one by default) and disconnects it once no work uses it. */
  replace(producer?: Producer): void;
  /**
   * `sender.send` with the current producer, one send at a time; the producer is replaced after
   * any failure, unless the broker refused the records of a send that carried one partition.
   */
  send(sender: PartitionedSender, messages: readonly Message[]): Promise<PartitionOutcome[]>;
  /** `send`, all or nothing: rejects with the first failed partition's error once every call settled. */
  sendAll(sender: PartitionedSender, messages: readonly Message[]): Promise<void>;
  /**
   * Disconnects every producer it made, in use or not; the next `use` connects a new one. With
   * `withinMs`, resolves after that long at the latest: a broker that holds its connections open
   * and answers nothing would hold a disconnect for kafkajs's request timeout. What is not
   * disconnected by then carries on disconnecting: records are acknowledged before a send
   * resolves, so giving up the wait loses none that a caller was told are written.
   */
  disconnect(withinMs?: number): Promise<void>;
}

/**
 * Idempotent producers, one at a time, the current one replaced after a send that failed but may
 * have been written.
 *
 * kafkajs (2.2) numbers each batch from its per-partition sequence counter and keeps the advance
 * only when the produce call is acknowledged. A call the broker wrote whose acknowledgement was
 * lost (the connection dropped, the request timed out) and whose retries ran out leaves the counter
 * behind the broker's: the next batch to that partition reuses the written batch's numbers. The
 * broker answers it as a duplicate of the written batch when the record count matches (acknowledged,
 * its records dropped), and with OUT_OF_ORDER_SEQUENCE_NUMBER otherwise, for every later batch.
 * A new producer gets a new producer id from `connect`, whose sequences start at zero; connecting
 * the same producer again keeps its id and its counters.
 *
 * A produce request carries several partitions, and kafkajs takes back the advance of every
partition in a request that failed, including partitions the broker wrote before refusing
another's records (it throws on the first partition error in the answer). So only a refusal of
the records (`recordsRefusal`) in a send that carried a single partition keeps the producer: the
broker appended nothing of it. Every other failure replaces it.

A producer's sends go one at a time. While a send waits to retry a request that failed for one
partition, the other partitions of that request have had their advance taken back, written or
not; a second send on the same producer in that gap would reuse the numbers of what was written,
and the broker would drop it as a duplicate while acknowledging it (the relay's fast path and its
sweep share a producer). Sends waiting for their turn on a producer that is replaced meanwhile
move to the new one, so a send stuck on a broker holds up nothing once its caller has given up
and replaced the producer; sends still waiting when `disconnect` is called fail instead.
 *
 * Constructing does no I/O; `create` is called for each producer, and must return an idempotent one.
 */
export function createReplaceableProducer(create: () => Producer): ReplaceableProducer {
  let current: Producer | undefined;
  let connecting: Promise<Producer> | undefined;
  /** How many `use` calls each producer is in. */
  const users = new Map<Producer, number>();
  /** Replaced, waiting for their work to settle before they are disconnected. */
  const retired = new Set<Producer>();
  const closing = new Set<Promise<void>>();

  function close(producer: Producer): void {
    retired.delete(producer);
    const done: Promise<void> = producer
      .disconnect()
      .catch(() => undefined)
      .finally(() => closing.delete(done));
    closing.add(done);
  }

  function connected(): Promise<Producer> {
    if (current) return Promise.resolve(current);
    connecting ??= (async () => {
      const next = create();
      try {
        await next.connect();
      } catch (error) {
        await next.disconnect().catch(() => undefined);
        throw error;
      }
      current = next;
      return next;
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  function replace(producer: Producer | undefined = current): void {
    if (!producer) return;
    if (producer === current) current = undefined;
    if (users.has(producer)) retired.add(producer);
    else close(producer);
  }

  async function use<T>(work: (producer: Producer) => Promise<T>): Promise<T> {
    return withProducer(await connected(), work);
  }

  /** Runs `work` with `producer`, counted as one of its users so that a replace waits for it. */
  async function withProducer<T>(producer: Producer, work: (producer: Producer) => Promise<T>): Promise<T> {
    users.set(producer, (users.get(producer) ?? 0) + 1);
    try {
      return await work(producer);
    } finally {
      const left = users.get(producer)! - 1;
      if (left > 0) users.set(producer, left);
      else {
        users.delete(producer);
        if (retired.has(producer)) close(producer);
      }
    }
  }

  /** Whether a send's failures leave the producer's sequence numbers as the broker has them. */
  function stillInStep(outcomes: readonly PartitionOutcome[]): boolean {
    const failed = outcomes.filter((outcome) => !outcome.acknowledged);
    return failed.length === 0 || (outcomes.length === 1 && failed.every((outcome) => !outcome.acknowledged && recordsRefusal(outcome.error)));
  }

  /** Each producer's last queued send: the next send on it starts once that one has settled. */
  const lastSend = new WeakMap<Producer, Promise<void>>();
  /** Moves on at each `disconnect`: sends queued before it give up instead of connecting again. */
  let generation = 0;

  /**
   * Waits for its turn on the current producer. A producer replaced meanwhile is not used: its
   * numbers may be out of step, and a send stuck on it must not hold the sends behind it, which
   * queue again on the new one.
   */
  async function send(sender: PartitionedSender, messages: readonly Message[]): Promise<PartitionOutcome[]> {
    const queuedIn = generation;
    for (;;) {
      const producer = await connected();
      const before = lastSend.get(producer) ?? Promise.resolve();
      let done: () => void = () => undefined;
      lastSend.set(producer, before.then(() => new Promise<void>((resolve) => (done = resolve))));
      await before;
      try {
        if (generation !== queuedIn) throw new KafkaJSError('The producer was disconnected while this send waited for its turn', { retriable: true });
        if (producer !== current) continue;
        return await withProducer(producer, async () => {
          const outcomes = await sender.send(producer, messages);
          if (!stillInStep(outcomes)) replace(producer);
          return outcomes;
        });
      } finally {
        done();
      }
    }
  }

  return {
    async connect() {
      await connected();
    },
    use,
    replace,
    send,
    async sendAll(sender, messages) {
      for (const outcome of await send(sender, messages)) {
        if (!outcome.acknowledged) throw outcome.error;
      }
    },
    async disconnect(withinMs) {
      generation += 1;
      const all = (async () => {
        await connecting?.catch(() => undefined);
        replace();
        for (const producer of [...retired]) close(producer);
        await Promise.all([...closing]);
      })();
      if (withinMs === undefined) return all;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, withinMs)));
      await Promise.race([all, deadline]);
      clearTimeout(timer);
    },
  };
}
