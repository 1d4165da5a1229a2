import type { Knex } from 'knex';
import { Kafka, logLevel } from 'kafkajs';
import { insertPendingBuyTrades } from '../../scripts/harness/pending-trades';
import { buyCompletion, sendWebhook, serializePayload, tradeStatus } from '../../sender';
import { serviceEndpoints } from '../setup/service-endpoints';
import { createTestTopics, migratedDatabase, systemEnv, type TestTopics } from '../support/processor';
import { freePort } from '../../scripts/harness/free-port';
import { TEST_RELWORX_CALLBACK_URL, TEST_SECRETS } from '../support/receiver';
import { serviceProcess, type ServiceProcess } from '../support/service-process';
import { installChangeLog } from '../support/change-log';
import type { Ledger, SentEvent } from '../support/ledger';

/**
 * The whole system for one fault scenario, with real processes: a receiver and processors
 * that can be killed, its own topics, consumer group and database schema, and `trades` buy
 * trades (ids 1..trades, all `processing`) to complete, with the ledger's change log installed.
 */
export interface FaultSystem {
  readonly db: Knex;
  readonly schema: string;
  readonly topics: TestTopics;
  readonly kafka: Kafka;
  readonly receiverUrl: string;
  /** The callback URL the receiver checks Relworx signatures against: senders sign with it. */
  readonly relworxCallbackUrl: string;
  readonly receiver: ServiceProcess;
  processor(): Promise<ServiceProcess>;
}

export async function faultSystem(options: {
  trades: number;
  brokers?: string[];
  /** Another schema registry than the suite's, e.g. one of the scenario's own. */
  registryUrl?: string;
  topics?: TestTopics;
  /** Settings of the scenario's processors on top of the suite's. */
  processorEnv?: Record<string, string>;
}): Promise<FaultSystem> {
  const endpoints = serviceEndpoints();
  const brokers = options.brokers ?? endpoints.kafkaBrokers;
  const { db, schema } = await migratedDatabase();
  await insertPendingBuyTrades(db, { count: options.trades, referencePrefix: 'FAULT', users: 100 });
  await installChangeLog(db, schema);
  const topics = options.topics ?? (await createTestTopics(6));
  const receiverPort = await freePort();
  const common = {
    ...systemEnv({ schema, topics, brokers, registryUrl: options.registryUrl }),
    TOPIC_PARTITIONS: '6',
    LOG_LEVEL: 'warn',
  };
  const receiverUrl = `http://127.0.0.1:${receiverPort}`;
  const receiver = serviceProcess(
    'receiver',
    {
      ...common,
      ...TEST_SECRETS,
      RELWORX_CALLBACK_URL: TEST_RELWORX_CALLBACK_URL,
      PORT: String(receiverPort),
      HOST: '127.0.0.1',
      RATE_LIMIT_PER_SECOND: '0',
      KAFKA_ACK_TIMEOUT_MS: '3000',
    },
    `${receiverUrl}/readyz`,
  );
  return {
    db,
    schema,
    topics,
    kafka: new Kafka({ clientId: 'faults', brokers, logLevel: logLevel.NOTHING }),
    receiverUrl,
    relworxCallbackUrl: TEST_RELWORX_CALLBACK_URL,
    receiver,
    async processor() {
      const port = await freePort();
      return serviceProcess(
        'processor',
        { ...common, PROCESSOR_PORT: String(port), PROCESSOR_HOST: '127.0.0.1', RETRY_MAX_MS: '1000', OUTBOX_POLL_MS: '500', ...options.processorEnv },
        `http://127.0.0.1:${port}/readyz`,
      );
    },
  };
}

/** One webhook of a stream: its route, its bytes (serialized once, so retries are identical) and what it must do. */
export interface StreamEvent extends SentEvent {
  readonly route: 'buy-complete' | 'trade-status';
  readonly body: string;
  readonly secret: string;
}

/** Progress updates each trade receives before its completion. */
export const PROGRESS_UPDATES = 2;

/**
 * The webhooks that close trade `tradeId`, in the order they must apply: progress updates, then
 * the completion. A progress update of a `processing` trade is applied every time it arrives
 * (a non-terminal status may repeat), so if the dedupe ever let one through twice, the trade
 * would change twice; the completion's effect is the trade completed with its transaction hash.
 */
export function tradeEvents(tradeId: number): StreamEvent[] {
  const timestamp = '2026-01-01T00:00:00Z';
  const progress = Array.from({ length: PROGRESS_UPDATES }, (_, index): StreamEvent => {
    const key = `fault_progress_${index + 1}`;
    const value = `${tradeId}/${index + 1}`;
    return {
      key: `${tradeId}:${key}`,
      tradeId,
      route: 'trade-status',
      body: serializePayload(tradeStatus({ tradeId, status: 'processing', metadata: { [key]: value }, timestamp })),
      secret: TEST_SECRETS.TRADE_WEBHOOK_SECRET,
      effect: { metadata: { key, value } },
    };
  });
  const transactionHash = `0x${tradeId.toString(16)}`;
  const completion: StreamEvent = {
    key: `${tradeId}:completion`,
    tradeId,
    route: 'buy-complete',
    // The trade's own amount: a completion is a report of the agreed transfer, not a new price.
    body: serializePayload(buyCompletion({ tradeId, cryptoAmount: '0.001', transactionHash, timestamp })),
    secret: TEST_SECRETS.BUY_WEBHOOK_SECRET,
    effect: { status: 'completed', transaction: { kind: 'crypto_transfer', column: 'transaction_hash', value: transactionHash } },
  };
  return [...progress, completion];
}

/** Sends one event as a real sender would and returns its final answer (status 0: none at all). */
export async function sendEvent(url: string, event: StreamEvent, options: { maxAttempts?: number } = {}): Promise<{ status: number; eventId?: string }> {
  try {
    const result = await sendWebhook(url, event.route, event.body, { secret: event.secret, maxAttempts: options.maxAttempts ?? 10, baseDelayMs: 200 });
    const eventId = result.ok ? (JSON.parse(result.body) as { event_id?: string }).event_id : undefined;
    return { status: result.status, eventId };
  } catch {
    return { status: 0 };
  }
}

/**
 * Senders closing trades `from`..`to`: trades start at most `rate` a second, `concurrency` at a
 * time; each trade's webhooks go one after the other, the next once the previous has its final
 * answer (so per-trade order holds in Kafka), each retried on 5xx and network errors with
 * backoff as real senders do. Every final answer is recorded in the ledger as it comes. With
 * `stopWhen`, the load lasts as long as a fault sequence does rather than a fixed count.
 */
export async function sendStream(options: {
  url: string;
  ledger: Ledger;
  from: number;
  to: number;
  rate: number;
  concurrency: number;
  maxAttempts?: number;
  /** Checked before each trade starts: once true, no more trades start (those started finish). */
  stopWhen?: () => boolean;
}): Promise<void> {
  const { ledger } = options;
  const started = performance.now();
  let next = options.from;
  async function worker(): Promise<void> {
    while (next <= options.to && !options.stopWhen?.()) {
      const tradeId = next++;
      const due = started + ((tradeId - options.from) * 1000) / options.rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      for (const event of tradeEvents(tradeId)) ledger.record(event, await sendEvent(options.url, event, options));
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker));
}
