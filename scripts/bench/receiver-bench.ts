import { Partitioners } from 'kafkajs';
import { WEBHOOK_EVENT_SCHEMA_FILE } from '../../schemas/avro-schemas';
import { createKafka } from '../../platform/kafka';
import { createRegistry, registerValueSchema } from '../../platform/schema-registry';
import { ensureTopics } from '../../platform/topics';
import { webhookEvent, webhookPath } from '../../schemas/webhook-event';
import { createLogger } from '../../platform/logger';
import { signPayload } from '../../schemas/signatures';
import type { ChosenServices } from '../harness/choose-services';
import { BENCH_SECRETS, benchName } from './bench-env';
import { startScript, waitReady } from './children';
import { perThousand, serviceRoles, startCpuWindow, type CpuMs } from './cpu-usage';
import { runLoad, type LoadResult, type PreparedRequest } from './load';

export interface ReceiverRound {
  receiver: LoadResult;
  bare: LoadResult;
  kafkaDirectMsgs: number;
  /** CPU ms per 1,000 webhooks accepted in the receiver's load. */
  cpuPerThousand: CpuMs;
}

function signedBuyRequests(count: number): PreparedRequest[] {
  return Array.from({ length: count }, (_, index) => {
    const body = JSON.stringify({ trade_id: 100_000 + index, status: 'completed', crypto_amount: 0.001, transaction_hash: `0x${index.toString(16).padStart(64, '0')}` });
    return {
      path: webhookPath('buy_completion'),
      body,
      headers: { 'content-type': 'application/json', 'x-buy-webhook-signature': signPayload(body, BENCH_SECRETS.BUY_WEBHOOK_SECRET) },
    };
  });
}

/** kafkajs sendBatch of the same events straight to the broker, one batch in flight, for `seconds`. */
async function kafkaDirect(services: ChosenServices, topic: string, requests: PreparedRequest[], seconds: number): Promise<number> {
  const logger = createLogger({ level: 'warn', name: 'bench' });
  const kafka = createKafka({ clientId: 'bench-direct', brokers: services.kafkaBrokers.split(','), logger });
  const registry = createRegistry(services.schemaRegistryUrl);
  const schemaId = await registerValueSchema(registry, topic, WEBHOOK_EVENT_SCHEMA_FILE);
  const messages = await Promise.all(
    requests.map(async (request) => ({
      key: String(JSON.parse(request.body).trade_id),
      value: await registry.encode(schemaId, webhookEvent({ webhookType: 'buy_completion', body: request.body, remoteAddr: '127.0.0.1' })),
    })),
  );
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  let sent = 0;
  const batch = 500;
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const start = sent % messages.length;
    await producer.sendBatch({ topicMessages: [{ topic, messages: messages.slice(start, start + batch) }], acks: -1 });
    sent += Math.min(batch, messages.length - start);
  }
  await producer.disconnect();
  return sent / seconds;
}

export async function receiverBench(options: { services: ChosenServices; rounds: number; seconds: number; connections: number; port: number }): Promise<{ rounds: ReceiverRound[]; peakRssMiB: number }> {
  const { services, seconds, connections } = options;
  const topic = benchName('receiver');
  const logger = createLogger({ level: 'warn', name: 'bench' });
  await ensureTopics(createKafka({ clientId: 'bench-admin', brokers: services.kafkaBrokers.split(','), logger }), [{ topic, partitions: 6 }]);
  const requests = signedBuyRequests(5000);

  const receiver = startScript('receiver/main.ts', {
    ...process.env,
    ...BENCH_SECRETS,
    KAFKA_BROKERS: services.kafkaBrokers,
    SCHEMA_REGISTRY_URL: services.schemaRegistryUrl,
    WEBHOOK_EVENTS_TOPIC: topic,
    PORT: String(options.port),
    HOST: '127.0.0.1',
    RELWORX_CALLBACK_URL: `http://127.0.0.1:${options.port}/api/webhooks/relworx`,
    RATE_LIMIT_PER_SECOND: '0',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
  });
  const bare = startScript('scripts/bench/bare-server.ts', process.env);
  const barePort = Number(await bare.firstLine);
  const receiverUrl = `http://127.0.0.1:${options.port}`;
  const rounds: ReceiverRound[] = [];
  try {
    await waitReady(`${receiverUrl}/readyz`);
    // Warm-up: JIT, connection pools, producer metadata.
    await runLoad({ url: receiverUrl, requests, connections, seconds: 2, expectStatus: 202 });
    await runLoad({ url: `http://127.0.0.1:${barePort}`, requests, connections, seconds: 2, expectStatus: 202 });
    for (let round = 1; round <= options.rounds; round += 1) {
      const bareResult = await runLoad({ url: `http://127.0.0.1:${barePort}`, requests, connections, seconds, expectStatus: 202 });
      const cpu = startCpuWindow(serviceRoles({ receiver: receiver.pid }));
      const receiverResult = await runLoad({ url: receiverUrl, requests, connections, seconds, expectStatus: 202 });
      const cpuPerThousand = perThousand(cpu.stop(), receiverResult.rps * seconds);
      const kafkaDirectMsgs = await kafkaDirect(services, topic, requests, seconds);
      rounds.push({ receiver: receiverResult, bare: bareResult, kafkaDirectMsgs, cpuPerThousand });
      console.error(
        `  receiver round ${round}: receiver ${Math.round(receiverResult.rps)} req/s (p99 ${receiverResult.p99Ms} ms, ${receiverResult.errors} errors), ` +
          `bare node:http ${Math.round(bareResult.rps)} req/s, kafkajs direct ${Math.round(kafkaDirectMsgs)} msg/s`,
      );
    }
    return { rounds, peakRssMiB: receiver.peakRssMiB() };
  } finally {
    await receiver.stop();
    await bare.stop();
  }
}
