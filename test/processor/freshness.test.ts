import { createServer, type Socket } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { createLogger } from '../../platform/logger';
import { createDatabase } from '../../processor/database';
import { createFreshnessReader, FRESHNESS_DISCONNECT_MS, FRESHNESS_READ_CAP_MS, partitionLags } from '../../processor/freshness';
import { createProcessorMetrics } from '../../processor/metrics';
import { createOpsServer } from '../../processor/ops-server';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from '../support/cleanup';
import { envelopeFor, eventWriter } from '../support/events';
import { testAdmin } from '../support/kafka';
import { startKafkaProxy } from '../support/kafka-proxy';
import { createTestTopics, insertTrade, migratedDatabase, startTestProcessor, testKafka, type TestProcessor } from '../support/processor';
import { CapturedLogs } from '../support/receiver';
import { waitFor } from '../support/wait-for';

const kafka = testKafka();

const completion = (id: number) => ({ key: String(id), envelope: envelopeFor('buy_completion', JSON.stringify({ trade_id: id, status: 'completed', transaction_hash: `0x${id}` })) });

/** The processor's ops server, as main.ts serves it. */
async function opsServerOf({ processor, metrics }: TestProcessor): Promise<string> {
  const ops = createOpsServer({ port: 0, host: '127.0.0.1', isReady: () => processor.isReady(), registry: metrics.registry });
  const { port } = await ops.listen();
  onCleanup(() => ops.close());
  return `http://127.0.0.1:${port}`;
}

/** The samples of one metric in a /metrics text, by their labels as written. */
function samples(text: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (match) found.set(match[1] ?? '', Number(match[2]));
  }
  return found;
}

const sum = (values: Map<string, number>): number => [...values.values()].reduce((total, value) => total + value, 0);

describe('partitionLags', () => {
  it.each([
    ['a committed offset: the log end minus it', { high: '10', low: '0' }, '4', 6],
    ['nothing committed: the log end minus the log start', { high: '10', low: '3' }, '-1', 7],
    ['a committed offset older than the log start: from the log start', { high: '10', low: '8' }, '5', 2],
    ['caught up', { high: '10', low: '0' }, '10', 0],
  ])('%s', (_name, log, committed, lag) => {
    expect(partitionLags([{ partition: 0, ...log }], [{ partition: 0, offset: committed }])).toEqual([{ partition: 0, lag }]);
  });

  it('counts a partition the group has no entry for from its log start', () => {
    expect(partitionLags([{ partition: 1, high: '5', low: '0' }, { partition: 0, high: '3', low: '1' }], [])).toEqual([
      { partition: 0, lag: 2 },
      { partition: 1, lag: 5 },
    ]);
  });
});

describe('processor freshness metrics', () => {
  it('reads the lag of events sent while it was down on its first scrape, stays ready, and reads 0 once they are applied', async () => {
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics(3);
    const count = 12;
    const ids: number[] = [];
    for (let index = 0; index < count; index += 1) ids.push((await insertTrade(db, { trade_type: 'buy', status: 'processing' })).id);
    // The seam: a transaction of the test's own holds the trades' row locks, so nothing is applied until it ends.
    const holder = createDatabase({ url: serviceEndpoints().databaseUrl, schema, poolMax: 1, logger: createLogger({ level: 'silent', name: 'knex' }) });
    onCleanup(() => holder.destroy());
    const hold = await holder.transaction();
    onCleanup(() => hold.rollback().catch(() => undefined));
    await hold('trades').whereIn('id', ids).forUpdate();
    const write = await eventWriter(kafka, topics.events);
    await write.write(ids.map(completion));
    const written = Date.now();

    const processor = await startTestProcessor({ topics, db, schema });
    const url = await opsServerOf(processor);
    const first = await (await fetch(`${url}/metrics`)).text();
    const lag = samples(first, 'webhook_consumer_lag');
    expect(sum(lag)).toBe(count);
    expect([...lag.keys()].sort()).toEqual([0, 1, 2].map((partition) => `{topic="${topics.events}",partition="${partition}"}`));

    // Held, the processor is behind but healthy: readiness stays up, and the age of what it holds grows.
    await waitFor('a batch in hand', async () => (samples(await (await fetch(`${url}/metrics`)).text(), 'webhook_oldest_unprocessed_event_age_seconds').get('')! > 0 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const held = await (await fetch(`${url}/metrics`)).text();
    const age = samples(held, 'webhook_oldest_unprocessed_event_age_seconds').get('')!;
    expect(age).toBeGreaterThanOrEqual(1.5);
    expect(age).toBeLessThanOrEqual((Date.now() - written) / 1000 + 1);
    expect(sum(samples(held, 'webhook_consumer_lag'))).toBe(count);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    await hold.rollback();
    const drained = await waitFor('the lag at 0', async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return sum(samples(text, 'webhook_consumer_lag')) === 0 ? text : undefined;
    });
    expect(samples(drained, 'webhook_oldest_unprocessed_event_age_seconds').get('')).toBe(0);
    expect(await db('webhook_events').where({ outcome: 'applied' }).count<{ count: string }[]>('* as count')).toEqual([{ count: String(count) }]);
  }, 60_000);

  it('counts the unsent outbox rows and the age of the oldest, leaving out sent ones', async () => {
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics(1);
    const row = (event: string, createdSecondsAgo: number, sent: boolean): Record<string, unknown> => ({
      event_id: event,
      topic: topics.notifications,
      message_key: '1',
      payload: { event_id: event },
      created_at: db.raw(`now() - make_interval(secs => ${createdSecondsAgo})`),
      sent_at: sent ? db.fn.now() : null,
    });
    await db('outbox').insert([row('sent-long-ago', 3600, true), row('unsent-old', 90, false), row('unsent-new', 5, false)]);
    // Not started: the relay would take the rows. The outbox gauges need only the database.
    const processor = await startTestProcessor({ topics, db, schema, start: false });

    const text = await processor.metrics.registry.metrics();
    expect(samples(text, 'outbox_unsent_rows')).toEqual(new Map([['', 2]]));
    const oldest = samples(text, 'outbox_oldest_unsent_age_seconds').get('')!;
    expect(oldest).toBeGreaterThanOrEqual(90);
    expect(oldest).toBeLessThan(100);
  });

  it('answers a scrape within its cap when the database does not, keeping the last values and logging why', async () => {
    const topics = await createTestTopics(1);
    // The seam: a database address that accepts connections and never answers.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const silentDb = createDatabase({ url: `postgres://postgres@127.0.0.1:${port}/trade_webhooks`, poolMax: 2, logger: createLogger({ level: 'silent', name: 'knex' }) });
    onCleanup(() => silentDb.destroy());
    // Runs before the pool's destroy, which waits for the connection attempt the server is holding.
    onCleanup(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => resolve());
        }),
    );
    const logs = new CapturedLogs();
    const metrics = createProcessorMetrics();
    metrics.outboxUnsentRows.set(7);
    const reader = createFreshnessReader({
      kafka,
      db: silentDb,
      topic: topics.events,
      groupId: topics.group,
      metrics,
      logger: createLogger({ level: 'info', name: 'processor' }, logs),
      oldestHeld: () => undefined,
    });
    metrics.collectFreshnessWith(() => reader.collect());
    await reader.start();
    onCleanup(() => reader.stop());

    const started = Date.now();
    const text = await metrics.registry.metrics();
    expect(Date.now() - started).toBeLessThan(FRESHNESS_READ_CAP_MS + 1000);
    expect(samples(text, 'outbox_unsent_rows')).toEqual(new Map([['', 7]]));
    expect(samples(text, 'webhook_consumer_lag')).toEqual(new Map([[`{topic="${topics.events}",partition="0"}`, 0]]));
    expect(logs.messages()).toEqual(['Could not read the outbox backlog; its gauges keep their last values']);
  });

  it('stops within its disconnect bound while a read of a broker that stopped answering is in flight', async () => {
    const topics = await createTestTopics(1);
    const { db } = await migratedDatabase();
    // The seam: a proxy in front of the broker, stalled after a first read.
    const admin = await testAdmin();
    const proxy = await startKafkaProxy(admin, serviceEndpoints().kafkaBrokers);
    const proxied = new Kafka({ clientId: 'freshness-stop', brokers: serviceEndpoints().kafkaBrokers, socketFactory: proxy.socketFactory, logLevel: logLevel.NOTHING });
    const metrics = createProcessorMetrics();
    const reader = createFreshnessReader({ kafka: proxied, db, topic: topics.events, groupId: topics.group, metrics, logger: createLogger({ level: 'silent', name: 'processor' }), oldestHeld: () => undefined });
    await reader.start();
    await reader.collect();
    proxy.stall(true);
    onCleanup(() => proxy.stall(false));
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await reader.collect();

    const started = Date.now();
    await reader.stop();
    expect(Date.now() - started).toBeLessThan(FRESHNESS_DISCONNECT_MS + 500);
  });
});
