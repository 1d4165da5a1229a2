import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { webhookLogMessages } from '../platform/log-messages';
import { StartupAborted } from '../platform/service-lifecycle';
import type { PartitionedSender } from '../platform/partitioned-send';
import type { ReplaceableProducer } from '../platform/replaceable-producer';
import type { ProcessorConfig } from './config';
import { sendToDeadLetters } from './dead-letters';
import { classifyFailure, type FailureCode } from './errors';
import type { OutboxRelay } from './outbox-relay';
import type { EventApplier, ProcessedMessage } from './process-events';
import type { ProcessorMetrics } from './metrics';

export interface WebhookConsumer {
  /**
   * Connects, subscribes and joins the group; safe to call again after it failed. Once `stop`
   * began it rejects with StartupAborted instead, including a start that `stop` interrupted.
   */
  start(): Promise<void>;
  /**
   * Finishes the chunk under way, commits its offsets, leaves the group; for good. A start under
   * way is cut short and settles before this does; a join it cut short is left to finish without
   * it, and the member leaves once it has (a join waits for every other member to rejoin, which
   * can take up to the group's rebalance timeout). Every caller shares the one stop.
   */
  stop(): Promise<void>;
  isReady(): boolean;
  /**
   * The Kafka timestamp (ms since the epoch) of the oldest record fetched and not yet applied:
   * of the partitions with a batch in hand, the first record of the chunk under way. Undefined
   * when no batch is in hand.
   */
  oldestHeld(): number | undefined;
}

/**
 * How long a stop lets a join under way finish. A joining member waits until every member has
 * rejoined, which each does at its next heartbeat; a member that joined then leaves with
 * LeaveGroup, and the others rebalance at once. Cut short, the join is left to finish on its own
 * and the member leaves then; a process that exits first leaves a member that never syncs, whose
 * share of the partitions waits for its session to time out.
 */
const JOIN_SETTLE_MS = 1200;

/** The failure the processor stopped consuming on, by the classifier's code. */
export interface FatalFailure {
  readonly code: FailureCode;
  readonly error: unknown;
}

/**
 * The consumer group on webhook-events. Partitions run concurrently; within one, messages are
 * applied in offset order, a chunk per database transaction. An offset is resolved and
 * committed only after its transaction committed and its rejected events reached the DLQ, so a
 * crash anywhere replays, and the dedupe on event_id absorbs the replay.
 *
 * A failure the classifier says to stop on leaves its chunk as it is (nothing resolved, written
 * or dead-lettered), takes readiness down, and is handed to `onFatal` once; no chunk starts
 * after it. Stopping the consumer is the caller's: it cannot be done from inside a batch.
 *
 * Constructing it does no I/O: `start` connects.
 */
export function createWebhookConsumer(options: {
  kafka: Kafka;
  /** The dead letters' own producer. */
  producer: ReplaceableProducer;
  /** The dead-letter topic's sender. */
  deadLetters: PartitionedSender;
  config: ProcessorConfig;
  applier: EventApplier;
  relay: OutboxRelay;
  logger: Logger;
  metrics: ProcessorMetrics;
  onFatal: (failure: FatalFailure) => void;
}): WebhookConsumer {
  const { kafka, producer, deadLetters, config, applier, relay, logger, metrics } = options;
  const consumer: Consumer = kafka.consumer({
    groupId: config.consumerGroup,
    // A crashed instance's partitions move to the others after this long without a heartbeat.
    sessionTimeout: 10_000,
    // Also how long a member takes to notice a rebalance, which a joining member waits for.
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 100,
    retry: {
      retries: Number.MAX_SAFE_INTEGER,
      initialRetryTime: 300,
      maxRetryTime: 5000,
      // A join cut short by `stop` crashes the consumer: it must not start again behind the stop.
      restartOnFailure: async () => !stopping,
    },
  });
  let stopping = false;
  /** The stop, once begun: every caller waits for the same one. */
  let stopped: Promise<void> | undefined;
  /** The start under way, if any. */
  let starting: Promise<void> | undefined;
  /** Ends a start under way with StartupAborted, for a stop that waits no longer for its join. */
  let abandonStart: () => void = () => undefined;
  let joined = false;
  let healthy = true;
  let fatal: FatalFailure | undefined;
  /** By partition, the Kafka timestamp of the first record of its batch in hand not yet applied. */
  const held = new Map<number, number>();

  const isReady = (): boolean => joined && healthy && fatal === undefined;
  const setReady = (): void => metrics.ready.set(isReady() ? 1 : 0);

  function stopOn(failure: FatalFailure, context: Record<string, unknown>, detail: string): void {
    if (fatal) return;
    fatal = failure;
    setReady();
    logger.error({ err: failure.error, code: failure.code, ...context, detail }, 'Stopping the processor: a failure it can neither retry nor dead-letter');
    options.onFatal(failure);
  }

  /**
   * Runs `work`, and again with capped exponential backoff while the classifier says `retry`.
   * It heartbeats while `work` runs and between attempts, so a slow transaction or a registry
   * lookup that is being retried does not get this member dropped from the group. Undefined:
   * the batch must end here (the consumer is stopping, the partition moved, or a stop).
   */
  async function withRetry<T>(stage: string, work: () => Promise<T>, payload: EachBatchPayload, offset: string): Promise<T | undefined> {
    const context = { stage, topic: payload.batch.topic, partition: payload.batch.partition, offset };
    for (let attempt = 0; ; attempt += 1) {
      try {
        const result = await whileHeartbeating(work(), payload);
        if (!healthy) logger.info({ stage, retries: attempt }, 'Recovered after retrying');
        healthy = true;
        setReady();
        return result;
      } catch (error) {
        const failure = classifyFailure(error);
        metrics.failures.inc({ code: failure.code, decision: failure.decision });
        if (failure.decision !== 'retry') {
          // A `dead_letter` seen here escaped the applier: not even the rejection could be recorded.
          stopOn({ code: failure.code, error }, context, 'the event is left uncommitted for the next start');
          return undefined;
        }
        healthy = false;
        setReady();
        metrics.retries.inc({ stage });
        const delay = Math.min(config.retryMaxMs, config.retryInitialMs * 2 ** attempt) * (0.5 + Math.random() / 2);
        const fields = { err: error, code: failure.code, ...context, attempt, delay_ms: Math.round(delay) };
        // Credentials do not fix themselves: say so at error level, and keep the events waiting.
        if (failure.retriable) logger.warn(fields, 'Transient failure; retrying without committing');
        else logger.error(fields, 'Not transient: waiting for an operator to fix it; retrying without committing');
        const until = Date.now() + delay;
        while (Date.now() < until) {
          if (!payload.isRunning() || payload.isStale() || fatal) return undefined;
          await sleep(Math.min(1000, until - Date.now()));
          await payload.heartbeat();
        }
      }
    }
  }

  function report(processed: ProcessedMessage[]): void {
    for (const { result } of processed) {
      metrics.events.inc({ webhook_type: result.webhookType, outcome: result.outcome });
      const messages = webhookLogMessages(result.webhookType);
      if (result.outcome === 'applied') logger.info({ event_id: result.eventId, trade_id: result.tradeId }, result.message!);
      else if (result.outcome === 'rejected') {
        logger.error({ event_id: result.eventId, webhook_type: result.webhookType, trade_id: result.tradeId, reason: result.reason, detail: result.detail }, messages.failed);
      } else logger.info({ event_id: result.eventId, webhook_type: result.webhookType, trade_id: result.tradeId, outcome: result.outcome }, messages.notApplied);
    }
  }

  /** The batch's chunks; while they run, the partition's first unapplied record is what `oldestHeld` reads. */
  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    try {
      await applyChunks(payload);
    } finally {
      held.delete(payload.batch.partition);
    }
  }

  async function applyChunks(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale } = payload;
    const source = { topic: batch.topic, partition: batch.partition };
    for (let start = 0; start < batch.messages.length; start += config.eventsPerTransaction) {
      // `stopping` too: a join that succeeds after a stop cut it short fetches behind the stop.
      if (stopping || !isRunning() || isStale() || fatal) return;
      const chunk = batch.messages.slice(start, start + config.eventsPerTransaction);
      const first = chunk[0]!.offset;
      // A partition's records are in offset order, and their timestamps (CreateTime, the
      // receiver's clock as it wrote them) follow it: the first unapplied one is the oldest.
      held.set(batch.partition, Number(chunk[0]!.timestamp));
      const processed = await withRetry('apply', () => applier.apply(chunk, source), payload, first);
      if (!processed) return;
      const rejected = processed.filter(({ result }) => result.outcome === 'rejected' && !result.alreadyDeadLettered);
      if (rejected.length > 0) {
        const send = () => sendToDeadLetters(producer, deadLetters, source, rejected).then(() => true);
        const sent = await withRetry('dead-letter', send, payload, first);
        if (!sent) return;
        for (const { result } of rejected) metrics.deadLettered.inc({ reason: result.reason ?? 'unknown' });
      }
      report(processed);
      resolveOffset(chunk[chunk.length - 1]!.offset);
      await commitOffsetsIfNecessary();
      relay.publish(processed.flatMap(({ result }) => (result.notification ? [result.notification] : [])));
      await heartbeat();
    }
  }

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    if (stopping) return;
    joined = true;
    setReady();
    logger.info({ group: config.consumerGroup, partitions: payload.memberAssignment }, 'Joined consumer group');
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    joined = false;
    setReady();
    if (stopping) {
      logger.info({ group: config.consumerGroup }, 'Consumer stopped before it had joined its group');
      return;
    }
    logger.error({ err: payload.error, restart: payload.restart }, 'Consumer crashed');
    // kafkajs restarts the consumer after a retriable crash; after any other it stays down.
    if (!payload.restart) {
      const { code } = classifyFailure(payload.error);
      stopOn({ code, error: payload.error }, { stage: 'consume' }, 'the consumer crashed and kafkajs will not restart it');
    }
  });

  return {
    async start() {
      const abandoned = (): StartupAborted => new StartupAborted('Starting the consumer');
      if (stopping) throw abandoned();
      const run = (async () => {
        await consumer.connect();
        if (stopping) throw abandoned();
        await consumer.subscribe({ topic: config.webhookEventsTopic, fromBeginning: true });
        if (stopping) throw abandoned();
        await consumer.run({
          eachBatchAutoResolve: false,
          autoCommit: true,
          // Offsets are resolved after each chunk's transaction and committed every half second
          // and at the end of each batch: a commit per chunk would stall the partition for a
          // round trip to Kafka each time. What a crash leaves uncommitted is redelivered and
          // absorbed by the dedupe.
          autoCommitInterval: 500,
          partitionsConsumedConcurrently: config.partitionConcurrency,
          eachBatch,
        });
        // kafkajs's run settles after a join that `stop` cut short too, having crashed.
        if (stopping) throw abandoned();
      })();
      starting = run;
      const abandonedByStop = new Promise<never>((_, reject) => (abandonStart = () => reject(abandoned())));
      abandonedByStop.catch(() => undefined);
      try {
        await Promise.race([run, abandonedByStop]);
      } finally {
        if (starting === run) starting = undefined;
      }
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        joined = false;
        setReady();
        const run = starting;
        if (run) {
          const settled = await Promise.race([run.then(() => true, () => true), sleep(JOIN_SETTLE_MS).then(() => false)]);
          if (!settled) {
            abandonStart();
            // kafkajs's disconnect would wait for the JoinGroup in flight, which the broker answers
            // only once the members it waits for rejoin, their sessions end, or the rebalance
            // times out (60 s); and a stop under way is forgotten by a join that then succeeds.
            // So the disconnect follows the answer, stopping that join's runner and leaving the
            // group, and the stop does not wait. A process that exits first leaves a member the
            // broker drops at the end of its session.
            logger.info({ group: config.consumerGroup }, 'Stopped while joining the consumer group, without waiting for the join');
            void run
              .catch(() => undefined)
              .then(() => consumer.disconnect())
              .catch((error: unknown) => logger.warn({ err: error, group: config.consumerGroup }, 'Leaving the consumer group after an abandoned join failed'));
            return;
          }
        }
        await consumer.disconnect();
      })();
      return stopped;
    },
    isReady,
    oldestHeld() {
      let oldest: number | undefined;
      for (const timestamp of held.values()) if (oldest === undefined || timestamp < oldest) oldest = timestamp;
      return oldest;
    },
  };
}

/**
 * Heartbeats every second until `work` settles (kafkajs sends one only once its interval has
 * passed). A failed heartbeat (a rebalance) is left to the next one after the chunk, which
 * throws it to kafkajs.
 */
async function whileHeartbeating<T>(work: Promise<T>, payload: EachBatchPayload): Promise<T> {
  const timer = setInterval(() => void payload.heartbeat().catch(() => undefined), 1000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

