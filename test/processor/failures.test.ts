import type { Knex } from 'knex';
import type { Producer } from 'kafkajs';
import { createDatabase } from '../../processor/database';
import { createLogger } from '../../schemas/logger';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from '../support/cleanup';
import { envelopeFor, eventWriter } from '../support/events';
import { testAdmin } from '../support/kafka';
import { insertTrade, migratedDatabase, createTestTopics, startTestProcessor, testKafka } from '../support/processor';
import { startTcpProxy } from '../support/tcp-proxy';
import { readTopic } from '../support/topic-reader';
import { waitFor } from '../support/wait-for';

const kafka = testKafka();

async function buyTrades(db: Knex, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let index = 0; index < count; index += 1) ids.push((await insertTrade(db, { trade_type: 'buy', status: 'processing' })).id);
  return ids;
}

const completion = (id: number) => ({ key: String(id), envelope: envelopeFor('buy_completion', JSON.stringify({ trade_id: id, status: 'completed', transaction_hash: `0x${id}` })) });

async function countWhere(db: Knex, table: string, where: Record<string, unknown> = {}): Promise<number> {
  const [row] = await db(table).where(where).count<{ count: string }[]>('* as count');
  return Number(row!.count);
}

async function highWatermark(topic: string): Promise<number> {
  const offsets = await (await testAdmin()).fetchTopicOffsets(topic);
  return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
}

describe('processor: failures', () => {
  it('retries through a database outage mid-stream: nothing dead-lettered, nothing lost, nothing doubled', async () => {
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics();
    const ids = await buyTrades(db, 200);
    const target = new URL(serviceEndpoints().databaseUrl);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(target.toString());
    viaProxy.port = String(proxy.port);
    const processorDb = createDatabase({ url: viaProxy.toString(), schema, poolMax: 8, logger: createLogger({ level: 'silent', name: 'knex' }) });
    onCleanup(() => processorDb.destroy());
    const { metrics } = await startTestProcessor({ topics, db: processorDb, schema, env: { EVENTS_PER_TRANSACTION: '10' } });
    const write = await eventWriter(kafka, topics.events);

    await write.write(ids.slice(0, 100).map(completion));
    await waitFor('some events applied', async () => ((await countWhere(db, 'webhook_events')) > 0 ? true : undefined));
    proxy.cut();
    await write.write(ids.slice(100).map(completion));
    await new Promise((resolve) => setTimeout(resolve, 3000));
    proxy.restore();

    await waitFor('all 200 applied', async () => ((await countWhere(db, 'webhook_events', { outcome: 'applied' })) === 200 ? true : undefined), 60_000);
    expect(await countWhere(db, 'webhook_events')).toBe(200);
    expect(await countWhere(db, 'trades', { status: 'completed' })).toBe(200);
    expect(await countWhere(db, 'transactions')).toBe(200);
    expect(await countWhere(db, 'outbox')).toBe(200);
    await waitFor('every notification sent', async () => ((await countWhere(db, 'outbox', { sent_at: null })) === 0 ? true : undefined));
    expect(await highWatermark(topics.deadLetters)).toBe(0);
    expect(await metrics.registry.getSingleMetricAsString('webhook_processing_retries_total')).toMatch(/stage="apply"\} [1-9]/);
  });

  it('stays in its group through a transaction longer than the session timeout', async () => {
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics();
    const [id] = await buyTrades(db, 1);
    const { logs } = await startTestProcessor({ topics, db, schema });
    // The seam: a transaction of the test's own holds the trade's row lock past the 10 s session timeout.
    const holder = createDatabase({ url: serviceEndpoints().databaseUrl, schema, poolMax: 1, logger: createLogger({ level: 'silent', name: 'knex' }) });
    onCleanup(() => holder.destroy());
    const hold = await holder.transaction();
    await hold('trades').where({ id }).forUpdate();
    const { rows } = await hold.raw<{ rows: Array<{ pid: number }> }>('select pg_backend_pid() as pid');
    const write = await eventWriter(kafka, topics.events);
    await write.write([completion(id!)]);

    await waitFor('the processor waiting for the lock', async () => {
      const blocked = await db.raw<{ rows: Array<{ count: string }> }>('select count(*) from pg_stat_activity where ? = any(pg_blocking_pids(pid))', [rows[0]!.pid]);
      return Number(blocked.rows[0]!.count) > 0 ? true : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    await hold.rollback();

    const event = await waitFor('the event applied', () => db('webhook_events').where({ trade_id: id, outcome: 'applied' }).first());
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await db('webhook_events').where({ event_id: event.event_id }).first()).deliveries).toBe(1);
    expect(logs.messages().filter((message) => message.startsWith('Joined consumer group'))).toHaveLength(1);
  }, 60_000);

  it('publishes a notification committed before a crash exactly once, from the next instance', async () => {
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics();
    const ids = await buyTrades(db, 20);
    const real = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    // The seam: this instance commits its transactions but can never publish.
    const failing: Producer = {
      ...real,
      send: async () => {
        throw Object.assign(new Error('injected: broker unreachable'), { retriable: true });
      },
    };
    const first = await startTestProcessor({ topics, db, schema, producer: failing });
    const write = await eventWriter(kafka, topics.events);
    await write.write(ids.map(completion));
    await waitFor('20 applied', async () => ((await countWhere(db, 'webhook_events', { outcome: 'applied' })) === 20 ? true : undefined));
    await first.processor.stop();
    expect(await countWhere(db, 'outbox', { sent_at: null })).toBe(20);
    expect(await highWatermark(topics.notifications)).toBe(0);

    await startTestProcessor({ topics, db, schema });
    await waitFor('the outbox drained', async () => ((await countWhere(db, 'outbox', { sent_at: null })) === 0 ? true : undefined));
    const notifications = await readTopic(kafka, topics.notifications, { count: 20 });
    expect(notifications).toHaveLength(20);
    expect(new Set(notifications.map((message) => message.value.trade_id))).toEqual(new Set(ids));
  });

  it('applies every event exactly once with two instances in one group', async () => {
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics(6);
    const ids = await buyTrades(db, 300);
    await startTestProcessor({ topics, db, schema });
    await startTestProcessor({ topics, db, schema });
    const write = await eventWriter(kafka, topics.events);
    await write.write(ids.map(completion));

    await waitFor('300 applied', async () => ((await countWhere(db, 'webhook_events', { outcome: 'applied' })) === 300 ? true : undefined), 60_000);
    expect(await countWhere(db, 'webhook_events')).toBe(300);
    expect(await countWhere(db, 'transactions')).toBe(300);
    expect(await countWhere(db, 'outbox')).toBe(300);
    await waitFor('every notification sent', async () => ((await countWhere(db, 'outbox', { sent_at: null })) === 0 ? true : undefined));
    const notifications = await readTopic(kafka, topics.notifications, { count: 300 });
    expect(new Set(notifications.map((message) => message.value.event_id)).size).toBe(300);
  });
});
