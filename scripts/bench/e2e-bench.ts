import { Agent } from 'node:http';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { createKafka } from '../../platform/kafka';
import { createLogger } from '../../platform/logger';
import { ensureTopics } from '../../platform/topics';
import { createDatabase } from '../../processor/database';
import type { ChosenServices } from '../harness/choose-services';
import { createArrivals, measureAtRate, sendAtRate, waitFor } from './arrivals';
import { BENCH_SECRETS, benchName } from './bench-env';
import { benchSchema } from './bench-database';
import { startScript, waitReady } from './children';
import { serviceRoles, startCpuWindow } from './cpu-usage';
import { startMetricsSampler, trendsPerMinute, type ProcessSample } from './metrics-sampler';
import { pipeFloorRound } from './pipe-floor';
import { latencyRound, type LatencyRound } from './round-summary';
import { sendAsSendersDo, signedBuyCompletion } from './webhook-client';

/** An end-to-end round with what its services' /metrics said each second. */
export interface E2eRound extends LatencyRound {
  processes: { receiver: ProcessSample[]; processor: ProcessSample[] };
  trends: { receiver: ReturnType<typeof trendsPerMinute>; processor: ReturnType<typeof trendsPerMinute> };
}

/** A pipe-floor round and the end-to-end round run right after it, at the same rate for as long. */
export interface E2eBenchRound {
  pipeFloor: LatencyRound;
  e2e: E2eRound;
}

interface RoundOptions {
  services: ChosenServices;
  kafka: Kafka;
  agent: Agent;
  logger: Logger;
  rate: number;
  seconds: number;
  warmUp: number;
  receiverPort: number;
  processorPort: number;
}

/** BENCH_DIAG: where the time went inside the services, from the database and their metrics. */
async function diagnose(options: RoundOptions, schema: string): Promise<void> {
  const db = createDatabase({ url: options.services.databaseUrl, schema, poolMax: 1, logger: options.logger });
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

/**
 * One round through the receiver and the processor in processes of their own. Warm-up: the
 * processor in its group (/readyz), a first webhook all the way to its notification, then
 * `warmUp` webhooks at the rate. Then `rate × seconds` measured webhooks on a schedule; each
 * latency runs from its scheduled send time to the read of its notification.
 * Trade ids: 1 the first webhook, then the warm-up, then the measured ones.
 */
async function e2eRound(options: RoundOptions): Promise<{ result: E2eRound; peakRssMiB: { receiver: number; processor: number } }> {
  const { services, kafka, agent, rate, seconds, warmUp, receiverPort, processorPort } = options;
  const count = rate * seconds;
  const { schema, drop } = await benchSchema(services.databaseUrl, 1 + warmUp + count);
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
    PORT: String(receiverPort),
    HOST: '127.0.0.1',
    RELWORX_CALLBACK_URL: `http://127.0.0.1:${receiverPort}/api/webhooks/relworx`,
    PROCESSOR_PORT: String(processorPort),
    PROCESSOR_HOST: '127.0.0.1',
    RATE_LIMIT_PER_SECOND: '0',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
  };
  const processor = startScript('processor/main.ts', env);
  const receiver = startScript('receiver/main.ts', env);
  const reader = kafka.consumer({ groupId: benchName('e2e_reader'), maxWaitTimeInMs: 50 });
  const arrivals = createArrivals(count);
  /** Event id → measured index, or -1 for the first webhook; the warm-up's are not looked for. */
  const indexOf = new Map<string, number>();
  const send = (tradeId: number, index?: number): Promise<number> => {
    const webhook = signedBuyCompletion(tradeId);
    if (index !== undefined) indexOf.set(webhook.eventId, index);
    return sendAsSendersDo(agent, receiverPort, webhook);
  };
  try {
    await waitReady(`http://127.0.0.1:${processorPort}/readyz`);
    await waitReady(`http://127.0.0.1:${receiverPort}/readyz`);
    let joined = false;
    let firstArrived = false;
    await reader.connect();
    await reader.subscribe({ topic: topics.notifications, fromBeginning: true });
    reader.on(reader.events.GROUP_JOIN, () => (joined = true));
    await reader.run({
      eachMessage: async ({ message }) => {
        const arrived = performance.now();
        const eventId = String(message.headers?.event_id ?? '');
        const index = indexOf.get(eventId);
        // Forgotten once read, so a soak's map holds only the events in flight.
        indexOf.delete(eventId);
        if (index === -1) firstArrived = true;
        else if (index !== undefined) arrivals.arrive(index, arrived);
      },
    });
    await waitFor(() => joined, 60_000);
    const firstStatus = await send(1, -1);
    if (firstStatus !== 202 || !(await waitFor(() => firstArrived, 60_000))) {
      throw new Error(`end to end: the first webhook (status ${firstStatus}) was not notified within 60 s`);
    }
    await sendAtRate({ rate, count: warmUp, firstDue: performance.now(), send: (index) => void send(2 + index) });

    const refused = new Map<number, number>();
    const cpu = startCpuWindow(serviceRoles({ receiver: receiver.pid, processor: processor.pid }));
    const sampler = startMetricsSampler({ receiver: `http://127.0.0.1:${receiverPort}/metrics`, processor: `http://127.0.0.1:${processorPort}/metrics` }, seconds);
    const start = performance.now() + 20;
    const accepted = await measureAtRate({
      rate,
      count,
      firstDue: start,
      arrivals,
      send: async (index) => {
        const status = await send(2 + warmUp + index, index);
        if (status !== 202) refused.set(status, (refused.get(status) ?? 0) + 1);
        return status === 202;
      },
    });
    const cpuMs = cpu.stop();
    const samples = await sampler.stop();
    const processes = { receiver: samples.receiver!, processor: samples.processor! };
    const result: E2eRound = {
      ...latencyRound({ arrivals, start, seconds, accepted, cpuMs }),
      processes,
      trends: { receiver: trendsPerMinute(processes.receiver), processor: trendsPerMinute(processes.processor) },
    };
    if (process.env.BENCH_DIAG) await diagnose(options, schema);
    if (refused.size > 0) console.error(`  not accepted: ${[...refused].map(([status, n]) => `${n} × ${status || 'no answer'}`).join(', ')}`);
    return { result, peakRssMiB: { receiver: receiver.peakRssMiB(), processor: processor.peakRssMiB() } };
  } finally {
    await reader.disconnect().catch(() => undefined);
    await receiver.stop();
    await processor.stop();
    await drop();
  }
}

function roundLine(name: string, round: LatencyRound): string {
  const { summary } = round;
  return (
    `  ${name}: p50 ${summary.p50Ms.toFixed(1)} ms, p99 ${summary.p99Ms.toFixed(1)} ms, max ${summary.maxMs.toFixed(1)} ms, ` +
    `${summary.accepted}/${summary.sent} accepted, ${summary.received} delivered, missing ${summary.missing} (${summary.missingAccepted} accepted), ` +
    `drift ${round.drift.toFixed(2)}\n    p50/p99 ms by second: ${round.series.map((second) => `${Math.round(second.p50Ms)}/${Math.round(second.p99Ms)}`).join(' ')}`
  );
}

/**
 * Rounds of a pipe floor then an end-to-end round, each at `rate` webhooks a second for
 * `seconds`, the two figures of a round measured back to back on the same machine.
 */
export async function e2eBench(options: { services: ChosenServices; rounds: number; rate: number; seconds: number; receiverPort: number; processorPort: number }) {
  const { services, rate, seconds } = options;
  // Sent at the rate and not measured: JIT compilation, connection pools, batch sizes settle.
  const warmUp = Math.min(rate * seconds, rate * 3);
  const logger = createLogger({ level: 'warn', name: 'bench' });
  const kafka = createKafka({ clientId: 'bench-e2e', brokers: services.kafkaBrokers.split(','), logger });
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const rounds: E2eBenchRound[] = [];
  const peak = { receiver: 0, processor: 0 };
  try {
    for (let round = 1; round <= options.rounds; round += 1) {
      const pipeFloor = await pipeFloorRound({ kafka, kafkaBrokers: services.kafkaBrokers, rate, seconds, warmUp });
      console.error(roundLine(`pipe floor round ${round}`, pipeFloor));
      const { result, peakRssMiB } = await e2eRound({ ...options, kafka, agent, logger, warmUp });
      console.error(roundLine(`end-to-end round ${round}`, result));
      peak.receiver = Math.max(peak.receiver, peakRssMiB.receiver);
      peak.processor = Math.max(peak.processor, peakRssMiB.processor);
      rounds.push({ pipeFloor, e2e: result });
    }
  } finally {
    agent.destroy();
  }
  return { rounds, peakRssMiB: peak };
}
