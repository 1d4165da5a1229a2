import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { Network } from 'testcontainers';
import { startTradeWebhooks, type StartedTradeWebhooks } from 'trade-webhooks/testing';

/**
 * `trade-webhooks/testing` as a team's jest suite uses it: only the package's export, and the
 * clients the team has anyway (kafkajs, pg, the registry's client; testcontainers for a network
 * of its own). Needs the app image on the engine (TRADE_WEBHOOKS_IMAGE, default trade-webhooks:local).
 */

const dockerCli = promisify(execFile);

/** Ids of the containers, running or not, that `docker ps` lists for `filter`. */
async function containers(filter: string): Promise<string[]> {
  const { stdout } = await dockerCli('docker', ['ps', '-a', '-q', '--no-trunc', '--filter', filter]);
  return stdout.split('\n').filter((line) => line.trim() !== '');
}

async function networkExists(name: string): Promise<boolean> {
  return dockerCli('docker', ['network', 'inspect', name]).then(
    () => true,
    () => false,
  );
}

const since = (started: number): number => Math.round(performance.now() - started);

interface TradeNotification {
  trade_id: number;
  status: string;
  trade_type: string;
}

/** The first notification for `tradeId` in trade-notifications, read from the beginning by a group of its own. */
async function notificationFor(system: StartedTradeWebhooks, tradeId: number, timeoutMs: number): Promise<TradeNotification> {
  const kafka = new Kafka({ clientId: 'consumer-team', brokers: system.kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
  const registry = new SchemaRegistry({ host: system.schemaRegistryUrl });
  const consumer = kafka.consumer({ groupId: `consumer-team-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: 'trade-notifications', fromBeginning: true });
    return await new Promise<TradeNotification>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no notification for trade ${tradeId} in ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            const notification = (await registry.decode(message.value!)) as TradeNotification;
            if (notification.trade_id === tradeId) {
              clearTimeout(timer);
              resolve(notification);
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
}

describe('trade-webhooks/testing', () => {
  const timings: Record<string, number> = {};
  afterAll(() => console.log(`testing module timings (ms): ${JSON.stringify(timings)}`));

  it('starts the system, which completes a trade from a signed buy completion and notifies, and stop() leaves no container or network behind', async () => {
    let step = performance.now();
    const system = await startTradeWebhooks();
    timings.start = since(step);
    let stopped = false;
    try {
      const network = system.network.getName();
      const started = await containers(`network=${network}`);
      // Kafka, the registry, PostgreSQL, the migrations (exited), the receiver and the processor.
      expect(started).toHaveLength(6);

      step = performance.now();
      const db = new Client({ connectionString: system.databaseUrl });
      await db.connect();
      try {
        const { rows } = await db.query<{ id: string }>(
          `INSERT INTO trades (reference, user_id, trade_type, status, crypto_amount, crypto_currency, fiat_amount, fiat_currency)
           VALUES ($1, 4242, 'buy', 'processing', '0.001', 'BTC', '50000', 'UGX') RETURNING id`,
          [`CONSUMER-${process.pid}-${Date.now()}`],
        );
        const tradeId = Number(rows[0]!.id);

        const response = await system.send('buy', { trade_id: tradeId, status: 'completed', crypto_amount: 0.001, transaction_hash: '0xconsumer' });
        expect(response.status).toBe(202);

        const notification = await notificationFor(system, tradeId, 60_000);
        expect(notification).toMatchObject({ trade_id: tradeId, status: 'completed', trade_type: 'buy' });
        const trade = await db.query<{ status: string }>('SELECT status FROM trades WHERE id = $1', [tradeId]);
        expect(trade.rows).toEqual([{ status: 'completed' }]);

        // Relworx signs the callback URL and three fields, not the body: send() signs as Relworx does.
        const relworx = await system.send('relworx', { status: 'success', customer_reference: `CONSUMER-${tradeId}`, internal_reference: `RX-${tradeId}`, msisdn: '256700000000', amount: 50000, currency: 'UGX', provider: 'MTN_UGANDA', message: 'ok' });
        expect({ status: relworx.status, body: relworx.status === 202 ? '' : await relworx.text() }).toEqual({ status: 202, body: '' });
      } finally {
        await db.end();
      }
      timings.tradeCompletedAndNotified = since(step);

      step = performance.now();
      await system.stop();
      stopped = true;
      timings.stop = since(step);
      const left = (await Promise.all(started.map((id) => containers(`id=${id}`)))).flat();
      expect(left).toEqual([]);
      expect(await networkExists(network)).toBe(false);
    } finally {
      if (!stopped) await system.stop();
    }
  }, 600_000);

  it('stops what it started when a later step fails, here migrations that exit non-zero', async () => {
    const network = await new Network().start();
    try {
      const step = performance.now();
      // The Node image has node but not the app: `node dist/processor/migrate.js` exits 1, after the services started.
      await expect(startTradeWebhooks({ network, images: { app: process.env.NODE_IMAGE?.trim() || 'node:24-bookworm-slim' } })).rejects.toThrow(
        /The migrations \(image .*\) did not start in a container[\s\S]*last output:[\s\S]*dist\/processor\/migrate\.js/,
      );
      timings.failedStartCleanedUp = since(step);
      expect(await containers(`network=${network.getName()}`)).toEqual([]);
      // The caller's network is the caller's to remove.
      expect(await networkExists(network.getName())).toBe(true);
    } finally {
      await network.stop();
    }
  }, 600_000);
});
