import type { Knex } from 'knex';
import type { KafkaMessage } from 'kafkajs';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { applyChunk, type ApplyResult } from './apply-chunk';
import { decodeEvent, type DecodedEvent } from './decode-event';
import { classifyFailure, refusalDetail } from './errors';
import { startConsume, traceTransaction } from './event-trace';
import { createGroupCommit } from './group-commit';
import type { ProcessorMetrics } from './metrics';

export interface ProcessedMessage {
  readonly message: KafkaMessage;
  readonly result: ApplyResult;
}

/**
 * Applies a chunk of one partition's messages in offset order, in one transaction with the
 * chunks other partitions handed over at the same time (createGroupCommit). Only the
 * database refusing an event's data (the classifier's `dead_letter`) is handled here: it must not
 * take its neighbours down, so the chunk is then applied one event per transaction, and the
 * event that still fails alone is recorded as rejected with the refusal's code. Every other
 * failure is thrown with nothing committed, for the caller to retry or stop on.
 */
export function createEventApplier(options: {
  db: Knex;
  registry: SchemaRegistry;
  notificationsTopic: string;
  metrics: ProcessorMetrics;
  /** Events of several partitions' chunks applied in one transaction, at most (see createGroupCommit). */
  eventsPerTransaction: number;
  /** Transactions under way at a time, at most: one, unless full groups are waiting. */
  transactionsInFlight: number;
}) {
  const { db, registry, notificationsTopic, metrics } = options;

  async function inTransaction(events: DecodedEvent[]): Promise<ApplyResult[]> {
    const started = performance.now();
    const results = await traceTransaction(
      events.map((event) => event.source),
      (committing) => db.transaction((trx) => applyChunk(trx, events, notificationsTopic).then((results) => (committing(), results))),
    );
    metrics.transactionDuration.observe((performance.now() - started) / 1000);
    metrics.eventsPerTransaction.observe(events.length);
    return results;
  }

  async function isolate(events: DecodedEvent[]): Promise<ApplyResult[]> {
    try {
      return await inTransaction(events);
    } catch (error) {
      const failure = classifyFailure(error);
      if (failure.decision !== 'dead_letter') throw error;
      if (events.length > 1) {
        const results: ApplyResult[] = [];
        for (const event of events) results.push(...(await isolate([event])));
        return results;
      }
      const event = events[0]!;
      metrics.failures.inc({ code: failure.code, decision: failure.decision });
      const detail = refusalDetail(error);
      const rejected: DecodedEvent = event.ok
        ? { ok: false, reason: failure.code, detail, envelope: event.envelope, eventId: event.envelope.event_id, webhookType: event.envelope.webhook_type, body: event.envelope.body, source: event.source }
        : event;
      return db.transaction((trx) => applyChunk(trx, [rejected], notificationsTopic));
    }
  }

  const applyTogether = createGroupCommit<DecodedEvent, ApplyResult>({
    commit: inTransaction,
    commitAlone: isolate,
    splitOn: (error) => classifyFailure(error).decision === 'dead_letter',
    maxEvents: options.eventsPerTransaction,
    maxInFlight: options.transactionsInFlight,
  });

  return {
    async apply(messages: KafkaMessage[], source: { topic: string; partition: number }): Promise<ProcessedMessage[]> {
      const consumed = messages.map((message) => startConsume(message, source));
      try {
        const events: DecodedEvent[] = [];
        for (const [index, message] of messages.entries()) events.push(await decodeEvent(registry, message, { ...source, offset: message.offset, trace: consumed[index]!.headers }));
        const results = await applyTogether(events);
        consumed.forEach((span, index) => span.end(results[index]));
        return results.map((result, index) => ({ message: messages[index]!, result }));
      } catch (error) {
        for (const span of consumed) span.end(undefined, error);
        throw error;
      }
    },
  };
}

export type EventApplier = ReturnType<typeof createEventApplier>;
