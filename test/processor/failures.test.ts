import type { Knex } from 'knex';
import type { Producer } from 'kafkajs';
import { createDatabase } from '../../processor/database';
import { createLogger } from '../../platform/logger';
import { serviceEndpoints } from '../setup/service-endpoints';
import { onCleanup } from '../support/cleanup';
import { envelopeFor, eventWriter } from '../support/events';
import { testAdmin } from '../support/kafka';
import { insertTrade, migratedDatabase, createTestTopics, startTestProcessor, testKafka } from '../support/processor';
import { startTcpProxy } from '../support/tcp-proxy';
import { registryProxy } from '../support/registry-proxy';
import { readTopic } from '../support/topic-reader';
import { waitFor, withinDeadline } from '../support/wait-for';

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

/**
 * The seam for a programmer error: `db`, except that the first statement inside a transaction
 * that matches `statement` throws `error` instead of running.
 */
function failingOnce(db: Knex, statement: RegExp, error: Error): Knex & { readonly failed: () => boolean } {
  let failed = false;
  const failingRaw = (trx: Knex.Transaction) => (sql: string, ...rest: unknown[]) => {
    if (!failed && statement.test(sql)) {
      failed = true;
      throw error;
    }
    return (trx.raw as (...args: unknown[]) => unknown)(sql, ...rest);
  };
  return new Proxy(db, {
    get(target, property) {
      if (property === 'failed') return () => failed;
      if (property !== 'transaction') return Reflect.get(target, property);
      return (work: (trx: Knex.Transaction) => Promise<unknown>) =>
        target.transaction((trx) => work(new Proxy(trx, { get: (inner, name) => (name === 'raw' ? failingRaw(inner) : Reflect.get(inner, name)) })));
    },
  }) as Knex & { readonly failed: () => boolean };
}

/**
 * An HTTP proxy in front of the real registry whose lookups of a schema by id fail until
 * `heal()`: `forgotten`, as a registry restarted without its storage — the real registry answers
 * them as for an id it never issued (its own 404); `unauthorized`, as a registry whose
 * credentials were rotated — the proxy answers 401 as the registry would. Everything else
 * (registering the notification schema at start) goes through.
 */
async function faultyRegistry(fault: 'forgotten' | 'unauthorized'): Promise<{ url: string; faulted: () => number; heal: () => void }> {
  const lookup = /\/schemas\/ids\/\d+/;
  let healed = false;
  let faulted = 0;
  const { url } = await registryProxy((incoming, outgoing) => {
    const path = incoming.url ?? '/';
    if (healed || !lookup.test(path)) return path;
    faulted += 1;
    if (fault === 'forgotten') return path.replace(lookup, '/schemas/ids/2000000000');
    incoming.resume();
    outgoing.writeHead(401, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
    outgoing.end(JSON.stringify({ error_code: 40101, message: 'Unauthorized' }));
    return undefined;
  });
  return { url, faulted: () => faulted, heal: () => (healed = true) };
}

async function committedOffset(group: string, topic: string): Promise<string> {
  const [offsets] = await (await testAdmin()).fetchOffsets({ groupId: group, topics: [topic] });
  return offsets!.partitions[0]!.offset;
}

describe('processor: failures', () => {
  it('retries through a database outage mid-stream: nothing dead-lettered, nothing lost, nothing doubled', async () => {
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics();
    const ids = await buyTrades(db, 200);
    const target = new URL(serviceEndpoints().databaseUrl);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const viaProxy = new URL(target.toString());
    viaProxy.hostname = proxy.host;
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
    expect(logs.messages().filter((message) => message === 'Joined consumer group')).toHaveLength(1);
  }, 60_000);

  it('publishes a notification committed before a crash exactly once, from the next instance', async () => {
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics();
    const ids = await buyTrades(db, 20);
    // The seam: this instance commits its transactions but can never publish, with any producer.
    const failing = (): Producer => ({
      ...kafka.producer({ idempotent: true, maxInFlightRequests: 1 }),
      send: async () => {
        throw Object.assign(new Error('injected: broker unreachable'), { retriable: true });
      },
    });
    const first = await startTestProcessor({ topics, db, schema, createProducer: failing });
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

  it('a programmer error while applying stops the processor and dead-letters nothing', async () => {
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics(1);
    const [id] = await buyTrades(db, 1);
    const faulty = failingOnce(db, /insert into webhook_events/, new TypeError("Cannot read properties of undefined (reading 'trade_id')"));
    const first = await startTestProcessor({ topics, db: faulty, schema });
    await waitFor('the processor ready', async () => (first.processor.isReady() ? true : undefined));
    const write = await eventWriter(kafka, topics.events);
    await write.write([completion(id!)]);

    const failure = await withinDeadline('the processor stopping', first.processor.failed);
    expect(failure.code).toBe('programmer_error');
    expect(faulty.failed()).toBe(true);
    expect(first.processor.isReady()).toBe(false);
    expect(await first.metrics.registry.getSingleMetricAsString('webhook_processor_ready')).toMatch(/webhook_processor_ready 0/);
    const stops = first.logs.lines.filter((line) => line.msg === 'Stopping the processor: a failure it can neither retry nor dead-letter');
    expect(stops).toEqual([expect.objectContaining({ level: 50, code: 'programmer_error', err: expect.objectContaining({ type: 'TypeError' }) })]);
    expect(first.logs.lines.filter((line) => line.reason !== undefined)).toEqual([]);
    expect(await countWhere(db, 'webhook_events')).toBe(0);
    expect(await countWhere(db, 'outbox')).toBe(0);
    expect(await committedOffset(topics.group, topics.events)).toBe('-1');

    // The event was left as it was: the next instance of the group applies it.
    await startTestProcessor({ topics, db, schema });
    await waitFor('the event applied by the next instance', () => db('webhook_events').where({ trade_id: id, outcome: 'applied' }).first());
    expect((await db('trades').where({ id }).first()).status).toBe('completed');
    expect(await highWatermark(topics.deadLetters)).toBe(0);
  });

  it('an unknown schema id is retried until the registry knows it, never dead-lettered', async () => {
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics(1);
    const [id] = await buyTrades(db, 1);
    const registry = await faultyRegistry('forgotten');
    const { processor, logs } = await startTestProcessor({ topics, db, schema, env: { SCHEMA_REGISTRY_URL: registry.url } });
    await waitFor('the processor ready', async () => (processor.isReady() ? true : undefined));
    const write = await eventWriter(kafka, topics.events);
    await write.write([completion(id!)]);

    // The proxy counts a lookup when it answers; the processor logs it once the answer reaches it.
    const retriesLogged = () => logs.lines.filter((line) => line.code === 'schema_unknown').length;
    await waitFor('three failed lookups of the unknown schema, each logged', async () => (registry.faulted() >= 3 && retriesLogged() >= 3 ? true : undefined));
    expect(processor.isReady()).toBe(false);
    expect(await countWhere(db, 'webhook_events')).toBe(0);
    expect(logs.lines.filter((line) => line.level === 40 && line.code === 'schema_unknown')[0]).toEqual(
      expect.objectContaining({ msg: expect.stringContaining('retrying without committing'), stage: 'apply', err: expect.objectContaining({ status: 404 }) }),
    );

    registry.heal();
    await waitFor('the event applied once the registry knows its schema', () => db('webhook_events').where({ trade_id: id, outcome: 'applied' }).first());
    await waitFor('the processor ready again', async () => (processor.isReady() ? true : undefined));
    expect(await highWatermark(topics.deadLetters)).toBe(0);
  });

  it("the database refusing an event's data dead-letters it under the refusal's code, and its neighbours apply", async () => {
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics(1);
    const ids = await buyTrades(db, 3);
    // jsonb holds no \u0000: PostgreSQL refuses this metadata with SQLSTATE 22P05.
    const refused = { key: String(ids[1]), envelope: envelopeFor('trade_status', `{"trade_id":${ids[1]},"status":"completed","metadata":{"note":"\\u0000"}}`) };
    await startTestProcessor({ topics, db, schema });
    const write = await eventWriter(kafka, topics.events);
    await write.write([completion(ids[0]!), refused, completion(ids[2]!)]);

    await waitFor('three outcomes', async () => ((await countWhere(db, 'webhook_events')) === 3 ? true : undefined));
    expect(await countWhere(db, 'webhook_events', { outcome: 'applied' })).toBe(2);
    const row = await db('webhook_events').where({ event_id: refused.envelope.event_id }).first();
    expect(row.outcome).toBe('rejected');
    expect(row.reason.split(':')[0]).toBe('db_data_exception');
    const [dead] = await readTopic(kafka, topics.deadLetters, { count: 1, decode: false });
    expect(dead!.headers).toEqual(expect.objectContaining({ dlq_reason: 'db_data_exception', dlq_event_id: refused.envelope.event_id }));
    expect(dead!.headers.dlq_detail).toMatch(/^the database refused it \(SQLSTATE 22P05\): /);
  });

  it('a registry refusing our credentials keeps the event waiting, loudly, until it accepts them again', async () => {
    const { db, schema } = await migratedDatabase();
    const topics = await createTestTopics(1);
    const [id] = await buyTrades(db, 1);
    const registry = await faultyRegistry('unauthorized');
    const { processor, logs } = await startTestProcessor({ topics, db, schema, env: { SCHEMA_REGISTRY_URL: registry.url } });
    await waitFor('the processor ready', async () => (processor.isReady() ? true : undefined));
    const write = await eventWriter(kafka, topics.events);
    await write.write([completion(id!)]);

    const refusals = () => logs.lines.filter((line) => line.code === 'registry_unauthorized');
    await waitFor('three refused lookups, each logged', async () => (registry.faulted() >= 3 && refusals().length >= 3 ? true : undefined));
    expect(processor.isReady()).toBe(false);
    expect(await countWhere(db, 'webhook_events')).toBe(0);
    expect(refusals().every((line) => line.level === 50 && line.msg === 'Not transient: waiting for an operator to fix it; retrying without committing')).toBe(true);

    registry.heal();
    await waitFor('the event applied once the registry accepts us', () => db('webhook_events').where({ trade_id: id, outcome: 'applied' }).first());
    expect(await highWatermark(topics.deadLetters)).toBe(0);
  });
});
