import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request as httpRequest } from 'node:http';
import { createKafka } from '../../platform/kafka';
import { ensureTopics } from '../../platform/topics';
import { eventIdOf } from '../../schemas/event-identity';
import { webhookPath } from '../../schemas/webhook-event';
import { createLogger } from '../../platform/logger';
import { createDatabase } from '../../processor/database';
import { signPayload } from '../../schemas/signatures';
import type { ChosenServices } from '../harness/choose-services';
import { BENCH_SECRETS, benchName } from './bench-env';
import { benchSchema } from './bench-database';
import { startScript, waitReady } from './children';
import { percentile } from './stats';

export interface E2eRound {
  /** Percentiles over every measured event; one never notified counts as never arriving (Infinity). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  sent: number;
  accepted: number;
  received: number;
  /** Measured events with no notification by the end of the round: accepted ones (lost or late) and refused ones. */
  missing: number;
  missingAccepted: number;
}

/** The largest value by a loop: spreading 150,000 latencies into Math.max overflows the stack. */
function largest(values: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) if (value > max) max = value;
  return max;
}

/**
 * A round's figures. An event never notified stays in the percentiles as one that never
 * arrived (Infinity) rather than leaving them: a round that loses events must not report a
 * better p99 than one that delivers them all late.
 */
export function summarizeRound(options: {
  sent: number;
  acceptedIds: ReadonlySet<string>;
  latencies: readonly number[];
  /** The event ids of the measured requests whose notification never came. */
  neverNotified: readonly string[];
}): E2eRound {
  const { latencies, neverNotified } = options;
  const measured = neverNotified.length === 0 ? latencies : [...latencies, ...neverNotified.map(() => Number.POSITIVE_INFINITY)];
  return {
    p50Ms: percentile(measured, 50),
    p99Ms: percentile(measured, 99),
    maxMs: largest(measured),
    sent: options.sent,
    accepted: options.acceptedIds.size,
    received: latencies.length,
    missing: neverNotified.length,
    missingAccepted: neverNotified.filter((eventId) => options.acceptedIds.has(eventId)).length,
  };
}

/**
 * Retries a 5xx or a connection error (a keep-alive socket the server closed as it was
 * reused) at once, up to three times, as a sender would; the latency still runs from the
 * first scheduled send. Status 0: no answer at all.
 */
async function sendAsSendersDo(send: () => Promise<number>): Promise<number> {
  let status = 0;
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    status = await send().catch(() => 0);
    if (status !== 0 && status < 500) return status;
  }
  return status;
}

function post(agent: Agent, port: number, body: string, signature: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: webhookPath('buy_completion'),
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-buy-webhook-signature': signature },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * A fixed offered rate, scheduled: request i goes out at start + i/rate whether or not earlier
 * ones were answered, and its latency runs from that scheduled time to the moment its
 * notification is read from trade-notifications — a slow answer cannot hide latency.
 */
export async function e2eBench(options: { services: ChosenServices; rounds: number; rate: number; seconds: number; receiverPort: number; processorPort: number }) {
  const { services, rate, seconds } = options;
  const count = rate * seconds;
  // Sent first at the same rate and not measured: JIT compilation, connection pools, batch sizes settle.
  const warmUp = Math.min(count, rate * 3);
  const logger = createLogger({ level: 'warn', name: 'bench' });
  const kafka = createKafka({ clientId: 'bench-e2e', brokers: services.kafkaBrokers.split(','), logger });
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const rounds: E2eRound[] = [];
  let peak = { receiver: 0, processor: 0 };

  for (let round = 1; round <= options.rounds; round += 1) {
    const { schema, drop } = await benchSchema(services.databaseUrl, warmUp + count);
    const topics = { events: benchName('e2e_events'), notifications: benchName('e2e_notifications'), dlq: benchName('e2e_dlq') };
    await ensureTopics(kafka, [
      { topic: topics.events, partitions: 6 },
      { topic: topics.notifications, partitions: 6 },
      { topic: topics.dlq, partitions: 1 },
    ]);
    const env = {
      ...process.env,
      ...BENCH_SECRETS,
      KAFKA_BROKERS: services.kafkaBrokers,
      SCHEMA_REGISTRY_URL: services.schemaRegistryUrl,
      DATABASE_URL: services.databaseUrl,
      DATABASE_SCHEMA: schema,
      WEBHOOK_EVENTS_TOPIC: topics.events,
      TRADE_NOTIFICATIONS_TOPIC: topics.notifications,
      DLQ_TOPIC: topics.dlq,
      CONSUMER_GROUP: benchName('e2e_processor'),
      PORT: String(options.receiverPort),
      HOST: '127.0.0.1',
      RELWORX_CALLBACK_URL: `http://127.0.0.1:${options.receiverPort}/api/webhooks/relworx`,
      PROCESSOR_PORT: String(options.processorPort),
      PROCESSOR_HOST: '127.0.0.1',
      RATE_LIMIT_PER_SECOND: '0',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    };
    const processor = startScript('processor/main.ts', env);
    const receiver = startScript('receiver/main.ts', env);
    const consumer = kafka.consumer({ groupId: benchName('e2e_reader'), maxWaitTimeInMs: 50 });
    try {
      await waitReady(`http://127.0.0.1:${options.processorPort}/readyz`);
      await waitReady(`http://127.0.0.1:${options.receiverPort}/readyz`);

      const requests = Array.from({ length: warmUp + count }, (_, index) => {
        const body = JSON.stringify({ trade_id: index + 1, status: 'completed', crypto_amount: 0.001, transaction_hash: `0x${(index + 1).toString(16)}` });
        return {
          body,
          eventId: eventIdOf({ webhookType: 'buy_completion', body }),
          signature: signPayload(body, BENCH_SECRETS.BUY_WEBHOOK_SECRET),
        };
      });
      const scheduledAt = new Map<string, number>();
      const bySecond: number[][] = Array.from({ length: seconds }, () => []);
      let start = 0;
      const latencies: number[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic: topics.notifications, fromBeginning: true });
      let joined = false;
      consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
      await consumer.run({
        eachMessage: async ({ message }) => {
          const arrived = performance.now();
          const scheduled = scheduledAt.get(String(message.headers?.event_id ?? ''));
          if (scheduled !== undefined) {
            latencies.push(arrived - scheduled);
            bySecond[Math.floor((scheduled - start) / 1000)]?.push(arrived - scheduled);
            scheduledAt.delete(String(message.headers!.event_id));
          }
        },
      });
      while (!joined) await sleep(20);
      start = performance.now() + 100 + (warmUp * 1000) / rate;

      const acceptedIds = new Set<string>();
      const refused = new Map<number, number>();
      const inFlight: Array<Promise<void>> = [];
      for (let index = 0; index < warmUp + count; index += 1) {
        const due = start + ((index - warmUp) * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        const request = requests[index]!;
        if (index >= warmUp) scheduledAt.set(request.eventId, due);
        inFlight.push(
          sendAsSendersDo(() => post(agent, options.receiverPort, request.body, request.signature)).then((status) => {
            if (index < warmUp) return;
            if (status === 202) acceptedIds.add(request.eventId);
            else refused.set(status, (refused.get(status) ?? 0) + 1);
          }),
        );
      }
      await Promise.all(inFlight);
      const deadline = Date.now() + 60_000;
      while (latencies.length < acceptedIds.size && Date.now() < deadline) await sleep(50);
      // What is still scheduled was never notified.
      for (const scheduled of scheduledAt.values()) bySecond[Math.floor((scheduled - start) / 1000)]?.push(Number.POSITIVE_INFINITY);
      const result = summarizeRound({ sent: count, acceptedIds, latencies, neverNotified: [...scheduledAt.keys()] });
      rounds.push(result);
      console.error(`  p50/p99 ms by second: ${bySecond.map((values) => `${Math.round(percentile(values, 50))}/${Math.round(percentile(values, 99))}`).join(' ')}`);
      if (process.env.BENCH_DIAG) {
        const db = createDatabase({ url: services.databaseUrl, schema, poolMax: 1, logger });
        // processed_at is when the applying transaction began; the outbox row was written in it.
        const stats = await db.raw(`select
          percentile_cont(array[0.5,0.99]) within group (order by extract(epoch from (w.processed_at - w.received_at))*1000) as processor_lag,
          percentile_cont(array[0.5,0.99]) within group (order by extract(epoch from (o.sent_at - o.created_at))*1000) as relay_lag,
          percentile_cont(array[0.5,0.99]) within group (order by extract(epoch from (o.created_at - w.received_at))*1000) as commit_lag
          from webhook_events w join outbox o using (event_id)`);
        console.error(JSON.stringify(stats.rows));
        const metricsText = await fetch(`http://127.0.0.1:${options.processorPort}/metrics`).then((r) => r.text());
        console.error(metricsText.split('\n').filter((line) => /^webhook_(apply_transaction_seconds|events_per_transaction)_(sum|count)/.test(line)).join(' | '));
        const receiverMetrics = await fetch(`http://127.0.0.1:${options.receiverPort}/metrics`).then((r) => r.text());
        console.error(receiverMetrics.split('\n').filter((line) => /^webhook_(publish_batch_duration_seconds|publish_batch_size|request_duration_seconds)_(sum|count)/.test(line)).join(' | '));
        await db.destroy();
      }
      peak = { receiver: Math.max(peak.receiver, receiver.peakRssMiB()), processor: Math.max(peak.processor, processor.peakRssMiB()) };
      console.error(
        `  end-to-end round ${round}: ${rate}/s for ${seconds} s: p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, ` +
          `max ${result.maxMs.toFixed(1)} ms, ${result.accepted}/${result.sent} accepted, ${result.received} notifications, ` +
          `missing ${result.missing} (${result.missingAccepted} accepted, ${result.missing - result.missingAccepted} not accepted)` +
          (refused.size > 0 ? `; not accepted: ${[...refused].map(([status, count]) => `${count} × ${status || 'no answer'}`).join(', ')}` : ''),
      );
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await receiver.stop();
      await processor.stop();
      await drop();
    }
  }
  agent.destroy();
  return { rounds, peakRssMiB: peak };
}
