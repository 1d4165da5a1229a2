import type { Knex } from 'knex';
import { Kafka, logLevel } from 'kafkajs';
import { eventIdOf } from '../../schemas/event-identity';
import { insertPendingBuyTrades } from '../../scripts/pending-trades';
import { buyCompletion, sendWebhook, serializePayload } from '../../sender';
import { serviceEndpoints } from '../setup/service-endpoints';
import { createTestTopics, migratedDatabase, systemEnv, type TestTopics } from '../support/processor';
import { freePort } from '../support/free-port';
import { TEST_RELWORX_CALLBACK_URL, TEST_SECRETS } from '../support/receiver';
import { serviceProcess, type ServiceProcess } from '../support/service-process';
import { Ledger } from '../support/ledger';

/**
 * The whole system for one fault scenario, with real processes: a receiver and processors
 * that can be killed, its own topics, consumer group and database schema, and `trades` pending
 * buy trades (ids 1..trades) to complete.
 */
export interface FaultSystem {
  readonly db: Knex;
  readonly schema: string;
  readonly topics: TestTopics;
  readonly kafka: Kafka;
  readonly receiverUrl: string;
  readonly receiver: ServiceProcess;
  processor(): Promise<ServiceProcess>;
}

export async function faultSystem(options: { trades: number; brokers?: string[]; topics?: TestTopics }): Promise<FaultSystem> {
  const endpoints = serviceEndpoints();
  const brokers = options.brokers ?? endpoints.kafkaBrokers;
  const { db, schema } = await migratedDatabase();
  await insertPendingBuyTrades(db, { count: options.trades, referencePrefix: 'FAULT', users: 100 });
  const topics = options.topics ?? (await createTestTopics(6));
  const receiverPort = await freePort();
  const common = {
    ...systemEnv({ schema, topics, brokers }),
    TOPIC_PARTITIONS: '6',
    LOG_LEVEL: 'warn',
  };
  const receiverUrl = `http://127.0.0.1:${receiverPort}`;
  const receiver = serviceProcess(
    'receiver',
    { ...common, ...TEST_SECRETS, RELWORX_CALLBACK_URL: TEST_RELWORX_CALLBACK_URL, PORT: String(receiverPort), HOST: '127.0.0.1', RATE_LIMIT_PER_SECOND: '0', KAFKA_ACK_TIMEOUT_MS: '3000' },
    `${receiverUrl}/readyz`,
  );
  return {
    db,
    schema,
    topics,
    kafka: new Kafka({ clientId: 'faults', brokers, logLevel: logLevel.NOTHING }),
    receiverUrl,
    receiver,
    async processor() {
      const port = await freePort();
      return serviceProcess('processor', { ...common, PROCESSOR_PORT: String(port), PROCESSOR_HOST: '127.0.0.1', RETRY_MAX_MS: '1000', OUTBOX_POLL_MS: '500' }, `http://127.0.0.1:${port}/readyz`);
    },
  };
}

/** The buy completion of trade `tradeId`, serialized once: its bytes and its event id. */
export function completionOf(tradeId: number): { body: string; eventId: string } {
  const body = serializePayload(buyCompletion({ tradeId, cryptoAmount: '0.001', transactionHash: `0x${tradeId.toString(16)}`, timestamp: '2026-01-01T00:00:00Z' }));
  return { body, eventId: eventIdOf({ webhookType: 'buy_completion', body }) };
}

/**
 * Senders completing trades `from`..`to`, at most `rate` a second, `concurrency` at a time,
 * each retrying 5xx and network errors with backoff as real senders do. Resolves when every
 * sender has its final answer, recorded in the ledger (status 0: it never got one).
 */
export async function sendStream(options: {
  url: string;
  ledger: Ledger;
  from: number;
  to: number;
  rate: number;
  concurrency: number;
  maxAttempts?: number;
}): Promise<void> {
  const { ledger } = options;
  const started = performance.now();
  let next = options.from;
  async function worker(): Promise<void> {
    while (next <= options.to) {
      const tradeId = next++;
      const due = started + ((tradeId - options.from) * 1000) / options.rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const { body, eventId } = completionOf(tradeId);
      const status = await sendWebhook(options.url, 'buy-complete', body, {
        secret: TEST_SECRETS.BUY_WEBHOOK_SECRET,
        maxAttempts: options.maxAttempts ?? 10,
        baseDelayMs: 200,
      }).then(
        (result) => result.status,
        () => 0,
      );
      ledger.record(eventId, tradeId, status);
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker));
}
